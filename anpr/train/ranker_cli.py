"""``anpr train-ranker``: fit the learned candidate ranker and measure what it changes.

scene folders -> candidates and labels (`anpr.train.ranker.scene_examples`) -> grouped
cross-validation: how often the plate is among a photo's best-scored candidates, and
(``--cv-read``) every photo read end to end by the reader with a ranker that never saw
it, next to the reader without one -> fit on everything -> ``ranker.json`` and
``RANKER.md`` (data, command, figures, date).
"""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np

from ..errors import AnprError, MissingExtraError, require
from .ranker import DEFAULT_C

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("train-ranker")
@click.argument("scenes", nargs=-1, required=True, type=_DIR)
@click.option("--out", default="models", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for ranker.json and RANKER.md.")
@click.option("--c", "C", default=DEFAULT_C, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Inverse L2 regularization strength of the logistic regression.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2),
              help="Cross-validation folds (photos are split by a hash of their file name).")
@click.option("--cv-read/--no-cv-read", default=True, show_default=True,
              help="Also read every photo with and without its fold's ranker and compare.")
def train_ranker(scenes, out, C, folds, cv_read):
    """Fit the candidate ranker on labelled scene folders SCENES... (labels.csv: image,x,y,w,h,plate)."""
    try:
        require("sklearn", "train")
        _train_ranker(scenes, out, C, folds, cv_read)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _train_ranker(scenes, out, C, folds, cv_read):
    from ..benchmark import load_labels
    from . import ranker as R

    t0 = time.perf_counter()
    X, y, names, sets = [], [], [], []
    n_photos = sum(len(load_labels(d, crop=False)) for d in scenes)
    with click.progressbar(length=n_photos, label="proposing candidates", file=sys.stderr) as bar:
        for d in scenes:
            a, b, n = R.scene_examples(d, progress=bar.update)
            X.append(a)
            y.append(b)
            names.extend(n)
            sets.extend([d.name] * len(n))
    X, y, sets = np.concatenate(X), np.concatenate(y), np.asarray(sets)
    click.echo(f"{n_photos} photos, {len(y)} candidates, {int(y.sum())} on the labelled plate")

    oof = R.cross_validate(X, y, names, C=C, folds=folds)
    topk = {s: R.top_k_rates(oof[sets == s], y[sets == s], [n for n, t in zip(names, sets) if t == s])
            for s in dict.fromkeys(sets.tolist())}
    click.echo(f"plate among the k best candidates (grouped {folds}-fold cross-validation):")
    for s, v in topk.items():
        click.echo(f"  {s:<12} " + "  ".join(f"top-{k} {r:.3f}" for k, r in v.items()))

    reads = _cv_read(scenes, X, y, names, C, folds) if cv_read else {}
    for s, v in reads.items():
        click.echo(f"  {s:<12} read with fold ranker: " + _rates(v["ranker"]) + " | without: " + _rates(v["none"]))

    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command_line(scenes, out, C, folds, cv_read),
        "folders": [str(d) for d in scenes],
        "photos": n_photos,
        "candidates": int(len(y)),
        "positives": int(y.sum()),
        "C": C,
        "folds": folds,
        "cv_top_k": topk,
        "cv_read": reads,
    }
    ranker = R.fit(X, y, C=C, info=info)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ranker.json").write_text(json.dumps(ranker.to_json()) + "\n")
    (out / "RANKER.md").write_text(_card(info))
    click.echo(f"wrote {out / 'ranker.json'} and {out / 'RANKER.md'} in {time.perf_counter() - t0:.0f} s")


def _cv_read(scenes, X, y, names, C, folds) -> dict:
    """Per folder: benchmark rates of every photo read by its fold's ranker and by none."""
    from ..benchmark import label_box, load_labels, score_scene, summarize
    from ..reader import PlateReader
    from . import ranker as R

    fold = np.array([R.fold_of(n, folds) for n in names])
    without = PlateReader(ranker=False)
    with_r = [PlateReader(model=without.classifier, ranker=R.fit(X[fold != f], y[fold != f], C=C)) for f in range(folds)]
    out = {}
    total = sum(len(load_labels(d, crop=False)) for d in scenes)
    with click.progressbar(length=total, label="reading with fold rankers", file=sys.stderr) as bar:
        for d in scenes:
            rows = {"ranker": [], "none": []}
            for lab in load_labels(d, crop=False):
                path = d / lab["image"]
                box = label_box(lab)
                label = lab["plate"].strip().upper()
                for key, rd in (("ranker", with_r[R.fold_of(str(path), folds)]), ("none", without)):
                    t = time.perf_counter()
                    s = score_scene(rd.read(path), box, label)
                    s["ms"] = (time.perf_counter() - t) * 1000
                    rows[key].append(s)
                bar.update(1)
            out[d.name] = {k: {m: v[m] for m in ("n", "exact", "char_acc", "detection", "false_per_photo", "ms_median")}
                           for k, v in ((k, summarize(r)) for k, r in rows.items())}
    return out


def _rates(v: dict) -> str:
    return (f"exact {v['exact']:.3f} char {v['char_acc']:.3f} detection {v['detection']:.3f} "
            f"false/photo {v['false_per_photo']:.2f}")


def _command_line(scenes, out, C, folds, cv_read) -> str:
    parts = ["anpr", "train-ranker", *map(str, scenes), "--out", str(out), "--c", f"{C:g}",
             "--folds", str(folds), "--cv-read" if cv_read else "--no-cv-read"]
    return " ".join(shlex.quote(a) for a in parts)


def _card(info: dict) -> str:
    lines = [
        "# Candidate ranker `ranker.json`",
        "",
        "Logistic regression over 10 geometric features and a 1,188-value HOG of each plate",
        "candidate warped upright to 96x32 (`anpr.rank`). The reader keeps the `RANK_TOP`",
        "candidates it scores highest before the cheap score orders them (`anpr.reader`).",
        "",
        f"- date: {info['date']}",
        f"- command (from the repository root): `{info['command']}`",
        f"- data: {', '.join(info['folders'])}: {info['photos']} photos, {info['candidates']} candidates, "
        f"{info['positives']} on the labelled plate (a candidate is positive when the benchmark's detection "
        "rule matches it to the labelled box)",
        f"- C = {info['C']:g}; {info['folds']}-fold cross-validation grouped by photo (fold = hash of the file name)",
        "",
        "## Cross-validated figures (each photo scored by a ranker that never saw it)",
        "",
        "| folder | top-1 | top-2 | top-3 |",
        "| --- | ---: | ---: | ---: |",
    ]
    for s, v in info["cv_top_k"].items():
        lines.append(f"| {s} | " + " | ".join(f"{v[k]:.3f}" for k in sorted(v)) + " |")
    if info["cv_read"]:
        lines += ["", "End to end, `PlateReader` with the fold's ranker vs without a ranker:", "",
                  "| folder | exact | char acc | detection | false plates / photo |", "| --- | --- | --- | --- | --- |"]
        for s, v in info["cv_read"].items():
            a, b = v["ranker"], v["none"]
            lines.append(f"| {s} | {a['exact']:.3f} vs {b['exact']:.3f} | {a['char_acc']:.3f} vs {b['char_acc']:.3f} | "
                         f"{a['detection']:.3f} vs {b['detection']:.3f} | "
                         f"{a['false_per_photo']:.2f} vs {b['false_per_photo']:.2f} |")
    lines += ["", "## Limits", "",
              "- Fitted on the development scenes, so `anpr benchmark` on those same photos is optimistic;",
              "  the cross-validated figures above are the ones to expect on new photos of the same kind.",
              "- Data: OpenALPR benchmark photos (AGPL-3.0); not vendored in this repository.", ""]
    return "\n".join(lines)

"""``anpr train-verifier``: fit the plate verifier, choose the reporting thresholds,
measure both on the check part, and write ``verifier.onnx``, ``verifier.json`` and
``VERIFIER.md``.

labelled folders -> candidates labelled by overlap (`anpr.train.candidates`) -> fit
part (training share and a grouped validation share) -> CNN per seed, the seed with
the best validation average precision kept -> ONNX (parity-checked) -> thresholds of
best detection F-beta (`anpr.train.verifier.BETA`) on the validation photos, read end
to end -> check-part figures.
"""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from ..errors import AnprError, MissingExtraError, require

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("train-verifier")
@click.argument("folders", nargs=-1, required=True, type=_DIR)
@click.option("--out", default="models", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for verifier.onnx, verifier.json and VERIFIER.md.")
@click.option("--epochs", default=25, show_default=True, type=click.IntRange(min=1))
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Train this many seeds; keep the one with the best validation average precision.")
@click.option("--hard-share", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of each epoch's non-plates drawn from those the model last found most plate-like.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Processes proposing candidates.")
@click.option("--thresholds-only", is_flag=True,
              help="Keep --out's verifier.onnx and only choose its reporting thresholds again "
                   "(after a change to reading), rewriting verifier.json and VERIFIER.md.")
def train_verifier(folders, out, epochs, seeds, hard_share, workers, thresholds_only):
    """Fit the plate verifier on labelled photo FOLDERS... (scene folders with
    image,x,y,w,h,plate and boxes-only folders with image,x,y,w,h)."""
    try:
        if thresholds_only:
            _rechoose(folders, out)
            return
        require("keras", "train")
        _train(folders, out, epochs, seeds, hard_share, workers)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _train(folders, out, epochs, seeds, hard_share, workers):
    from ..verify import Verifier, to_input
    from . import candidates as C
    from . import verifier as V
    from .export import export_onnx

    t0 = time.perf_counter()
    n_photos = sum(len(C.labelled_photos(d)) for d in folders)
    with click.progressbar(length=n_photos, label="proposing candidates", file=sys.stderr) as bar:
        data = C.build(list(folders), workers=workers, progress=bar.update)
    for e in data["errors"]:
        click.echo(f"skipped {e}", err=True)
    photo = data["photo"]
    part = data["parts"][photo]
    val = np.array([V.val_of(k) for k in data["keys"]])[photo]
    y = data["y"]
    tr = (part == "fit") & ~val & (y >= 0)
    va = (part == "fit") & val & (y >= 0)
    ck = (part == "check") & (y >= 0)
    X = to_input(data["patches"])
    counts = {name: {"candidates": int(m.sum()), "plates": int((y[m] == 1).sum()),
                     "photos": int(len(np.unique(photo[m])))}
              for name, m in (("train", tr), ("val", va), ("check", ck))}
    click.echo(f"{n_photos} photos; " + "; ".join(f"{k}: {v['photos']} photos, {v['candidates']} candidates, "
                                                 f"{v['plates']} plates" for k, v in counts.items()))

    runs = []
    for seed in range(seeds):
        with click.progressbar(length=epochs, label=f"training seed {seed}", file=sys.stderr) as bar:
            res = V.fit(X[tr], y[tr], X[va], y[va], epochs=epochs, seed=seed, hard_share=hard_share,
                        progress=lambda *a: bar.update(1))
        ap = {name: V.average_precision(res.model.predict(X[m], batch_size=1024, verbose=0).ravel(), y[m])
              for name, m in (("val", va), ("check", ck))}
        click.echo(f"seed {seed}: average precision val {ap['val']:.3f}, check {ap['check']:.3f} "
                   f"({res.seconds:.0f} s)")
        runs.append((ap, seed, res))
    ap, seed, res = max(runs, key=lambda r: r[0]["val"])

    with tempfile.TemporaryDirectory() as tmp:
        onnx = Path(tmp) / "verifier.onnx"
        diff = export_onnx(res.model, onnx, check=X[va][:256], runner=lambda p: Verifier(p).backend.run)
        verifier = Verifier(onnx)
        thresholds, chosen, check = _thresholds(folders, verifier)
        info = {
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(shlex.quote(a) for a in ["anpr", "train-verifier", *map(str, folders), "--out",
                                                          str(out), "--epochs", str(epochs), "--seeds", str(seeds),
                                                          "--hard-share", f"{hard_share:g}"]),
            "folders": [str(d) for d in folders],
            "photos": n_photos,
            "counts": counts,
            "seeds": [{"seed": s, "ap_val": a["val"], "ap_check": a["check"]} for a, s, _ in runs],
            "seed": seed,
            "epochs": epochs,
            "hard_share": hard_share,
            "onnx_max_diff": diff,
            **_threshold_fields(thresholds, chosen, check),
            "seconds": round(time.perf_counter() - t0),
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / "verifier.onnx").write_bytes(onnx.read_bytes())
    (out / "verifier.json").write_text(json.dumps(info, indent=2) + "\n")
    (out / "VERIFIER.md").write_text(_card(info))
    _say(thresholds, chosen, check)
    click.echo(f"wrote {out / 'verifier.onnx'}, verifier.json and VERIFIER.md in {info['seconds']} s")


def _thresholds(folders, verifier) -> tuple[dict, dict, dict]:
    """Read the validation and check photos end to end with ``verifier``; the
    thresholds of best validation F-beta, their validation figures, and the check figures."""
    from ..split import part_of
    from . import candidates as C
    from . import verifier as V

    records: dict[str, list] = {"val": [], "check": []}
    share = {"check": "check", "fit": "val"}
    sel = [(ph, share[part_of(ph.key)]) for d in folders for ph in C.labelled_photos(d)
           if part_of(ph.key) == "check" or V.val_of(ph.key)]
    reader = _open_reader(verifier)
    with click.progressbar(sel, label="reading validation and check photos", file=sys.stderr) as bar:
        for ph, k in bar:
            try:
                records[k].append(V.photo_reads(ph, reader))
            except ValueError as exc:
                click.echo(f"skipped {ph.path}: {exc}", err=True)
    chosen = {**V.choose_thresholds(records["val"]), "reading_ap": V.reading_ap(records["val"])}
    thresholds = {k: chosen[k] for k in ("report_min", "best_report_min", "min_confidence", "min_best")}
    check = {**V.detection_scores(records["check"], thresholds), "reading_ap": V.reading_ap(records["check"])}
    return thresholds, chosen, check


def _rechoose(folders, out: Path) -> None:
    """`--thresholds-only`: new thresholds for the verifier already in ``out``."""
    from ..verify import Verifier

    t0 = time.perf_counter()
    path, meta = out / "verifier.onnx", out / "verifier.json"
    if not path.is_file() or not meta.is_file():
        raise ValueError(f"{out}: needs verifier.onnx and verifier.json for --thresholds-only")
    info = json.loads(meta.read_text(encoding="utf-8"))
    thresholds, chosen, check = _thresholds(folders, Verifier(path))
    info.update(_threshold_fields(thresholds, chosen, check))
    info["thresholds_date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["thresholds_command"] = " ".join(shlex.quote(a) for a in ["anpr", "train-verifier", *map(str, folders),
                                                                    "--out", str(out), "--thresholds-only"])
    info["thresholds_seconds"] = round(time.perf_counter() - t0)
    meta.write_text(json.dumps(info, indent=2) + "\n")
    (out / "VERIFIER.md").write_text(_card(info))
    _say(thresholds, chosen, check)
    click.echo(f"wrote {meta} and VERIFIER.md")


def _threshold_fields(thresholds: dict, chosen: dict, check: dict) -> dict:
    """What verifier.json records of a choice of thresholds (`_thresholds`)."""
    from .verifier import BETA

    val = {k: chosen[k] for k in ("f1", "f_beta", "recall", "precision", "false_per_photo", "reading_ap")}
    return {**thresholds, "beta": BETA, "val": val, "check": check}


def _say(thresholds: dict, chosen: dict, check: dict) -> None:
    from .verifier import BETA as b

    click.echo(f"thresholds: {thresholds} (best validation F{b:g} {chosen['f_beta']:.3f}); check: "
               f"F{b:g} {check['f_beta']:.3f}, F1 {check['f1']:.3f}, recall {check['recall']:.3f}, "
               f"precision {check['precision']:.3f}; reading AP validation {chosen['reading_ap']:.3f}, "
               f"check {check['reading_ap']:.3f}")


def _open_reader(verifier):
    from ..reader import PlateReader

    return PlateReader(verifier=verifier, min_confidence=0.0, min_best=None)


def _card(info: dict) -> str:
    c = info["counts"]
    lines = [
        "# Plate verifier `verifier.onnx`",
        "",
        "A small CNN (three strided 3x3 convolutions with batch norm and LeakyReLU, a dense",
        "head, sigmoid; `anpr.train.verifier.build_model`) that gives each candidate of the",
        "classical proposer a plate probability from a 96x32 gray context patch",
        "(`anpr.verify`). The reader keeps the most plate-like candidates for the cheap score",
        "to order and read, and reports a plate when its probability and the reading's",
        "confidence pass the thresholds in `verifier.json`. A reading's probability is the",
        "surest verdict on the candidates lying there and on its own outline (`PlateReader.readings`).",
        "",
        f"- date: {info['date']}",
        f"- command (from the repository root): `{info['command']}` ({info['seconds']} s on the machine it ran on)",
        f"- data: {', '.join(info['folders'])}: {info['photos']} photos. Split by a hash of the group",
        "  key (`anpr.split`: the plate text for scene photos, the file name otherwise) into fit",
        "  and check parts; the fit part again into training and validation shares (`val_of`).",
        f"  - training: {c['train']['photos']} photos, {c['train']['candidates']} candidates,"
        f" {c['train']['plates']} plates",
        f"  - validation: {c['val']['photos']} photos, {c['val']['candidates']} candidates,"
        f" {c['val']['plates']} plates",
        f"  - check: {c['check']['photos']} photos, {c['check']['candidates']} candidates,"
        f" {c['check']['plates']} plates",
        "- a candidate is a plate when its box overlaps a labelled one with IoU > 0.4 or is its",
        "  row of glyphs; not a plate when it touches none; in between it is left out",
        f"- {info['epochs']} epochs per seed, each drawing six non-plates per plate, {info['hard_share']:.0%} of them",
        "  from those the model last found most plate-like (hard negatives); seeds (average",
        "  precision of the candidates, validation / check):",
    ]
    for s in info["seeds"]:
        lines.append(f"  - seed {s['seed']}: {s['ap_val']:.3f} / {s['ap_check']:.3f}"
                     + ("  (kept: best validation)" if s["seed"] == info["seed"] else ""))
    v, k = info["val"], info["check"]
    lines += [
        f"- ONNX parity: max |Keras - ONNX| = {info['onnx_max_diff']:.1e}",
        "",
        f"## Thresholds (chosen on the validation photos: best detection F{info['beta']:g})",
        "",
        *([f"Chosen again on {info['thresholds_date']} for the reader of that day: "
           f"`{info['thresholds_command']}` ({info['thresholds_seconds']} s).", ""]
          if "thresholds_command" in info else []),
        "A photo's readings are ranked (`anpr.reader.final_readings`); the best one is reported when",
        f"its plate probability is at least {info['best_report_min']} and its reading confidence at least",
        f"{info['min_best']}; every other one needs {info['report_min']} and {info['min_confidence']}.",
        "",
        f"| photos | F{info['beta']:g} | F1 | recall | precision | false plates / photo | reading AP |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {name} | {x['f_beta']:.3f} | {x['f1']:.3f} | {x['recall']:.3f} | {x['precision']:.3f} | "
          f"{x['false_per_photo']:.2f} | {x['reading_ap']:.3f} |"
          for name, x in (("validation (thresholds chosen here)", v), ("check", k))),
        "",
        "Recall counts the plates of scene photos and the plates at least 40 px wide of the",
        "boxes-only photos; precision counts every reported plate. Reading AP is the average",
        "precision of the plate probabilities of every reading weighed (`anpr.train.verifier.reading_ap`):",
        "the figure to compare verifiers by, since reporting chooses among those readings.",
        "",
        "## Data and licences",
        "",
        "- `scenes/*`: OpenALPR benchmark photos (AGPL-3.0).",
        "- `detect/openimages`: Open Images plate boxes via Roboflow (CC BY 4.0; photos CC BY 2.0).",
        "- Neither is vendored in this repository; the model file is the only thing shipped.",
        "",
    ]
    return "\n".join(lines)

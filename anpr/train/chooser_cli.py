"""``anpr train-chooser``: fit the reading chooser and write its weights and card."""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

import click

from ..errors import AnprError, MissingExtraError


@click.command("train-chooser")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", default=Path("models"), show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--c", "c", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Inverse regularization strength of the logistic regression.")
def train_chooser(folders, out, c):
    """Fit the chooser (anpr.choose) on the fit part of plate FOLDERS (labels.csv:
    image,plate); writes chooser.json and CHOOSER.md into --out and prints, per folder
    and part, how often the kept reading is right before and after."""
    try:
        _run(folders, out, c)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _run(folders, out: Path, c: float) -> None:
    from ..choose import FEATURES, MODEL_NAME, Chooser
    from .chooser import accuracy, collect, fit, regions_of
    from .datasets import read_plate_labels

    t0 = time.perf_counter()
    command = " ".join(shlex.quote(a)
                       for a in ["anpr", "train-chooser", *map(str, folders), "--out", str(out), "--c", f"{c:g}"])
    plates = []
    for folder in folders:
        n = len(read_plate_labels(folder))
        for region in regions_of(folder):
            label = f"reading {folder}" + (f" for {region}" if region else "")
            with click.progressbar(length=n, label=label, file=sys.stderr) as bar:
                plates += collect(folder, region, bar.update)
    train = [p for p in plates if p.part == "fit"]
    weights, bias = fit(train, c)
    chooser = Chooser(weights, bias)
    rows = []
    for source in dict.fromkeys(p.source for p in plates):
        for part in ("fit", "check"):
            ps = [p for p in plates if p.source == source and p.part == part]
            if ps:
                rows.append({"source": source, "part": part, "plates": len(ps),
                             "most_confident": accuracy(ps), "chooser": accuracy(ps, chooser)})
    info = {
        "features": list(FEATURES), "weights": [float(w) for w in weights], "bias": bias, "c": c,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": command,
        "folders": [str(f) for f in folders], "hypotheses": int(sum(len(p.texts) for p in train)),
        "plates": len(train), "results": rows, "seconds": round(time.perf_counter() - t0),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_NAME).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    (out / "CHOOSER.md").write_text(_card(info), encoding="utf-8")
    for r in rows:
        click.echo(f"{r['source']:<16} {r['part']:<5} {r['plates']:5d} plates: right {r['most_confident']:.1%} "
                   f"(most confident) -> {r['chooser']:.1%} (chooser)")
    click.echo(f"wrote {out / MODEL_NAME} and {out / 'CHOOSER.md'} ({info['seconds']} s)")


def _card(info: dict) -> str:
    lines = [
        "# Reading chooser `chooser.json`",
        "",
        "A logistic regression (`anpr.choose`) that scores each reading hypothesis of a plate",
        "(segmentations by connected components and by the glyph finder, with end glyphs and",
        "pictures left out) from the features below; `anpr.recognize.recognize_plate` keeps the",
        "best-scoring one instead of the most confident.",
        "",
        f"- date: {info['date']}",
        f"- command (from the repository root): `{info['command']}` ({info['seconds']} s)",
        f"- data: the fit part (`anpr.split`, by plate text) of {', '.join(info['folders'])}; each",
        "  folder read without a region and, for a strict region's folder (br, ar), also for",
        f"  that region: {info['plates']} plates, {info['hypotheses']} hypotheses. A hypothesis is",
        "  right when its text is the label, O and 0 merged.",
        f"- regularization C = {info['c']:g}; a linear model has no seed to vary.",
        "",
        "| feature | weight |",
        "| --- | ---: |",
        *[f"| {n} | {w:+.3f} |" for n, w in zip(info["features"], info["weights"])],
        f"| (bias) | {info['bias']:+.3f} |",
        "",
        "## How often the kept reading is right",
        "",
        "Before `anpr.decode.settle_layout` (which then settles O/0 and other look-alikes by",
        "real layouts; `anpr benchmark --crop` figures are after it), over the plates read",
        "with two hypotheses or more (with one there is nothing to choose).",
        "",
        "| plates | part | n | most confident | chooser |",
        "| --- | --- | ---: | ---: | ---: |",
        *[f"| {r['source']} | {r['part']} | {r['plates']} | {r['most_confident']:.1%} | {r['chooser']:.1%} |"
          for r in info["results"]],
        "",
        "## Data and licences",
        "",
        "- The plate folders come from OpenALPR's benchmark and train-ocr repositories",
        "  (AGPL-3.0) and fast-plate-ocr's benchmark crops (MIT); `../shared/data/README.md`",
        "  says which.",
        "- None of the data is vendored; the weights are the only thing shipped.",
        "",
    ]
    return "\n".join(lines)

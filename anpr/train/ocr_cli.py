"""``anpr train-ocr``: train the whole-plate reader and write its model, settings and card."""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np

from ..errors import AnprError, MissingExtraError

VAL_SALT = "ocr-val:"
VAL_PERCENT = 5
"""Share of the real plates (by a hash of the text) kept out of training to pick the best epoch."""


@click.command("train-ocr")
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", default=Path("models"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where plate_ocr.onnx, plate_ocr.json and PLATE_OCR.md go; checkpoints go to OUT/ocr-work.")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Blank US plates for the synthetic US plates (../shared/data/templates/us).")
@click.option("--synthetic", default=30000, show_default=True, type=click.IntRange(min=0),
              help="Synthetic plates to draw (many countries, anpr.train.wholeplate).")
@click.option("--copies", default=2, show_default=True, type=click.IntRange(min=0),
              help="Jittered copies of each real plate besides the plate itself.")
@click.option("--holdout", type=click.IntRange(min=0), default=None,
              help="Leave the real plates of this cross-validation fold out (grouped by plate text).")
@click.option("--folds", default=2, show_default=True, type=click.IntRange(min=2))
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--resume", is_flag=True, help="Go on from OUT/ocr-work's last checkpoint.")
def train_ocr(folders, out, templates, synthetic, copies, holdout, folds, epochs, seed, resume):
    """Train the whole-plate reader on plate FOLDERS (labels.csv: image,plate) and scene
    folders (image,x,y,w,h,plate), fit part only, and synthetic plates of many countries;
    writes plate_ocr.onnx, plate_ocr.json and PLATE_OCR.md into --out."""
    try:
        from .cli import library_versions, quiet_tensorflow

        quiet_tensorflow()
        if holdout is not None and holdout >= folds:
            raise ValueError(f"--holdout must be below --folds ({folds}), got {holdout}")
        _run(folders, out, templates, synthetic, copies, holdout, folds, epochs, seed, resume, library_versions)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _run(folders, out, templates, synthetic, copies, holdout, folds, epochs, seed, resume, versions):
    from ..classify import open_onnx
    from ..plate_ocr import MODEL_NAME
    from ..split import hash_percent
    from .datasets import read_plate_labels
    from .export import export_onnx
    from .ocr import OcrSet, fit, real_set, synthetic_set, with_softmax

    t0 = time.perf_counter()
    command = " ".join(shlex.quote(a) for a in ["anpr", "train-ocr", *map(str, folders), "--out", str(out)]
                       + (["--templates", str(templates)] if templates else [])
                       + ["--synthetic", str(synthetic), "--copies", str(copies)]
                       + (["--holdout", str(holdout), "--folds", str(folds)] if holdout is not None else [])
                       + ["--epochs", str(epochs), "--seed", str(seed)])
    n_real = sum(len(read_plate_labels(f, part="fit")) for f in folders)
    with click.progressbar(length=n_real, label="cutting real plates", file=sys.stderr) as bar:
        real, counts = real_set(folders, copies=copies, holdout=holdout, folds=folds, seed=seed, progress=bar.update)
    with click.progressbar(length=synthetic, label="drawing synthetic plates", file=sys.stderr) as bar:
        synth = synthetic_set(synthetic, seed=seed, templates=templates, progress=bar.update)
    train, val = OcrSet(), OcrSet()
    for data, is_val in ((real, lambda i: hash_percent(real.texts[i], VAL_SALT) < VAL_PERCENT),
                         (synth, lambda i: i % 30 == 0)):
        for i in range(len(data)):
            target = val if is_val(i) else train
            target.x.append(data.x[i])
            target.texts.append(data.texts[i])
            target.sources.append(data.sources[i])
    if len(train) < 50 or len(val) < 10:
        raise ValueError(f"too little data: {len(train)} training and {len(val)} validation plates")
    click.echo(f"{len(train)} training examples ({len(real)} real with copies, {len(synth)} synthetic), "
               f"{len(val)} validation", err=True)
    work = out / "ocr-work"
    state = fit(train, val, work, epochs=epochs, seed=seed, resume=resume,
                log=lambda s: click.echo(s, err=True))
    import keras

    best = keras.saving.load_model(work / "ocr_best.keras", compile=False)
    probs = with_softmax(best)
    x_va, _ = val.arrays()
    diff = export_onnx(probs, out / MODEL_NAME, check=np.ascontiguousarray(x_va[:64]),
                       runner=lambda p: open_onnx(Path(p), 1).run)
    info = {
        "command": command,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "examples": {"train": len(train), "validation": len(val), "synthetic": len(synth),
                     "real_plates": counts, "copies": copies},
        "holdout": None if holdout is None else {"fold": holdout, "folds": folds},
        "epochs": state["epoch"], "best_val_loss": state["best"], "history": state["history"],
        "onnx_max_abs_diff": diff,
        "minutes": round((time.perf_counter() - t0) / 60, 1),
    }
    (out / "plate_ocr.json").write_text(json.dumps(info, indent=1))
    (out / "PLATE_OCR.md").write_text(model_card(info))
    click.echo(f"wrote {out / MODEL_NAME} (best val_loss {state['best']:.3f}, ONNX parity {diff:.1e})", err=True)


def model_card(info: dict) -> str:
    """``PLATE_OCR.md`` from the model's ``plate_ocr.json``: data and licences, counts,
    command and figures of the training run. Figures measured after training (what the
    reader gains) belong in docs/experiments.md and the README."""
    v = ", ".join(f"{k} {x}" for k, x in info.get("versions", {}).items())
    ex = info["examples"]
    real = ", ".join(f"`{k}` {n}" for k, n in ex["real_plates"].items())
    hold = info.get("holdout")
    held = (f"Real plates of fold {hold['fold']} of {hold['folds']} (`anpr.train.ocr.fold_of`, by plate text) "
            "were left out, so that `scripts/ocr_cv.py` reads them as plates it never saw." if hold else
            "Every real fit plate was used.")
    hist = "\n".join(f"| {h['epoch']} | {h['loss']:.3f} | {h['val_loss']:.3f} |" for h in info.get("history", []))
    return f"""# Whole-plate reader `plate_ocr.onnx`

A small CNN with a CTC output (`anpr.plate_ocr`): a plate crop resized to 40x160 gray ->
for each of 40 columns, probabilities over a blank and 35 characters (`0-9A-Z`, the
letter O read as the digit 0). `anpr.read_whole` keeps its reading when it is sure,
checked glyph by glyph by the character CNN; otherwise the plate is segmented.

## How it was trained

- date: {info['date']}; {v}
- command (from the repository root): `{info['command']}`
- time: {info['minutes']} min for the whole command on this machine (2 CPU cores)
- data: {ex['synthetic']} synthetic plates of 18 styles drawn by `anpr.train.wholeplate` (blank US state
  plates of `../shared/data/templates/us`; fonts vendored in `anpr/train/fonts/` with their licences:
  roadgeek-fonts FHWA Series B-E, MIT; OSP-DIN, OFL; Roboto Condensed Bold, Apache-2.0; DejaVu Sans
  Condensed Bold, Bitstream Vera licence; Bebas Neue, OFL-1.1), and the *fit* part (`anpr.split`) of
  the labelled folders (OpenALPR benchmarks, AGPL-3.0): {real} plates, each also in {ex['copies']}
  jittered copies. {held}
- examples: {ex['train']} training, {ex['validation']} validation (5% of the real plates by a hash of the
  text, every 30th synthetic one); the epoch with the best validation CTC loss is kept
  ({info['best_val_loss']:.3f}, of {info['epochs']} epochs)
- max |Keras - ONNX| on validation inputs: {info['onnx_max_abs_diff']:.1e}

| epoch | loss | val_loss |
| ---: | ---: | ---: |
{hist}

What it reads on real plates it never saw, and what the reader gains with it, are in
docs/experiments.md (2026-12-08) and the README.
"""

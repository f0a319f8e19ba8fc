"""``anpr train-platemap``: train the plate map and write its model, settings and card.

boxed photo folders, fit part (`anpr.split`) -> training and validation photos
(`anpr.train.platemap.is_val`) -> examples cut at random scales with plates pasted and
lettering drawn in (`anpr.train.platemap.make_example`), drawn afresh each epoch ->
CNN, checkpointed each epoch (``--resume`` goes on from it) -> the epoch of best
validation F2 kept -> threshold of best F2 on the validation photos -> ONNX
(parity-checked) -> check-part figures.
"""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import AnprError, MissingExtraError

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("train-platemap")
@click.argument("folders", nargs=-1, required=True, type=_DIR)
@click.option("--plates", "plate_folders", multiple=True, type=_DIR,
              help="Plate crop folders (labels.csv: image,plate) whose fit crops are pasted into photos.")
@click.option("--templates", type=_DIR, default=None,
              help="Blank US plates for the synthetic plates (../shared/data/templates/us).")
@click.option("--synthetic", default=1500, show_default=True, type=click.IntRange(min=0),
              help="Synthetic plates drawn for pasting.")
@click.option("--out", default=Path("models"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for platemap.onnx, platemap.json and PLATEMAP.md.")
@click.option("--epochs", default=30, show_default=True, type=click.IntRange(min=1))
@click.option("--examples", default=2048, show_default=True, type=click.IntRange(min=16),
              help="Examples drawn per epoch.")
@click.option("--minutes", default=55.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Stop training after the epoch that passes this many minutes.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--resume", is_flag=True, help="Go on from the checkpoint in --out (same command otherwise).")
def train_platemap(folders, plate_folders, templates, synthetic, out, epochs, examples, minutes, seed, resume):
    """Train the plate map on boxed photo FOLDERS... (labels.csv: image,x,y,w,h[,plate]),
    fit part only; writes platemap.onnx, platemap.json and PLATEMAP.md into --out."""
    try:
        from ..errors import require
        from .cli import quiet_tensorflow

        require("keras", "train")
        quiet_tensorflow()
        _train(folders, plate_folders, templates, synthetic, out, epochs, examples, minutes, seed, resume)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _checkpoint_paths(out: Path) -> tuple[Path, Path, Path]:
    return out / ".platemap-last.weights.h5", out / ".platemap-best.weights.h5", out / ".platemap-state.json"


def _train(folders, plate_folders, templates, synthetic, out, epochs, examples, minutes, seed, resume):
    import keras

    from ..platemap import INPUT, MODEL_NAME, PlateMap
    from . import platemap as P
    from .export import export_onnx
    from .plates import load_templates

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    last_ckpt, best_ckpt, state_path = _checkpoint_paths(out)
    n_rows = sum(1 for d in folders for _ in open(Path(d) / "labels.csv", encoding="utf-8")) - len(folders)
    with click.progressbar(length=max(1, n_rows), label="loading fit photos", file=sys.stderr) as bar:
        photos = P.load_photos(folders, "fit", bar.update)
    train = [p for p in photos if not P.is_val(p.key)]
    val = [p for p in photos if P.is_val(p.key)]
    if not train or not val:
        raise ValueError("too few fit photos to hold some out for validation")
    pool = P.plate_pool(plate_folders, synthetic, seed, load_templates(templates) if templates else None)
    counts = {"train": len(train), "val": len(val), "train_boxes": int(sum(len(p.boxes) for p in train)),
              "val_boxes": int(sum(len(p.boxes) for p in val)), "pasted_pool": len(pool),
              "per_folder": {s: sum(p.source == s for p in photos) for s in dict.fromkeys(p.source for p in photos)}}
    click.echo(f"fit photos: {counts['train']} training ({counts['train_boxes']} plates), {counts['val']} "
               f"validation ({counts['val_boxes']} plates); {len(pool)} plates to paste")

    keras.utils.set_random_seed(seed)
    model = P.build_model()
    steps = max(1, examples // 32)
    sched = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=epochs * steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss=P.loss_fn)
    state: dict[str, Any] = {"epoch": 0, "best": None, "history": []}
    if resume and state_path.is_file() and last_ckpt.is_file():
        state = json.loads(state_path.read_text())
        model.load_weights(last_ckpt)
        # The optimizer's step decides the learning rate; go on where it stopped.
        model.optimizer.iterations.assign(state["epoch"] * steps)
        click.echo(f"resuming after epoch {state['epoch']}")
    rng = np.random.default_rng(seed + 1000 * state["epoch"])
    t_train = time.perf_counter()
    for epoch in range(state["epoch"] + 1, epochs + 1):
        x, y = P.make_batch(train, steps * 32, rng, pool)
        hist = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        heats = P.predict_heats(model, val)
        r = P.evaluate(heats, val, 0.5)
        r["f2"] = 5 * r["precision"] * r["recall_wide"] / max(1e-9, 4 * r["precision"] + r["recall_wide"])
        r.update(epoch=epoch, loss=float(hist.history["loss"][-1]), minutes=(time.perf_counter() - t0) / 60)
        state["history"].append(r)
        click.echo(f"epoch {epoch}: loss {r['loss']:.4f}; validation at 0.5: recall (>= 40 px) "
                   f"{r['recall_wide']:.3f}, precision {r['precision']:.3f}, {r['candidates_per_photo']:.2f} "
                   f"candidates/photo ({r['minutes']:.1f} min)")
        if state["best"] is None or r["f2"] > state["best"]["f2"]:
            state["best"] = r
            model.save_weights(best_ckpt)
        model.save_weights(last_ckpt)
        state["epoch"] = epoch
        state_path.write_text(json.dumps(state, indent=1))
        if (time.perf_counter() - t_train) / 60 >= minutes:
            click.echo(f"stopping after epoch {epoch}: {minutes:g} minutes passed")
            break

    model.load_weights(best_ckpt)
    fixed = P.build_model(INPUT)
    fixed.set_weights(model.get_weights())
    heats = P.predict_heats(fixed, val)
    threshold, chosen = P.choose_threshold(heats, val)
    click.echo(f"threshold {threshold}: validation recall (>= 40 px) {chosen['recall_wide']:.3f}, precision "
               f"{chosen['precision']:.3f}, {chosen['candidates_per_photo']:.2f} candidates/photo")
    check = P.load_photos(folders, "check")
    from ..platemap import to_input

    probe = np.concatenate([to_input(p.gray)[0] for p in val[:8]])
    onnx_path = out / MODEL_NAME
    diff = export_onnx(fixed, onnx_path, check=probe, runner=lambda p: PlateMap(p).backend.run)
    check_r = P.evaluate(P.predict_heats(fixed, check), check, threshold)
    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(shlex.quote(a) for a in (
            ["anpr", "train-platemap", *map(str, folders)] + [v for d in plate_folders for v in ("--plates", str(d))]
            + (["--templates", str(templates)] if templates else [])
            + ["--synthetic", str(synthetic), "--out", str(out), "--epochs", str(epochs), "--examples",
               str(examples), "--minutes", f"{minutes:g}", "--seed", str(seed)])),
        "folders": [str(d) for d in folders],
        "plate_folders": [str(d) for d in plate_folders],
        "counts": counts,
        "epochs_run": state["epoch"],
        "best_epoch": state["best"]["epoch"],
        "history": state["history"],
        "threshold": threshold,
        "val": chosen,
        "check": check_r,
        "check_photos": len(check),
        "onnx_max_diff": diff,
        "seconds": round(time.perf_counter() - t0),
    }
    (out / "platemap.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (out / "PLATEMAP.md").write_text(card(info), encoding="utf-8")
    click.echo(f"wrote {onnx_path}, platemap.json and PLATEMAP.md ({info['seconds']} s)")


def card(info: dict) -> str:
    """The model card of a trained plate map, from its ``platemap.json``."""
    c, v, k = info["counts"], info["val"], info["check"]
    lines = [
        "# Plate map (`platemap.onnx`)",
        "",
        "A small fully convolutional CNN over the photo fitted into 384 x 384 (gray) that says,",
        "per 4 x 4 pixel cell, how likely a plate lies there (`anpr.platemap`). Its thresholded",
        "blobs' minimum-area rectangles are plate candidates for the verifier and the reader.",
        "",
        f"- date: {info['date']}",
        f"- command (from the repository root): `{info['command']}` ({info['seconds']} s on the machine it ran on)",
        f"- data: the fit part (`anpr.split`) of {', '.join(info['folders'])}; per folder: "
        + ", ".join(f"{s} {n}" for s, n in c["per_folder"].items()) + " photos",
        f"  - training: {c['train']} photos, {c['train_boxes']} plate boxes; validation (a grouped share of fit):"
        f" {c['val']} photos, {c['val_boxes']} boxes",
        f"  - pasted in perspective into half the examples: {c['pasted_pool']} plates (synthetic US and European"
        " plates drawn by `anpr.train.plates`, and fit crops of "
        + (", ".join(info["plate_folders"]) or "no plate folder") + ")",
        "  - lettering that is no plate (state names, shop and car words, random letters) drawn into a third",
        "- licences: Open Images boxes CC BY 4.0 (photos CC BY 2.0), OpenALPR benchmark scenes and plates",
        "  AGPL-3.0, dashcam frames MIT, US phone photos MIT, fonts as in `anpr/train/fonts`",
        f"- {info['epochs_run']} epochs run, epoch {info['best_epoch']} kept (best validation F2 at 0.5);"
        f" ONNX parity max |Keras - ONNX| = {info['onnx_max_diff']:.1e}",
        "",
        f"## Candidates at the threshold {info['threshold']} (chosen on validation: best F2)",
        "",
        "A labelled plate is found when a candidate's box overlaps it with IoU > 0.4; recall counts",
        "plates at least 40 px wide, precision every candidate (unboxed plates of dashcam and",
        "phone photos count as false).",
        "",
        "| photos | recall (>= 40 px) | precision | candidates / photo |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {r['recall_wide']:.3f} | {r['precision']:.3f} | {r['candidates_per_photo']:.2f} |"
          for name, r in ((f"validation ({c['val']})", v), (f"check ({info['check_photos']})", k))),
        "",
        "Per epoch (validation at 0.5): "
        + "; ".join(f"{h['epoch']}: {h['recall_wide']:.3f}/{h['precision']:.3f}" for h in info["history"]),
        "",
    ]
    return "\n".join(lines)

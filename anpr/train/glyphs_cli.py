"""``anpr train-glyphs``: train the glyph finder and write its model, settings and card."""

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


@click.command("train-glyphs")
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", default=Path("models"), show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Blank US plates for the synthetic plates (../shared/data/templates/us).")
@click.option("--synthetic", default=6000, show_default=True, type=click.IntRange(min=0),
              help="Synthetic plates to draw.")
@click.option("--eu-share", default=0.3, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the synthetic plates drawn European.")
@click.option("--south-share", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the synthetic plates drawn Argentine (white on black, framed) or Mercosur.")
@click.option("--scenes", "scenes", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Scene folder (image,x,y,w,h,plate) whose fit photos are labelled by the reader itself: each "
                   "crop it reads where a hypothesis spells the label, with that hypothesis' boxes (repeatable).")
@click.option("--epochs", default=15, show_default=True, type=click.IntRange(min=1))
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1))
def train_glyphs(folders, out, templates, synthetic, eu_share, south_share, scenes, epochs, seeds):
    """Train the glyph finder on plate FOLDERS (labels.csv: image,plate) or scene folders
    (image,x,y,w,h,plate), fit part only, the scene folders of --scenes as the reader crops
    them, and synthetic plates; writes glyphs.onnx, glyphs.json and GLYPHS.md into --out."""
    try:
        from .cli import library_versions, quiet_tensorflow

        quiet_tensorflow()
        _run(folders, out, templates, synthetic, eu_share, south_share, epochs, seeds, library_versions, scenes)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _run(folders, out, templates, synthetic, eu_share, south_share, epochs, seeds, versions, scenes=()):
    from ..classify import open_onnx
    from ..glyphs import MODEL_NAME
    from .datasets import plate_source, read_plate_labels, segmented_plates
    from .export import export_onnx
    from .glyphs import GlyphSet, add_reader_crops, add_real, add_synthetic, choose_threshold, evaluate, fit, is_val
    from .plates import load_templates

    t_start = time.perf_counter()
    command = " ".join(shlex.quote(a) for a in ["anpr", "train-glyphs", *map(str, folders), "--out", str(out)]
                       + (["--templates", str(templates)] if templates else [])
                       + ["--synthetic", str(synthetic), "--eu-share", str(eu_share)]
                       + (["--south-share", str(south_share)] if south_share else [])
                       + [a for f in scenes for a in ("--scenes", str(f))]
                       + ["--epochs", str(epochs),
                          "--seeds", str(seeds)])
    rng = np.random.default_rng(0)
    data, stats = GlyphSet(), {}
    for folder in folders:
        n = len(read_plate_labels(folder, part="fit"))
        with click.progressbar(length=n, label=f"labelling {folder}", file=sys.stderr) as bar:
            stats[plate_source(folder)] = add_real(data, folder, rng, bar.update)
    if scenes:
        from ..reader import PlateReader

        reader = PlateReader()  # the shipped models label: the crops they read, the boxes that read right
        for folder in scenes:
            n = len(read_plate_labels(folder, part="fit"))
            with click.progressbar(length=n, label=f"reading {folder}", file=sys.stderr) as bar:
                stats[plate_source(folder) + "/reader"] = add_reader_crops(data, folder, reader, rng, bar.update)
    if synthetic:
        with click.progressbar(length=synthetic, label="drawing synthetic plates", file=sys.stderr) as bar:
            add_synthetic(data, synthetic, 0, load_templates(templates), bar.update, eu_share, south_share)
    if len(data) < 20:
        raise ValueError(f"only {len(data)} examples; give plate folders or --synthetic")
    va = [i for i, g in enumerate(data.groups) if is_val(g)]
    tr = [i for i, g in enumerate(data.groups) if not is_val(g)]
    if not va:
        raise ValueError("no validation plates: give at least one real plate folder")
    x_tr, y_tr = data.arrays(tr)
    x_va, y_va = data.arrays(va)
    click.echo(f"{len(tr)} training / {len(va)} validation examples "
               f"({sum(s.startswith('synthetic') for s in data.sources)} synthetic); {stats}")

    runs = []
    for seed in range(seeds):
        with click.progressbar(length=epochs, label=f"seed {seed}", file=sys.stderr) as bar:
            model, hist, secs, best_epoch = fit(x_tr, y_tr, x_va, y_va, epochs=epochs, seed=seed,
                                                on_epoch=lambda e, logs: bar.update(1))
        outputs = model.predict(x_va, verbose=0, batch_size=256)
        th, res = choose_threshold(outputs, data, va)
        click.echo(f"seed {seed}: {secs:.0f} s, best epoch {best_epoch}, validation plates exact "
                   f"{res['exact']:.3f} (box recall {res['box_recall']:.3f}) at threshold {th}")
        runs.append({"seed": seed, "seconds": round(secs, 1), "best_epoch": best_epoch, "threshold": th,
                     "val": res, "model": model})
    best = max(runs, key=lambda r: r["val"]["exact"])
    model = best["model"]
    path = out / MODEL_NAME
    diff = export_onnx(model, path, check=x_va[:256],
                       runner=lambda p: (lambda x: open_onnx(Path(p)).run(np.ascontiguousarray(x))))
    click.echo(f"wrote {path} (seed {best['seed']}, max |keras - onnx| = {diff:.1e})")

    # The check part: real plates no one fitted on, labelled the same automatic way.
    check = GlyphSet()
    check_stats = {}
    for folder in folders:
        n = kept = 0
        for _, img, text, boxes in segmented_plates(folder, part="check"):
            n += 1
            if boxes is not None:
                kept += 1
                check.add(img, boxes, f"check:{text}", plate_source(folder))
        check_stats[plate_source(folder)] = {"plates": n, "kept": kept}
    check_res = {}
    if len(check):
        outs = model.predict(check.arrays()[0], verbose=0, batch_size=256)
        for src in sorted(set(check.sources)):
            idx = [i for i, s in enumerate(check.sources) if s == src]
            check_res[src] = evaluate(outs[idx], check, idx, best["threshold"])
    info = {
        "threshold": best["threshold"],
        "command": command,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "examples": {"train": len(tr), "validation": len(va), "synthetic_plates": synthetic, "real": stats},
        "real_sources": [plate_source(f) for f in folders],
        "reader_sources": [plate_source(f) for f in scenes],
        "seeds": [{k: v for k, v in r.items() if k != "model"} for r in runs],
        "chosen_seed": best["seed"],
        "onnx_parity_max_abs": diff,
        "check": {"labelled": check_stats, "results": check_res},
        "seconds_total": round(time.perf_counter() - t_start, 1),
    }
    (out / "glyphs.json").write_text(json.dumps(info, indent=1) + "\n")
    (out / "GLYPHS.md").write_text(_card(info))
    click.echo(f"check (auto-labelled real plates): {json.dumps(check_res)}")
    click.echo(f"wrote {out / 'glyphs.json'} and {out / 'GLYPHS.md'}; total {info['seconds_total']:.0f} s")


def _card(info: dict) -> str:
    lines = [
        "# Glyph finder `glyphs.onnx`",
        "",
        "A fully convolutional CNN over a rectified plate resized to 48x144 gray (`anpr.glyphs`): per",
        "column of 4 pixels, the probability that a serial glyph's centre lies there and that glyph's box",
        "(centre offset, width, top, bottom). Peaks at or above the threshold are glyphs. Its boxes are one",
        "more segmentation hypothesis for `anpr.recognize`.",
        "",
        "## How it was trained",
        "",
        f"- date: {info['date']}; {', '.join(f'{k} {v}' for k, v in info['versions'].items())}",
        f"- command (from the repository root): `{info['command']}`",
        f"- time: {info['seconds_total'] / 60:.1f} min for the whole command on this machine",
        "- data: synthetic US and European plates drawn by `anpr.train.plates` (blank state plates of "
        "`../shared/data/templates/us`; fonts: roadgeek-fonts, MIT, and OSP-DIN, OFL, vendored in "
        "`anpr/train/fonts/`), and the *fit* part (`anpr.split`) of the labelled folders "
        f"({', '.join(f'`{s}`' for s in info['real_sources'])}: OpenALPR benchmarks, AGPL-3.0; scene plates "
        "cut out at their labelled boxes), labelled automatically with the "
        "connected-component segmenter's boxes where it found exactly as many glyphs as the label has, "
        "each in 2 copies cut with different margins."
        + (f" The scene folders {', '.join(f'`{s}`' for s in info['reader_sources'])} (fit photos) as the reader "
           "crops them: every crop the shipped models read where a hypothesis spells the label, boxed by that "
           "hypothesis (`anpr.train.glyphs.reader_crops`), 2 copies each." if info.get("reader_sources") else ""),
        f"- examples: {info['examples']['train']} training, {info['examples']['validation']} validation "
        f"(real plates held out by a hash of the plate text); real plates: {info['examples']['real']}",
        "- seeds: " + "; ".join(
            f"{r['seed']}: validation exact {r['val']['exact']:.3f}, box recall {r['val']['box_recall']:.3f}, "
            f"threshold {r['threshold']}, best epoch {r['best_epoch']}" for r in info["seeds"]),
        f"- kept: seed {info['chosen_seed']} (best validation exact); threshold {info['threshold']} "
        f"(best validation exact); max |Keras - ONNX| {info['onnx_parity_max_abs']:.1e}",
        "",
        "## Check part (real plates no one fitted on, labelled the same way)",
        "",
        "| set | plates labelled | all glyphs found, nothing else | box recall |",
        "| --- | ---: | ---: | ---: |",
    ]
    for src, r in info["check"]["results"].items():
        lab = info["check"]["labelled"].get(src, {})
        lines.append(f"| {src} | {lab.get('kept', '?')} of {lab.get('plates', '?')} | {r['exact']:.3f} | "
                     f"{r['box_recall']:.3f} |")
    lines += ["", "These are the plates the connected-component segmenter already cuts right; what the reader",
              "gains on all plates is in the closing figures of `anpr benchmark` (README).", ""]
    return "\n".join(lines)

"""``anpr train-calibration``: fit the confidence calibration and write it with its card."""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

import click

from ..errors import AnprError, MissingExtraError


@click.command("train-calibration")
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", default=Path("models"), show_default=True, type=click.Path(file_okay=False, path_type=Path))
def train_calibration(sources, out):
    """Fit the confidence calibration (anpr.calibrate) on the fit part of labelled
    SOURCES: folders of photos (labels.csv: image,x,y,w,h,plate) or of plate crops
    (image,plate), each FOLDER or FOLDER:REGION to read it for a region. Chooses the
    regularization and the threshold for 99% exact by 5-fold cross-validation grouped
    by plate; writes calibration.json and CALIBRATION.md into --out."""
    try:
        _run(sources, out)
    except (MissingExtraError, AnprError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def _run(sources, out: Path) -> None:
    import numpy as np

    from ..benchmark import load_labels, reliability, risk_coverage
    from ..calibrate import FEATURES, MODEL_NAME
    from .calibration import (
        C_GRID,
        TARGET,
        collect,
        cross_validate,
        fit,
        folder_weights,
        is_crop_folder,
        log_loss,
        parse_source,
        threshold_for,
    )

    t0 = time.perf_counter()
    command = " ".join(shlex.quote(a) for a in ["anpr", "train-calibration", *sources, "--out", str(out)])
    specs = [parse_source(s) for s in sources]
    for folder, _ in specs:
        if not (folder / "labels.csv").is_file():
            raise ValueError(f"{folder}: no labels.csv")
    sets = []
    for folder, region in specs:
        n = len(load_labels(folder, is_crop_folder(folder), "fit"))
        label = f"reading {folder}" + (f" for {region}" if region else "")
        with click.progressbar(length=n, label=label, file=sys.stderr) as bar:
            sets.append(collect(folder, region, "fit", bar.update))
    x = np.concatenate([s.x for s in sets])
    y = np.concatenate([s.exact for s in sets])
    w = folder_weights(sets)
    groups = [g for s in sets for g in s.groups]
    held_out = {c: cross_validate(x, y, w, groups, c) for c in C_GRID}
    losses = {c: log_loss(p, y, w) for c, p in held_out.items()}
    c = min(C_GRID, key=lambda k: losses[k])
    p = held_out[c]
    t99 = threshold_for(p, y, w, TARGET)
    weights, bias = fit(x, y, w, c)
    rows, start = [], 0
    for s in sets:
        ps, ys = p[start : start + len(s.exact)], y[start : start + len(s.exact)]
        start += len(s.exact)
        rel = reliability(ps, ys)
        at = risk_coverage(ps, ys, s.items, [t99] if t99 is not None else [])
        rows.append({"source": s.source, "items": s.items, "readings": int(len(ys)), "exact": float(ys.mean()),
                     "mean_confidence": float(ps.mean()), "ece": rel["ece"],
                     "kept_at_99": at[0]["kept"] if at else None, "exact_at_99": at[0]["exact"] if at else None,
                     "plates_read_at_99": at[0]["plates_read"] if at else None})
    info = {
        "features": list(FEATURES), "weights": [float(v) for v in weights], "bias": bias, "c": c,
        "threshold_99": t99, "cv_log_loss": {f"{k:g}": round(v, 5) for k, v in losses.items()},
        "cv_ece": reliability(p, y)["ece"], "results": rows,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": command,
        "sources": list(sources), "readings": int(len(y)), "seconds": round(time.perf_counter() - t0),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_NAME).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    (out / "CALIBRATION.md").write_text(_card(info), encoding="utf-8")
    for r in rows:
        click.echo(f"{r['source']:<32} {r['readings']:5d} readings: exact {r['exact']:.1%}, mean confidence "
                   f"{r['mean_confidence']:.1%}, ECE {r['ece']:.3f}")
    click.echo(f"C = {c:g}; threshold for {TARGET:.0%} exact: {t99}")
    click.echo(f"wrote {out / MODEL_NAME} and {out / 'CALIBRATION.md'} ({info['seconds']} s)")


def _pct(v) -> str:
    return "-" if v is None or v != v else f"{v:.1%}"


def _card(info: dict) -> str:
    t99 = info["threshold_99"]
    lines = [
        "# Confidence calibration `calibration.json`",
        "",
        "A logistic regression (`anpr.calibrate`) that turns a reported reading into the",
        "probability that its text is exactly the plate's (O and 0 counted alike):",
        "`PlateReader.report` and `read_crop` set each plate's `confidence` from it and keep",
        "the reading's own score as `score`.",
        "",
        f"- date: {info['date']}",
        f"- command (from the repository root): `{info['command']}` ({info['seconds']} s)",
        f"- data: the fit part (`anpr.split`, by plate text) of {', '.join(info['sources'])}:",
        f"  {info['readings']} reported readings (a photo's readings off its labelled plate box",
        "  count as wrong). Each folder weighs alike.",
        f"- regularization C = {info['c']:g}, chosen among {', '.join(info['cv_log_loss'])} by the",
        f"  5-fold cross-validated log loss (grouped by plate): {info['cv_log_loss']}. A linear",
        "  model has no seed to vary.",
        f"- threshold for 99% exact (cross-validated, folders weighed alike): **{t99}**",
        f"- expected calibration error (cross-validated, all readings): {info['cv_ece']:.3f}",
        "",
        "| feature | weight |",
        "| --- | ---: |",
        *[f"| {n} | {w:+.3f} |" for n, w in zip(info["features"], info["weights"])],
        f"| (bias) | {info['bias']:+.3f} |",
        "",
        "## Cross-validated figures on the fit part",
        "",
        "Each reading's probability comes from the model fitted on the other four folds.",
        f"Kept, exact and read are at the threshold {t99}: the share of readings kept, the",
        "share of those exactly right, and the share of the labelled plates read exactly",
        "and kept.",
        "",
        "| source | items | readings | exact | mean confidence | ECE | kept | exact kept | plates read |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {r['source']} | {r['items']} | {r['readings']} | {r['exact']:.1%} | {r['mean_confidence']:.1%} | "
          f"{r['ece']:.3f} | {_pct(r['kept_at_99'])} | {_pct(r['exact_at_99'])} | {_pct(r['plates_read_at_99'])} |"
          for r in info["results"]],
        "",
        "## Data and licences",
        "",
        "- The folders come from OpenALPR's benchmark and train-ocr repositories (AGPL-3.0) and",
        "  fast-plate-ocr's benchmark crops (MIT); `../shared/data/README.md` says which.",
        "- None of the data is vendored; the weights are the only thing shipped.",
        "",
    ]
    return "\n".join(lines)

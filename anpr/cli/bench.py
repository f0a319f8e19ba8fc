"""``anpr benchmark DIR...``: accuracy (default) or speed (``--speed``) on labelled folders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._common import (
    EXIT_OK,
    REGIONS,
    crop_option,
    errors_to_exit,
    model_option,
    quiet_opencv,
    reader_kwargs,
    stage_kwargs,
    stage_options,
    verbose_option,
)


@click.command("benchmark")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False), metavar="DIR...")
@crop_option
@click.option(
    "--region",
    type=click.Choice((*REGIONS, "auto"), case_sensitive=False),
    default=None,
    help="Plate format to expect; auto: from each folder's name (us/eu/br/ar).",
)
@model_option
@stage_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write reports into this folder.")
@click.option("--speed", is_flag=True, help="Measure speed instead of accuracy.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="With --speed: time only the first N photos.")
@click.option("--part", type=click.Choice(("all", "fit", "check")), default="all", show_default=True,
              help="Score only this part of each folder's fit/check split (anpr.split).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress on stderr.")
@verbose_option
def benchmark(
    dirs: tuple[str, ...],
    crop: bool,
    region: str | None,
    model: str | None,
    verifier: str | None,
    glyphs: str | None,
    ocr: str | None,
    out_dir: str | None,
    speed: bool,
    limit: int | None,
    part: str,
    progress: bool,
    verbose: bool,
) -> None:
    """Score reading on labelled folders (the ../shared/data layout).

    DIR is a scenes folder (labels.csv: image,x,y,w,h,plate), a boxes-only folder
    (image,x,y,w,h, one row per plate: scored for detection) or, with --crop, a
    plates folder (labels.csv: image,plate,region). Prints a summary; --out also
    writes the detailed reports there (results.csv, summary.json, failures.png;
    detections.csv and detections.png for boxes-only folders).
    --speed times reading instead (see anpr.speed) and --out then gets speed.json.
    --model, --verifier, --glyphs and --ocr score other model files against the shipped ones.
    """
    paths = [Path(d) for d in dirs]
    stages = stage_kwargs(verifier, glyphs, ocr)
    with errors_to_exit(verbose, model):
        quiet_opencv(verbose)
        bar = _Progress(progress)
        try:
            if speed:
                from ..speed import format_speed, run_speed

                fixed = None if region and region.lower() == "auto" else region
                summary = run_speed(
                    paths, limit=limit, reader_kwargs=reader_kwargs(model, fixed, verifier, glyphs, ocr), progress=bar
                )
                text = format_speed(summary)
                if out_dir:
                    _write_json(Path(out_dir) / "speed.json", summary)
            else:
                from ..benchmark import (
                    folder_kind,
                    format_detection,
                    format_summary,
                    load_labels,
                    run_benchmark,
                    run_detection,
                )

                sel = None if part == "all" else part
                for d in paths:  # a folder of the wrong kind is a usage error, said before any work
                    try:
                        load_labels(d, crop)
                    except ValueError as exc:
                        raise click.UsageError(str(exc)) from None
                detect = [d for d in paths if folder_kind(d, crop) == "detect"]
                read = [d for d in paths if d not in detect]
                texts = []
                if read:
                    summary = run_benchmark(
                        read,
                        crop=crop,
                        region=region.lower() if region else None,
                        out_dir=Path(out_dir) / "read" if out_dir and detect else out_dir,
                        progress=bar,
                        model=model,
                        part=sel,
                        reader_options=stages,
                    )
                    texts.append(format_summary(summary))
                if detect:
                    bar.reset()
                    det = run_detection(detect, out_dir=Path(out_dir) / "detect" if out_dir and read else out_dir,
                                        progress=bar, model=model, part=sel, reader_options=stages)
                    texts.append(format_detection(det))
                text = "\n\n".join(texts)
        finally:
            bar.close()
        click.echo(text)
    raise SystemExit(EXIT_OK)


class _Progress:
    """``progress(done, total)`` callback drawing a click progress bar on stderr."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="benchmark", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def reset(self) -> None:
        """Start a new bar for the next run."""
        self.close()
        self.done = 0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _write_json(path: Path, summary: dict) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")

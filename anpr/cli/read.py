"""``anpr read-plate IMAGE...``: read the plates in a few photos."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    crop_option,
    display,
    echo_err,
    errors_to_exit,
    max_pixels,
    max_pixels_option,
    model_option,
    quiet_opencv,
    reader_kwargs,
    reason,
    region_option,
    verbose_option,
)

STDIN = "-"
"""The IMAGE argument that stands for standard input."""


@click.command("read-plate")
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image per line.")
@crop_option
@region_option
@model_option
@click.option(
    "--annotate",
    type=click.Path(file_okay=False),
    default=None,
    help="Write a copy of each photo with the plates drawn into this folder.",
)
@click.option(
    "--debug",
    "debug_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write an image of every pipeline stage into DIR/<photo>/.",
)
@max_pixels_option
@verbose_option
def read_plate(
    images: tuple[str, ...],
    as_json: bool,
    crop: bool,
    region: str | None,
    model: str | None,
    annotate: str | None,
    debug_dir: str | None,
    max_megapixels: float,
    verbose: bool,
) -> None:
    """Read the number plates in IMAGE... .

    Prints one line per image: ``path: TEXT  (0.97)`` (several plates
    comma-separated) or ``path: no plate found``. IMAGE ``-`` reads one image
    from standard input. An image that cannot be read gets
    ``path: error: <reason>`` on stderr, the others are still read, and the exit code
    is 1. With --json, stdout gets one object per image:
    {"image", "width", "height", "plates", "time_ms", "error"}.
    """
    failed = False
    with errors_to_exit(verbose, model):
        quiet_opencv(verbose)
        from ..reader import PlateReader

        reader = PlateReader(**reader_kwargs(model, region))
        limit = max_pixels(max_megapixels)
        used_names: set[str] = set()
        for path in images:
            record, image, plates, stages = _read_one(
                reader, path, crop, limit, debug_dir is not None and not crop, verbose
            )
            if record["error"]:
                failed = True
                echo_err(f"{path}: error: {reason(record['error'], path)}")
            if as_json:
                from ..records import record_json

                click.echo(record_json(record))
            elif not record["error"]:
                click.echo(display(format_line(record)))
            if image is None:
                continue
            name = _unique_name(path, used_names)
            if annotate and not _write_annotated(Path(annotate), name, image, plates):
                failed = True
            if debug_dir and stages and not _write_debug(Path(debug_dir), name, stages):
                failed = True
    raise SystemExit(EXIT_FAILED if failed else EXIT_OK)


def format_line(record: dict) -> str:
    """The human line for a record without error.

    >>> format_line({"image": "a.jpg", "plates": [{"text": "AB12", "confidence": 0.973}]})
    'a.jpg: AB12  (0.97)'
    >>> format_line({"image": "c.jpg", "plates": [{"text": "ABC1234", "confidence": 0.9,
    ...              "format": {"region": "br", "pattern": "LLLNNNN"}}]})
    'c.jpg: ABC1234  (0.90, br format)'
    >>> format_line({"image": "b.jpg", "plates": []})
    'b.jpg: no plate found'
    """
    plates = record["plates"]
    if not plates:
        return f"{record['image']}: no plate found"
    return f"{record['image']}: " + ", ".join(_plate_words(p) for p in plates)


def _plate_words(plate: dict) -> str:
    fmt = plate.get("format")
    return f"{plate['text']}  ({plate['confidence']:.2f}{', ' + fmt['region'] + ' format' if fmt else ''})"


def _read_one(
    reader: Any, path: str, crop: bool, limit: int, debug: bool, verbose: bool
) -> tuple[dict, Any, list, dict]:
    """(record, loaded image or None, Plate objects, debug stages) for one path."""
    from ..errors import AnprError
    from ..images import load_image
    from ..records import FATAL_ERRORS, make_record, plate_dict, unexpected_message

    t0 = time.perf_counter()
    image = None
    stages: dict[str, Any] = {}
    try:
        # "-" reads one encoded image from standard input (a camera's snapshot piped in).
        source = sys.stdin.buffer.read() if path == STDIN else path
        image = load_image(source, max_pixels=limit, name=path)
        if crop:
            plates = reader.read_crop(image)
        elif debug:
            plates = reader.read(image, debug=stages)
        else:
            plates = reader.read(image)
        record = make_record(
            path, int(image.shape[1]), int(image.shape[0]), [plate_dict(p) for p in plates], t0
        )
    except FATAL_ERRORS:
        raise
    except AnprError as exc:
        return make_record(path, None, None, [], t0, error=" ".join(str(exc).split())), None, [], {}
    except Exception as exc:  # noqa: BLE001 - keep going with the other images
        if verbose:
            import traceback

            click.echo(traceback.format_exc().rstrip(), err=True)
        return make_record(path, None, None, [], t0, error=unexpected_message(path, exc)), None, [], {}
    return record, image, list(plates), stages


def _unique_name(path: str, used: set[str]) -> str:
    stem = "stdin" if path == STDIN else Path(path).stem or "image"
    name, n = stem, 1
    while name in used:
        name = f"{stem}-{n}"
        n += 1
    used.add(name)
    return name


def _imwrite(path: Path, image: Any) -> None:
    import cv2

    ok, buf = cv2.imencode(path.suffix, image)
    if not ok:
        raise OSError(f"cannot encode {path.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf.tofile(os.fspath(path))  # tofile, not cv2.imwrite: non-ASCII paths


def _write_annotated(folder: Path, name: str, image: Any, plates: list) -> bool:
    target = folder / f"{name}.jpg"
    try:
        from ..draw import annotate

        _imwrite(target, annotate(image, plates))
        return True
    except Exception as exc:  # noqa: BLE001 - one output failing is one line
        echo_err(f"{target}: error: could not write the annotated copy ({exc})")
        return False


def _write_debug(folder: Path, name: str, stages: dict) -> bool:
    from ..images import to_bgr_uint8

    ok = True
    for i, (stage, img) in enumerate(stages.items()):
        if not hasattr(img, "dtype"):  # a stage may record numbers, not a picture
            continue
        # keep the pipeline's own numbering when it has one; else number by order
        label = _safe(stage) if str(stage)[:1].isdigit() else f"{i:02d}-{_safe(stage)}"
        target = folder / name / f"{label}.png"
        try:
            _imwrite(target, to_bgr_uint8(img, max_pixels=10**9, name=stage))
        except Exception as exc:  # noqa: BLE001
            echo_err(f"{target}: error: could not write the debug image ({exc})")
            ok = False
    return ok


def _safe(stage: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(stage))[:60] or "stage"

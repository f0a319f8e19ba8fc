"""What the reading commands share: options, one-line errors, exit codes.

Exit codes: 0 when every input was read (a photo without a plate counts as read),
1 when some input could not be read or the command failed, 2 for usage errors
(click's own), 130 when interrupted.

A user never sees a traceback: `errors_to_exit` turns every exception into one line on
stderr (``error: ...``); ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

REGIONS = tuple(sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "regions").glob("*.json")))
"""Region keys with a format file in ``anpr/regions`` (as `anpr.decode.available_regions`,
without importing NumPy on the CLI's start-up path)."""

DEFAULT_MAX_MEGAPIXELS = 60.0  # = anpr.images.DEFAULT_MAX_PIXELS / 1e6, without importing numpy


def region_option(f: Callable) -> Callable:
    return click.option(
        "--region",
        type=click.Choice(REGIONS, case_sensitive=False),
        default=None,
        help="Plate formats to expect (anpr/regions/<key>.json); default: any.",
    )(f)


def model_option(f: Callable) -> Callable:
    return click.option(
        "--model",
        type=click.Path(dir_okay=False),
        default=None,
        help="Character model (.onnx) to use instead of the shipped one.",
    )(f)


def stage_options(f: Callable) -> Callable:
    """``--verifier``, ``--glyphs`` and ``--ocr``: the learned stages' model files (`side_model`)."""
    f = click.option(
        "--ocr", type=str, default=None, metavar="PATH|none",
        help="Whole-plate reader (.onnx) to use instead of the shipped one; none: segment every plate.",
    )(f)
    f = click.option(
        "--glyphs", type=str, default=None, metavar="PATH|none",
        help="Glyph finder (.onnx) to use instead of the shipped one; none: the connected-component "
             "segmenter alone.",
    )(f)
    return click.option(
        "--verifier", type=str, default=None, metavar="PATH|none",
        help="Plate verifier (.onnx, its thresholds from the .json beside it) to use instead of the "
             "shipped one; none: the cheap score alone ranks candidates, with the default thresholds.",
    )(f)


def side_model(value: str | None) -> str | bool | None:
    """A ``--verifier``/``--glyphs`` value as ``PlateReader`` takes it: None for the
    shipped model, False for ``none``, else the path.

    >>> side_model(None), side_model("none"), side_model("m/v.onnx")
    (None, False, 'm/v.onnx')
    """
    if value is None:
        return None
    return False if value.lower() == "none" else value


def crop_option(f: Callable) -> Callable:
    return click.option("--crop", is_flag=True, help="Each image is already a tight plate crop.")(f)


def max_pixels_option(f: Callable) -> Callable:
    return click.option(
        "--max-megapixels",
        type=click.FloatRange(min=0.001),
        default=DEFAULT_MAX_MEGAPIXELS,
        show_default=True,
        help="Refuse images larger than this (checked before decoding).",
    )(f)


def verbose_option(f: Callable) -> Callable:
    return click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")(f)


def stage_kwargs(verifier: str | None, glyphs: str | None, ocr: str | None = None) -> dict[str, Any]:
    """``PlateReader`` keyword arguments of the `stage_options` given (those not given
    are left out, so the reader's defaults hold)."""
    return {k: side_model(v) for k, v in (("verifier", verifier), ("glyphs", glyphs), ("ocr", ocr)) if v is not None}


def reader_kwargs(model: str | None, region: str | None, verifier: str | None = None,
                  glyphs: str | None = None, ocr: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``PlateReader`` from the common options."""
    return {"model": model, "region": region.lower() if region else None, **stage_kwargs(verifier, glyphs, ocr)}


def display(text: str) -> str:
    """``text`` safe to print: file names that are not valid UTF-8 get U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def reason(message: str, name: str) -> str:
    """An error message without its leading ``"<name>: "`` (the CLI prints the name)."""
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def echo_err(message: str) -> None:
    """One line on stderr."""
    click.echo(display(" ".join(message.split())), err=True)


def quiet_opencv(verbose: bool) -> None:
    """Keep codec chatter ("Corrupt JPEG data", OpenCV log lines) off the terminal.

    Each bad file already gets its own one-line error; --verbose keeps the chatter.
    """
    if verbose:
        return
    from ..images import QUIET_ENV

    os.environ[QUIET_ENV] = "1"  # inherited by batch worker processes
    # FFmpeg inside OpenCV ("moov atom not found"...): read when a video is opened.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except Exception:  # noqa: BLE001 - purely cosmetic
        pass


def model_message(exc: BaseException, model: str | None) -> str:
    """A ModelError's message, telling how to get back to the default model."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    if model and "default" not in msg:
        msg += "; leave out --model to use the shipped default model"
    return msg


@contextlib.contextmanager
def errors_to_exit(verbose: bool, model: str | None = None) -> Iterator[None]:
    """Turn any exception from the block into one stderr line and exit code 1.

    click's own exits (usage errors: 2) pass through untouched.
    """
    from ..errors import AnprError, ModelError

    try:
        yield
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except KeyboardInterrupt:
        echo_err("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # `anpr read-plate *.jpg | head`: the reader of our output left; stop quietly
        # (and keep Python from complaining again when it flushes stdout at exit)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        sys.exit(EXIT_FAILED)
    except ModelError as exc:
        _traceback(verbose)
        echo_err(f"error: {model_message(exc, model)}")
        sys.exit(EXIT_FAILED)
    except (AnprError, OSError) as exc:
        _traceback(verbose)
        echo_err(f"error: {exc}")
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        _traceback(verbose)
        hint = "" if verbose else "; run with --verbose for the traceback"
        echo_err(f"error: internal error ({type(exc).__name__}: {exc}){hint}")
        sys.exit(EXIT_FAILED)


def _traceback(verbose: bool) -> None:
    if verbose:
        import traceback

        click.echo(traceback.format_exc().rstrip(), err=True)


def max_pixels(megapixels: float) -> int:
    return max(1, int(round(megapixels * 1e6)))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)

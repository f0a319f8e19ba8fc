"""The result record of one image: what ``anpr read-plate --json``, ``anpr batch``
and the Dask workers (`anpr.distributed`) all write.

A record is ``{"image", "width", "height", "plates", "time_ms", "error"}``; a bad image
gives a record with ``error`` set, never an exception.

>>> import numpy as np
>>> class Stub:
...     def read(self, image): return []
>>> rec = read_record(Stub(), np.zeros((4, 6, 3), np.uint8), "frame-1")
>>> rec["image"], rec["width"], rec["height"], rec["plates"], rec["error"]
('frame-1', 6, 4, [], None)
>>> read_record(Stub(), b"junk", "upload.jpg")["error"]
'upload.jpg: not an image (unrecognised content)'
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from .errors import AnprError, MissingExtraError, ModelError
from .images import DEFAULT_MAX_PIXELS, load_image

FATAL_ERRORS = (ModelError, MissingExtraError)
"""Errors that no other image would escape either: they stop a batch instead of being
written into every record."""


def read_record(
    reader: Any,
    source: Any,
    name: str | None = None,
    *,
    crop: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    debug: dict | None = None,
    raise_unexpected: bool = False,
) -> dict[str, Any]:
    """Read one image into a result record; failures become the record's ``error``.

    Parameters
    ----------
    reader : PlateReader
        Anything with ``.read(image)`` (and ``.read_crop(image)`` when ``crop``),
        returning objects with ``.to_dict()``.
    source : str, Path, bytes or ndarray
        The image (see `anpr.images.load_image`).
    name : str, optional
        The record's ``"image"`` value; defaults to ``str(source)`` for paths.
    crop : bool
        The image is already a tight plate crop (``reader.read_crop``).
    max_pixels : int
        Refuse bigger images (see `anpr.images.load_image`).
    debug : dict, optional
        Passed to ``reader.read`` to collect pipeline stage images.
    raise_unexpected : bool
        Re-raise errors that are not `AnprError` (bugs) instead of recording them.

    Returns
    -------
    dict
        ``{"image", "width", "height", "plates", "time_ms", "error"}``; ``width`` and
        ``height`` are None and ``plates`` empty when ``error`` is set.

    Raises
    ------
    ModelError, MissingExtraError
        These concern every image alike, so they are not recorded per image.
    """
    if name is None:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<image>"
        name = os.fsdecode(name) if isinstance(name, bytes) else name
    t0 = time.perf_counter()
    width = height = None
    try:
        image = load_image(source, max_pixels=max_pixels, name=name)
        height, width = int(image.shape[0]), int(image.shape[1])
        if crop:
            plates = reader.read_crop(image)
        elif debug is not None:
            plates = reader.read(image, debug=debug)
        else:
            plates = reader.read(image)
        record = make_record(name, width, height, [plate_dict(p) for p in plates], t0)
    except FATAL_ERRORS:
        raise
    except AnprError as exc:
        record = make_record(name, None, None, [], t0, error=_one_line(str(exc)) or type(exc).__name__)
    except Exception as exc:  # a bug in the pipeline: keep going, say what happened
        if raise_unexpected:
            raise
        record = make_record(name, None, None, [], t0, error=unexpected_message(name, exc))
    return record


def make_record(
    name: str,
    width: int | None,
    height: int | None,
    plates: list[dict],
    t0: float | None = None,
    *,
    error: str | None = None,
    time_ms: float | None = None,
) -> dict[str, Any]:
    """Assemble a record in its canonical key order (see `read_record`)."""
    if time_ms is None:
        time_ms = (time.perf_counter() - t0) * 1e3 if t0 is not None else 0.0
    return {
        "image": name,
        "width": width,
        "height": height,
        "plates": plates,
        "time_ms": round(float(time_ms), 1),
        "error": error,
    }


def unexpected_message(name: str, exc: BaseException) -> str:
    """One-line message for an exception anpr did not raise on purpose."""
    if isinstance(exc, MemoryError):
        return f"{name}: out of memory while reading this image"
    detail = _one_line(str(exc))
    return f"{name}: internal error ({type(exc).__name__}{': ' + detail if detail else ''})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def plate_dict(plate: Any) -> dict:
    """A plate (`anpr.reader.Plate` or a dict) as a JSON-ready dict of Python values."""
    d = plate.to_dict() if hasattr(plate, "to_dict") else dict(plate)
    return json.loads(json.dumps(d, default=json_default))  # numpy scalars -> Python


def json_default(obj: Any) -> Any:
    """``json.dumps`` ``default=``: numpy scalars and arrays as Python values."""
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def record_json(record: dict) -> str:
    """The record as one line of JSON (no newline).

    Non-ASCII stays readable; a file name that is not valid UTF-8 (possible on Linux)
    falls back to ``\\u`` escapes, which still round-trip.

    >>> record_json({"image": "côté.jpg", "plates": []})
    '{"image": "côté.jpg", "plates": []}'
    """
    text = json.dumps(record, ensure_ascii=False, default=json_default)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True, default=json_default)
    return text


def crash_record(path: str) -> dict:
    """The record of an image whose worker process died while reading it."""
    return make_record(path, None, None, [], error=f"{path}: the reader crashed on this image (worker process died)")

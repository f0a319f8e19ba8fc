"""anpr: read vehicle number plates from photos.

>>> import anpr
>>> reader = anpr.PlateReader()            # doctest: +SKIP
>>> [p.text for p in reader.read("car.jpg")]  # doctest: +SKIP
['7ABC123']

Heavy modules (OpenCV, the model runtime) load on first use, so ``import anpr`` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AnprError, ImageError, MissingExtraError, ModelError, VideoError

__version__ = "0.1.0"

__all__ = [
    "AnprError",
    "CharClassifier",
    "Char",
    "ImageError",
    "MissingExtraError",
    "ModelError",
    "Plate",
    "PlateEvent",
    "PlateReader",
    "PlateTracker",
    "VideoError",
    "load_image",
    "read_video",
    "normalize_char",
    "__version__",
]

_LAZY = {
    "CharClassifier": "anpr.classify",
    "PlateReader": "anpr.reader",
    "PlateTracker": "anpr.track",
    "PlateEvent": "anpr.track",
    "read_video": "anpr.video",
    "Plate": "anpr.reader",
    "Char": "anpr.reader",
    "load_image": "anpr.images",
    "normalize_char": "anpr.normalize",
}

if TYPE_CHECKING:  # pragma: no cover
    from .classify import CharClassifier
    from .images import load_image
    from .normalize import normalize_char
    from .reader import Char, Plate, PlateReader
    from .track import PlateEvent, PlateTracker
    from .video import read_video


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'anpr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

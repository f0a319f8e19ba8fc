"""Types of the pipeline's inputs and outputs, and of the models a reader can be given.

Arrays are typed with `numpy.typing`; the models are `typing.Protocol` classes, so any
object with the right methods serves (the shipped `anpr.classify.CharClassifier`,
`anpr.verify.Verifier`, `anpr.glyphs.GlyphFinder` and `anpr.choose.Chooser`, or a
stand-in in a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from . import images as _images

Box = tuple[int, int, int, int]
"""Axis-aligned ``(x, y, w, h)`` in integer pixels."""

Point = tuple[float, float]
"""``(x, y)`` in pixels."""

GrayImage = npt.NDArray[np.uint8]
"""A gray ``(H, W)`` uint8 image (`anpr.images.to_gray`)."""

BGRImage = npt.NDArray[np.uint8]
"""A BGR ``(H, W, 3)`` uint8 image (`anpr.images.load_image`)."""

ImageArray = npt.NDArray[Any]
"""Any array `anpr.images.load_image` converts: gray, BGR or BGRA, uint8, uint16, float or bool."""

ImageSource = _images.ImageSource
"""What `anpr.images.load_image` and `anpr.reader.PlateReader.read` take: a path,
encoded bytes or an array."""


class ProbaClassifier(Protocol):
    """A character classifier: ``(N, 36)`` class probabilities of ``N`` glyph crops."""

    def predict_proba(self, crops: list[np.ndarray]) -> np.ndarray: ...


class GlyphModel(Protocol):
    """A learned glyph finder: glyph boxes and their scores on a plate crop."""

    def find(self, plate: np.ndarray) -> tuple[list[Box], np.ndarray]: ...


class WholePlateReader(Protocol):
    """A whole-plate reader: per-step log-probabilities ``(N, steps, classes)`` of ``N``
    plate crops (CTC, blank first; `anpr.plate_ocr.PlateOCR`)."""

    def log_probs(self, crops: list[np.ndarray]) -> np.ndarray: ...


class PlateVerifier(Protocol):
    """A plate verifier: the probability that each candidate is a plate, and the
    thresholds chosen with it (``info``: ``min_confidence``, ``report_min``...)."""

    info: dict

    def score(self, gray: np.ndarray, cands: Sequence[Any]) -> np.ndarray: ...


class ReadingChooser(Protocol):
    """Picks one reading hypothesis from their `anpr.choose.features` rows."""

    def choose(self, x: np.ndarray) -> int: ...

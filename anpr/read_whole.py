"""Read a plate whole first: the whole-plate reader's reading, checked glyph by glyph.

`anpr.recognize.recognize_plate` asks this stage first. The whole-plate reader
(`anpr.plate_ocr`) reads the plate at once; when its best reading is sure enough
(`SURE`) and as long as a plate's text, the reading is kept without segmenting:

1. each character's box spans the columns the reader gives it (`anpr.plate_ocr.align`),
   between the text row's top and bottom (the glyph finder's boxes, when it runs);
2. the 28x28 character CNN reads each box: with the reader's column probabilities it
   settles the look-alikes the reader folds or doubts (``O``/``0``, ``I``/``1``...) by the
   layouts of real plates (`anpr.decode.settle_layout`); a strict region's reading
   must fit one of its formats (else the next reading, else none);
3. each character's probability is the reader's (its surest column in the span).

Otherwise None, and the plate is segmented and read glyph by glyph as before.
"""

from __future__ import annotations

import math

import numpy as np

from .decode import format_of, settle_layout
from .normalize import CLASSES
from .plate_ocr import ALPHABET, INPUT_W, STRIDE, align, beam_readings
from .protocols import GlyphModel, ProbaClassifier

SURE = 0.5
"""A whole-plate reading at least this probable (all alignments summed) is kept without
segmenting. Chosen by cross-validation on the fit plates the reader never saw
(``scripts/ocr_cv.py``; docs/experiments.md, 2026-12-08)."""

READINGS = 3
"""Whole-plate readings tried, best first, for a strict region's formats."""

MIN_CHARS, MAX_CHARS = 4, 10


def _row_span(a: np.ndarray, glyphs: GlyphModel | None) -> tuple[int, int]:
    """Top and bottom of the text row: the median of the glyph finder's boxes, or the
    middle of the plate without it."""
    h = a.shape[0]
    if glyphs is not None:
        found, _ = glyphs.find(a)
        if found:
            top = int(np.median([b[1] for b in found]))
            bottom = int(np.median([b[1] + b[3] for b in found]))
            if bottom - top >= 4:
                return max(0, top), min(h, bottom)
    return int(0.12 * h), int(math.ceil(0.88 * h))


def char_probs(probs: np.ndarray, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """Each character's probability: the reader's surest step for it within its span.

    >>> p = np.full((4, 36), 0.01); p[1, 11] = 0.9; p[3, 2] = 0.6
    >>> char_probs(p, "A1", [(0, 2), (2, 4)]).round(2).tolist()
    [0.9, 0.6]
    """
    out = np.zeros(len(text))
    for i, (c, (a, b)) in enumerate(zip(text, spans)):
        k = ALPHABET.index("0" if c == "O" else c) + 1
        out[i] = float(probs[a:b, k].max()) if b > a else 0.0
    return out


def whole_reading(a: np.ndarray, ocr, classifier: ProbaClassifier, region: str | None, strict: bool,
                  glyphs: GlyphModel | None = None, sure: float = SURE):
    """The plate's text read whole, or None (see the module's docstring).

    Returns ``(text, char_probs, boxes, class_probs, pattern)`` with boxes in the
    coordinates of ``a``.
    """
    from .segment import cut_chars

    lp = ocr.log_probs([a])[0]
    beams = beam_readings(lp, k=READINGS, beam=10)
    if not beams or math.exp(beams[0][1]) < sure:
        return None
    h, w = a.shape[:2]
    top, bottom = _row_span(a, glyphs)
    probs = np.exp(lp)
    for text, logp in beams:
        if not MIN_CHARS <= len(text) <= MAX_CHARS or math.exp(logp) < sure:
            continue
        steps = align(lp, text)
        boxes = []
        for s0, s1 in steps:
            x0 = int(round(s0 * STRIDE * w / INPUT_W))
            x1 = max(x0 + 1, min(w, int(round(s1 * STRIDE * w / INPUT_W))))
            boxes.append((x0, top, x1 - x0, bottom - top))
        cnn = np.asarray(classifier.predict_proba(cut_chars(a, boxes)), np.float64)
        # The reader's classes with its 0 read as the CNN's O or 0 (one probability),
        # the CNN's look-alike alternatives beside them for the layouts to settle.
        merged = cnn.copy()
        reader_p = char_probs(probs, text, steps)
        for i, c in enumerate(text):
            merged[i, CLASSES.index(c)] = max(merged[i, CLASSES.index(c)], reader_p[i])
        merged /= merged.sum(axis=1, keepdims=True)
        read = settle_layout(text, merged, region)
        fit = format_of(read, region) if region is not None else None
        if strict and fit is None:
            continue
        return read, reader_p, boxes, merged.astype(np.float32), (fit[1] if fit else None)
    return None

"""Read the plate whole too, and keep the better of the two readings.

`anpr.recognize.recognize_plate` reads a plate glyph by glyph (segmentations, the
28x28 character CNN, the chooser). This stage reads it whole as well, with the
whole-plate reader (`anpr.plate_ocr`: one CNN over the plate, CTC), and keeps one of:

* the segmenter's reading;
* the whole-plate reader's best `READINGS` readings, each checked glyph by glyph: its
  characters' boxes span the columns the reader gives them (`anpr.plate_ocr.align`)
  between the text row's top and bottom (the glyph finder's boxes, when it runs); the
  character CNN reads each box, and with the reader's own probabilities it settles the
  look-alikes the reader folds or doubts (``O``/``0``, ``I``/``1``...) by the layouts of
  real plates (`anpr.decode.settle_layout`); a strict region's reading must fit one of
  its formats.

A logistic model (`WholeChoice`, ``models/whole_choice.json``, fitted by
``python scripts/ocr_cv.py choice`` on fit plates the whole-plate reader never saw)
scores each candidate from `FEATURES`: how probable the whole-plate reader finds its
text (every candidate is scored by it, the segmenter's too), the segmenter's score, and
its layout. The best is kept. Where the segmenter reads nothing, nothing is read: on the
fit parts, whole readings kept there gained no plate (docs/experiments.md, 2026-12-08)
and most such candidates in street photos are no plates.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .decode import format_of, layout_frequency, layout_of, merge_o0, settle_layout
from .linear import LinearModel
from .normalize import CLASSES
from .plate_ocr import ALPHABET, INPUT_W, STRIDE, align, beam_readings, log_likelihood
from .protocols import GlyphModel, ProbaClassifier
from .recognize import MAX_CHARS, MIN_CHARS

READINGS = 3
"""Whole-plate readings weighed beside the segmenter's, best first."""

FLOOR = -40.0
"""Log-likelihoods are clipped here: a text the reader finds impossible is just that."""

MODEL_NAME = "whole_choice.json"

FEATURES = (
    "log_likelihood",  # log P(text) under the whole-plate reader (clipped at FLOOR)
    "log_likelihood_ratio",  # ... minus the best of the plate's candidates
    "segmenter",  # the segmenter read this text
    "segmenter_logit_score",  # ... with this score (`anpr.recognize.PlateText.confidence`), else 0
    "whole_best",  # the whole-plate reader's best reading
    "whole",  # one of the whole-plate reader's readings
    "length_6_or_7",
    "log_layout_frequency",  # `anpr.decode.layout_frequency` of its letter/digit layout
    "alone",  # the plate's only candidate
)


class WholeChoice(LinearModel):
    """A linear score over `FEATURES`: the log-odds that a candidate reads the plate right.

    Examples
    --------
    >>> WholeChoice([1.0] + [0.0] * 8).scores(np.array([[-3.0] + [0.0] * 8, [-0.5] + [0.0] * 8])).tolist()
    [-3.0, -0.5]
    """

    FEATURES = FEATURES
    KIND = "whole-plate choice"


def default_choice_path() -> Path:
    from .classify import side_model_path

    return side_model_path(MODEL_NAME)


@lru_cache(maxsize=4)
def load_choice(path: str | Path | None = None) -> WholeChoice:
    """A `WholeChoice`, loaded once per path (None: the shipped one)."""
    return WholeChoice.from_file(path if path is not None else default_choice_path())


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-4), 1.0 - 1e-4)
    return math.log(p / (1.0 - p))


def candidates(seg_text: str | None, seg_score: float, beams: list[tuple[str, float]], logp: np.ndarray,
               region: str | None = None) -> tuple[list[str], list[bool], np.ndarray]:
    """The candidate texts of one plate (O written 0), whether each is the segmenter's,
    and their `FEATURES` ``(n, len(FEATURES))``; ``beams`` are `beam_readings`' texts
    with their exact log-likelihoods under ``logp``.

    Examples
    --------
    >>> lp = np.log(np.full((6, 36), 1 / 36))
    >>> texts, seg, x = candidates("ABC123", 0.9, [("ABC128", -5.0)], lp)
    >>> texts, seg, x.shape
    (['ABC123', 'ABC128'], [True, False], (2, 9))
    """
    texts: list[str] = []
    info: list[dict] = []
    if seg_text:
        texts.append(merge_o0(seg_text))
        info.append({"segmenter": True})
    for k, (t, _) in enumerate(beams[:READINGS]):
        if not MIN_CHARS <= len(t) <= MAX_CHARS:
            continue
        if t in texts:
            info[texts.index(t)]["rank"] = min(info[texts.index(t)].get("rank", k + 1), k + 1)
        else:
            texts.append(t)
            info.append({"rank": k + 1})
    # The beam search scored its readings exactly already; only the segmenter's may be new.
    exact = dict(beams)
    ll = [max(exact[t] if t in exact else log_likelihood(logp, t), FLOOR) for t in texts]
    best = max(ll, default=0.0)
    rows = []
    for t, i, v in zip(texts, info, ll):
        seg = bool(i.get("segmenter"))
        rows.append([v, v - best, float(seg), _logit(seg_score) if seg else 0.0, float(i.get("rank") == 1),
                     float("rank" in i), float(len(t) in (6, 7)),
                     math.log(layout_frequency(layout_of(t), region) + 1e-5), float(len(texts) == 1)])
    return texts, [bool(i.get("segmenter")) for i in info], np.asarray(rows, np.float64).reshape(-1, len(FEATURES))


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


def checked_reading(a: np.ndarray, text: str, logp: np.ndarray, classifier: ProbaClassifier, region: str | None,
                    strict: bool, row: tuple[int, int]):
    """A whole reading checked glyph by glyph (see the module's docstring):
    ``(text, char_probs, boxes, class_probs, pattern)`` with boxes in the coordinates of
    ``a``, or None when a strict region's formats reject it."""
    from .segment import cut_chars

    w = a.shape[1]
    top, bottom = row
    steps = align(logp, text)
    boxes = []
    for s0, s1 in steps:
        x0 = min(w - 1, int(round(s0 * STRIDE * w / INPUT_W)))
        x1 = max(x0 + 1, min(w, int(round(s1 * STRIDE * w / INPUT_W))))
        boxes.append((x0, top, x1 - x0, bottom - top))
    cnn = np.asarray(classifier.predict_proba(cut_chars(a, boxes)), np.float64)
    reader_p = char_probs(np.exp(logp), text, steps)
    # The reader's characters at least as probable as it says, the CNN's look-alike
    # alternatives beside them for the layouts to settle (O and 0 share one probability).
    merged = cnn.copy()
    for i, c in enumerate(text):
        merged[i, CLASSES.index(c)] = max(merged[i, CLASSES.index(c)], reader_p[i])
    merged /= merged.sum(axis=1, keepdims=True)
    read = settle_layout(text, merged, region)
    fit = format_of(read, region) if region is not None else None
    if strict and fit is None:
        return None
    return read, reader_p, boxes, merged.astype(np.float32), (fit[1] if fit else None)


def whole_choice(a: np.ndarray, ocr, seg_text: str, seg_score: float, classifier: ProbaClassifier,
                 region: str | None, strict: bool, glyphs: GlyphModel | None = None,
                 choice: WholeChoice | None = None):
    """What to keep of plate ``a``, which the segmenter read ``seg_text`` with score
    ``seg_score``: ``"segmenter"`` (its reading) or a checked whole reading
    (`checked_reading`)."""
    logp = ocr.log_probs([a])[0]
    beams = beam_readings(logp, k=READINGS, beam=10)
    texts, is_seg, x = candidates(seg_text, seg_score, beams, logp, region)
    scores = (choice if choice is not None else load_choice()).scores(x)
    row = None
    for i in np.argsort(-scores, kind="stable"):
        if is_seg[i]:
            break
        row = row or _row_span(a, glyphs)
        checked = checked_reading(a, texts[i], logp, classifier, region, strict, row)
        if checked is not None:
            return checked
    return "segmenter"

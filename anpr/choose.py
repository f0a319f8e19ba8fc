"""Choose a plate's reading among its segmentation hypotheses with a learned model.

`anpr.recognize.recognize_plate` reads a plate several ways (connected-component
segmentations, the learned glyph finder, each with end glyphs and pictures left out)
and must keep one reading. The hand-weighted confidence alone picks the wrong one in a
plate out of twenty or so: a frame edge read as a final ``I``, a stacked county letter
kept, a reading that fits no known layout. This stage scores each hypothesis by a
logistic model of a few of its properties (`FEATURES`), fitted by
``anpr train-chooser`` on the fit part of the labelled plate crops; the reading with
the best score is kept. Its weights ship in ``models/chooser.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .linear import LinearModel

MODEL_NAME = "chooser.json"

FEATURES = (
    "log_confidence",  # the hypothesis' confidence (`anpr.recognize.plate_confidence`, with its factors)
    "log_confidence_ratio",  # ... over the best confidence of the plate's hypotheses
    "segmentation_score",
    "length",
    "length_6_or_7",
    "log_layout_frequency",  # `anpr.decode.layout_frequency` of its letter/digit layout
    "fits_format",  # it fits one of the region's (or any region's) formats
    "learned_glyphs",  # its boxes come from the glyph finder
    "boxes_left_out",  # boxes of its segmentation the reading leaves out
    "min_char_p",
    "mean_char_p",
    "agreement",  # share of the plate's hypotheses that read the same text (O/0 merged)
)


def features(
    confidences: Sequence[float],
    seg_scores: Sequence[float],
    texts: Sequence[str],
    char_probs: Sequence[np.ndarray],
    fits: Sequence[bool],
    learned: Sequence[bool],
    left_out: Sequence[int],
    region: str | None = None,
) -> np.ndarray:
    """The `FEATURES` of each of a plate's hypotheses, ``(n, len(FEATURES))`` float64.

    Parameters
    ----------
    confidences, seg_scores, texts, char_probs, fits, learned, left_out : sequences
        Per hypothesis: its confidence, its segmentation's score, its text, the
        probability of each of its characters, whether it fits a plate format, whether
        the glyph finder cut it, and how many of its segmentation's boxes it leaves out.
    region : str, optional
        The region read for (its layout frequencies).

    Examples
    --------
    >>> f = features([0.9, 0.3], [0.8, 0.7], ["AB123", "AB1234"], [np.full(5, 0.9), np.full(6, 0.5)],
    ...              [True, False], [False, True], [0, 1])
    >>> f.shape, float(f[0, 3]), float(f[1, 11])
    ((2, 12), 5.0, 0.5)
    """
    from .decode import layout_frequency, layout_of, merge_o0

    n = len(texts)
    for name, v in (("confidences", confidences), ("seg_scores", seg_scores), ("char_probs", char_probs),
                    ("fits", fits), ("learned", learned), ("left_out", left_out)):
        if len(v) != n:
            raise ValueError(f"{name} has {len(v)} entries for {n} texts")
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    best = max(max(float(c), 1e-6) for c in confidences)
    merged = [merge_o0(t) for t in texts]
    rows = []
    for c, s, t, m, p, f, g, k in zip(confidences, seg_scores, texts, merged, char_probs, fits, learned, left_out):
        c = max(float(c), 1e-6)
        p = np.asarray(p, np.float64)
        rows.append([
            math.log(c), math.log(c / best), float(s), len(t), float(len(t) in (6, 7)),
            math.log(layout_frequency(layout_of(t), region) + 1e-5), float(f), float(g), float(k),
            float(p.min()) if p.size else 0.0, float(p.mean()) if p.size else 0.0, merged.count(m) / n,
        ])
    return np.asarray(rows, np.float64)


class Chooser(LinearModel):
    """A linear score over `FEATURES`; the best-scoring hypothesis is kept.

    Weights, bias and the file's ``info`` as `anpr.linear.LinearModel` holds them.

    Examples
    --------
    >>> Chooser([1.0] + [0.0] * 11).choose(np.array([[0.1] + [0.0] * 11, [0.5] + [0.0] * 11]))
    1
    """

    FEATURES = FEATURES
    KIND = "chooser"

    def choose(self, x: np.ndarray) -> int:
        """Index of the best hypothesis (the first of equal scores): the highest log-odds
        that it reads the plate right."""
        return int(np.argmax(self.scores(x)))


def default_chooser_path() -> Path:
    from .classify import default_model_path

    return default_model_path().with_name(MODEL_NAME)


@lru_cache(maxsize=4)
def load_chooser(path: str | Path | None = None) -> Chooser:
    """A `Chooser`, loaded once per path (None: the shipped one)."""
    return Chooser.from_file(path if path is not None else default_chooser_path())

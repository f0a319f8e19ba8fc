"""A plate's confidence: the probability that its text is exactly right.

The reading's own score (`anpr.recognize.plate_confidence`, with the chooser's choice and
its factors) orders readings well but is no probability: a parking gate cannot pick a
threshold from it. This stage maps a reported reading to the probability that its text is
exactly the plate's (O and 0 counted alike), by a logistic model of a few of its
properties (`FEATURES`): the reading's score, the plate verifier's verdict, its surest
and its mean character probability, whether it fits a plate format and how frequent its
letter/digit layout is. ``anpr train-calibration`` fits it on the fit parts of the
labelled folders (whole photos and plate crops, each folder weighed alike) and writes
``models/calibration.json``, with the threshold that gave 99% exact there
(``threshold_99``). `anpr.reader.PlateReader.report` sets each reported plate's
``confidence`` from it and keeps the reading's score as ``score``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .linear import LinearModel

MODEL_NAME = "calibration.json"

FEATURES = (
    "logit_score",  # the reading's score, `anpr.recognize.PlateText.confidence`
    "logit_plate_p",  # the verifier's plate probability (0 when none judged it) ...
    "judged",  # ... 1 when the verifier judged it (a photo), 0 for a crop read as given
    "logit_min_char_p",  # the least sure character
    "logit_gmean_char_p",  # the geometric mean of the characters' probabilities
    "fits_format",  # the text fits a format of the region (any region without one)
    "log_layout_frequency",  # `anpr.decode.layout_frequency` of its letter/digit layout
)

_EPS = 1e-4


def _logit(p: float) -> float:
    p = min(max(float(p), _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


def features(text: str, score: float, plate_p: float | None, char_probs: Sequence[float],
             region: str | None = None) -> np.ndarray:
    """The `FEATURES` of one reading, ``(len(FEATURES),)`` float64.

    Parameters
    ----------
    text : str
        The plate text read.
    score : float
        The reading's score in ``[0, 1]``.
    plate_p : float or None
        The verifier's plate probability; None for a crop read as given.
    char_probs : sequence of float
        The probability of each character of ``text``.
    region : str, optional
        The region read for (its formats and layout frequencies).

    Examples
    --------
    >>> f = features("ABC1234", 0.9, None, [0.99] * 7)
    >>> [round(float(v), 2) for v in f[:6]]
    [2.2, 0.0, 0.0, 4.6, 4.6, 1.0]
    """
    from .decode import format_of, layout_frequency, layout_of

    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score must be in [0, 1], got {score}")
    c = np.clip(np.asarray(char_probs, np.float64), _EPS, 1.0)
    if c.size == 0:
        c = np.array([_EPS])
    return np.array([
        _logit(score),
        _logit(plate_p) if plate_p is not None else 0.0,
        float(plate_p is not None),
        _logit(float(c.min())),
        _logit(float(np.exp(np.log(c).mean()))),
        float(format_of(text, region) is not None),
        math.log(layout_frequency(layout_of(text), region) + 1e-5),
    ], np.float64)


class Calibration(LinearModel):
    """A logistic model over `FEATURES`: the probability that a reading is exactly right.

    Weights, bias and the file's ``info`` as `anpr.linear.LinearModel` holds them.

    Examples
    --------
    >>> cal = Calibration([1.0] + [0.0] * 6)
    >>> round(cal.probability(features("ABC1234", 0.9, None, [0.99] * 7)), 3)
    0.9
    """

    FEATURES = FEATURES
    KIND = "calibration"

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Probability of each row of features (`features`) being exactly right."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.scores(x), -40.0, 40.0)))

    def probability(self, x: np.ndarray) -> float:
        """Probability that the reading with features ``x`` is exactly right."""
        return float(self.probabilities(x)[0])

    @property
    def threshold_99(self) -> float | None:
        """The confidence at which 99% of the fit readings kept were exactly right (None
        when the file does not say)."""
        t = self.info.get("threshold_99")
        return None if t is None else float(t)


def default_calibration_path() -> Path:
    from .classify import default_model_path

    return default_model_path().with_name(MODEL_NAME)


@lru_cache(maxsize=4)
def load_calibration(path: str | Path | None = None) -> Calibration:
    """A `Calibration`, loaded once per path (None: the shipped one)."""
    return Calibration.from_file(path if path is not None else default_calibration_path())

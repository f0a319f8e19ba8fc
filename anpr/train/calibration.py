"""Fit `anpr.calibrate`: the probability that a reported reading is exactly right.

`collect` reads the fit part of labelled folders (whole photos with a labelled plate box,
or plate crops) with a reader whose calibration is off and keeps, per reported reading,
its `anpr.calibrate.features` and whether its text is the label (O and 0 merged; a
reading off the labelled box is wrong). `cross_validate` gives every reading a
probability from a model fitted on the other folds (grouped by plate text), which
chooses the regularization and the threshold for 99% exact; `fit` fits the shipped model
on all of them. Each folder weighs alike (`folder_weights`): the 2,945 Brazilian crops
would otherwise decide alone.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDS = 5
"""Cross-validation folds, grouped by `anpr.split.group_key`."""

C_GRID = (0.1, 1.0, 10.0)
"""Inverse regularization strengths tried; the best cross-validated log loss is kept."""

TARGET = 0.99
"""The exact rate the reported threshold (``threshold_99``) must give on the fit part."""


@dataclass(frozen=True)
class Readings:
    """The reported readings of one labelled folder's fit part.

    Attributes
    ----------
    source : str
        The folder (and region read for, ``folder:region``).
    x : ndarray
        ``(n, len(anpr.calibrate.FEATURES))`` features of the readings.
    exact : ndarray
        ``(n,)`` bool: the reading's text is the label.
    groups : tuple of str
        Each reading's group (`anpr.split.group_key`).
    items : int
        Photos or crops read.
    """

    source: str
    x: np.ndarray
    exact: np.ndarray
    groups: tuple[str, ...]
    items: int


def parse_source(spec: str) -> tuple[Path, str | None]:
    """``FOLDER`` or ``FOLDER:REGION`` -> (folder, region).

    >>> parse_source("data/plates/br:br")
    (PosixPath('data/plates/br'), 'br')
    >>> parse_source("data/scenes/us")
    (PosixPath('data/scenes/us'), None)
    """
    folder, sep, region = spec.rpartition(":")
    if sep and region and "/" not in region and "\\" not in region:
        return Path(folder), region.lower()
    return Path(spec), None


def is_crop_folder(folder: Path) -> bool:
    """Whether ``folder/labels.csv`` labels plate crops (``image,plate``, no box)."""
    with open(Path(folder) / "labels.csv", newline="", encoding="utf-8") as fh:
        head = next(csv.reader(fh), [])
    return "x" not in head


def collect(folder: Path, region: str | None, part: str = "fit",
            progress: Callable[[int], None] | None = None) -> Readings:
    """The reported readings of ``folder``'s ``part``, read for ``region``."""
    from ..benchmark import box_matches, label_box, load_labels
    from ..calibrate import FEATURES, features
    from ..decode import merge_o0
    from ..reader import PlateReader
    from ..split import group_key

    crop = is_crop_folder(folder)
    rows = load_labels(folder, crop, part)
    reader = PlateReader(region=region, calibration=False)
    xs, ys, gs = [], [], []
    for r in rows:
        path = folder / r["image"]
        try:
            plates = reader.read_crop(path) if crop else reader.read(path)
        except ValueError:
            plates = []
        label = merge_o0(r["plate"].strip().upper())
        for p in plates:
            on = crop or box_matches(p.box, label_box(r))
            xs.append(features(p.text, p.confidence, p.plate_p, [c.probability for c in p.chars], region))
            ys.append(bool(on and merge_o0(p.text) == label))
            gs.append(group_key(r["image"], r["plate"]))
        if progress is not None:
            progress(1)
    x = np.asarray(xs, np.float64).reshape(-1, len(FEATURES))
    return Readings(f"{folder}" + (f":{region}" if region else ""), x, np.asarray(ys, bool), tuple(gs), len(rows))


def folder_weights(sets: Sequence[Readings]) -> np.ndarray:
    """Per reading, a weight that makes every folder weigh alike (mean weight 1).

    >>> z = np.zeros((0, 7))
    >>> a = Readings("a", np.zeros((3, 7)), np.ones(3, bool), ("g",) * 3, 3)
    >>> b = Readings("b", np.zeros((1, 7)), np.ones(1, bool), ("h",), 1)
    >>> folder_weights([a, b]).round(3).tolist()
    [0.667, 0.667, 0.667, 2.0]
    """
    n = sum(len(s.exact) for s in sets)
    used = [s for s in sets if len(s.exact)]
    return np.concatenate([np.full(len(s.exact), n / (len(used) * len(s.exact))) for s in used] or [np.zeros(0)])


def fold_of(group: str, folds: int = FOLDS) -> int:
    """The cross-validation fold of a group, by a salted hash (`anpr.split.hash_percent`)."""
    from ..split import hash_percent

    return hash_percent(group, "calibration:") % folds


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias of the weighted logistic regression of ``y`` on ``x``."""
    from ..errors import require

    if y.all() or not y.any():
        raise ValueError("the readings are all right or all wrong: nothing to calibrate")
    m = require("sklearn.linear_model", "train").LogisticRegression(C=c, max_iter=5000)
    m.fit(x, y, sample_weight=w)
    return m.coef_[0].astype(np.float64), float(m.intercept_[0])


def cross_validate(x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: Sequence[str], c: float = 1.0,
                   folds: int = FOLDS) -> np.ndarray:
    """Out-of-fold probabilities: each reading's from a model fitted on the other folds."""
    from ..calibrate import Calibration

    fold = np.array([fold_of(g, folds) for g in groups])
    p = np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        if test.any():
            weights, bias = fit(x[~test], y[~test], w[~test], c)
            p[test] = Calibration(weights, bias).probabilities(x[test])
    return p


def log_loss(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted mean log loss.

    >>> round(log_loss(np.array([0.9, 0.2]), np.array([True, False]), np.ones(2)), 4)
    0.1643
    """
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.average(np.where(y, np.log(q), np.log(1 - q)), weights=w))


def threshold_for(p: np.ndarray, y: np.ndarray, w: np.ndarray, target: float = TARGET) -> float | None:
    """The lowest threshold (steps of 0.001) at which the readings kept (``p >= t``) are
    exactly right at least ``target`` of the time (weighted); None if none is.

    >>> threshold_for(np.array([0.5, 0.8, 0.95, 0.99]), np.array([False, False, True, True]), np.ones(4))
    0.801
    """
    for t in np.round(np.arange(0.5, 1.0, 0.001), 3):
        keep = p >= t
        if keep.any() and np.average(y[keep], weights=w[keep]) >= target:
            return float(t)
    return None

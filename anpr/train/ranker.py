"""Fit the candidate ranker (`anpr.rank`) on labelled scene photos.

Every candidate the proposer returns for a labelled photo is an example: positive when
it matches the labelled plate box (the benchmark's detection rule), negative otherwise.
A logistic regression over the standardized features is fitted with scikit-learn and
saved as plain numbers (``ranker.json``) that the reader applies with numpy alone.

Cross-validation is grouped by photo (all candidates of a photo on one side), so the
reported rates are what a photo never seen in training gets.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

DEFAULT_C = 0.003
"""Inverse L2 strength: strong regularization suits ~1,200 HOG values on ~300 photos
(grouped 5-fold CV on the development scenes: C = 0.003 ranked the plate first at
least as often as 0.01 and 0.1)."""


def scene_examples(
    folder: str | Path, *, progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, labels and photo names of every candidate in a scene folder.

    ``folder`` holds ``labels.csv`` with ``image,x,y,w,h,plate``. Returns ``X``
    ``(n, N_FEATURES)``, ``y`` ``(n,)`` in {0, 1} and, per row, the photo's path.
    """
    from ..benchmark import _matches, label_box, load_labels
    from ..images import load_image
    from ..localize import MAX_SCORED, propose, to_gray
    from ..rank import N_FEATURES, candidate_features

    folder = Path(folder)
    xs, ys, names = [np.zeros((0, N_FEATURES), np.float32)], [np.zeros(0, np.int8)], []
    for lab in load_labels(folder, crop=False):
        path = folder / lab["image"]
        gray = to_gray(load_image(path))
        box = label_box(lab)
        cands = propose(gray, max_candidates=MAX_SCORED)
        xs.append(candidate_features(gray, cands))
        ys.append(np.array([_matches(c.box, box) for c in cands], np.int8))
        names += [str(path)] * len(cands)
        if progress:
            progress(1)
    return np.concatenate(xs), np.concatenate(ys), names


def fit(X: np.ndarray, y: np.ndarray, *, C: float = DEFAULT_C, info: dict | None = None):
    """A `anpr.rank.Ranker` fitted on feature rows ``X`` and labels ``y``."""
    from sklearn.linear_model import LogisticRegression

    from ..rank import Ranker

    X = np.asarray(X, np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n, features) with one label per row, got {X.shape} and {y.shape}")
    if len(set(y.tolist())) < 2:
        raise ValueError("need both plate and non-plate candidates to fit a ranker")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    lr = LogisticRegression(C=C, max_iter=3000)
    lr.fit((X - mean) / scale, y)
    return Ranker(mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]), dict(info or {}))


def fold_of(name: str, folds: int) -> int:
    """Cross-validation fold of a photo, fixed by a hash of its file name.

    >>> fold_of("scenes/us/car1.jpg", 5) == fold_of("other/car1.jpg", 5)
    True
    """
    # A cryptographic digest, not crc32: CRC is linear, so names that differ in one
    # character (p0.png, p1.png...) can all share their low bits, and so one fold.
    return int.from_bytes(hashlib.blake2b(Path(name).name.encode(), digest_size=8).digest(), "little") % folds


def top_k_rates(scores: np.ndarray, y: np.ndarray, names: Sequence[str], ks: Sequence[int] = (1, 2, 3)) -> dict:
    """Share of photos whose labelled plate is among their ``k`` best-scored candidates."""
    names = np.asarray(names)
    out = {k: [] for k in ks}
    for n in dict.fromkeys(names.tolist()):
        m = names == n
        order = np.argsort(-scores[m], kind="stable")
        for k in ks:
            out[k].append(bool(y[m][order[:k]].any()))
    return {k: float(np.mean(v)) if v else float("nan") for k, v in out.items()}


def cross_validate(X, y, names, *, C: float = DEFAULT_C, folds: int = 5) -> np.ndarray:
    """Out-of-fold ranker scores (each photo scored by a ranker that never saw it)."""
    fold = np.array([fold_of(n, folds) for n in names])
    pred = np.zeros(len(y))
    for f in range(folds):
        te = fold == f
        if not te.any():
            continue
        if len(set(y[~te].tolist())) < 2:
            raise ValueError(f"too few photos for {folds}-fold cross-validation (a fold's training part "
                             "has no plate or no other candidate); use fewer folds or more photos")
        pred[te] = fit(X[~te], y[~te], C=C).score(X[te])
    return pred

"""Rank plate candidates with a learned linear model, before any of them is read.

The proposer (`anpr.localize.propose`) finds the plate among its candidates in nearly
every photo; the cheap score (`anpr.localize.cheap_score`) then orders them by how much
they look like a row of glyphs. Van lettering, grilles, badges and the camera's time
stamp look like that too. This stage keeps only the `RANK_TOP` candidates that a
learned model finds most plate-like, before the cheap score orders them. It describes
each candidate by

* its geometry in the photo (size, aspect, position, tilt, polarity, size rank), and
* a histogram of oriented gradients (HOG) of the candidate warped upright into a
  `PATCH_W` x `PATCH_H` patch (a plate is a row of glyph strokes in a frame),

and scores it with a logistic regression trained on labelled scene photos
(``anpr train-ranker``; weights in ``models/ranker.json``). Only numpy and OpenCV run
here; scikit-learn is used only to fit the weights.

Examples
--------
>>> import numpy as np
>>> from anpr.localize import Candidate
>>> corners = np.array([[100, 100], [220, 100], [220, 130], [100, 130]], np.float32)
>>> cand = Candidate(corners, (100, 100, 120, 30), "dark")
>>> gray = np.full((240, 320), 128, np.uint8)
>>> candidate_features(gray, [cand]).shape == (1, N_FEATURES)
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

PATCH_W, PATCH_H = 96, 32
"""Size of the upright patch described by HOG."""

CELL, BINS = 8, 9
"""HOG cell size (pixels) and orientation bins over 0-180 degrees."""

PAD_X, PAD_Y = 0.2, 0.25
"""Margin around a candidate in its patch, as fractions of its height (as read)."""

GEOMETRY = ("width", "height", "log_aspect", "centre_x", "centre_y", "tilt", "dark",
            "size_rank", "log_height", "at_edge")
"""Names of the geometric features, in order; the HOG features follow."""

N_HOG = (PATCH_H // CELL - 1) * (PATCH_W // CELL - 1) * 4 * BINS
N_FEATURES = len(GEOMETRY) + N_HOG

RANKER_NAME = "ranker.json"


def hog(patches: np.ndarray, cell: int = CELL, bins: int = BINS) -> np.ndarray:
    """Histograms of oriented gradients of gray patches, 2x2-cell blocks, L2-Hys.

    Parameters
    ----------
    patches : ndarray
        One gray patch ``(H, W)`` or a stack ``(N, H, W)``; ``H`` and ``W`` multiples
        of ``cell``, at least two cells each.

    Returns
    -------
    ndarray
        ``(H/cell - 1) * (W/cell - 1) * 4 * bins`` float32 values per patch:
        shape ``(F,)`` for one patch, ``(N, F)`` for a stack.

    Examples
    --------
    >>> p = np.zeros((32, 96), np.uint8); p[:, 48:] = 255   # one vertical edge
    >>> h = hog(p)
    >>> h.shape, float(h.max()) <= 0.2 + 1e-6
    ((1188,), True)
    >>> hog(np.stack([p, p])).shape
    (2, 1188)
    """
    import cv2

    P = np.asarray(patches)
    one = P.ndim == 2
    if one:
        P = P[None]
    if P.ndim != 3 or P.shape[1] < 2 * cell or P.shape[2] < 2 * cell:
        raise ValueError(f"patches must be gray images of at least {2 * cell}x{2 * cell}, got shape {np.shape(patches)}")
    if P.shape[1] % cell or P.shape[2] % cell:
        raise ValueError(f"patch sides must be multiples of {cell}, got shape {np.shape(patches)}")
    P = P.astype(np.float32)
    n, h, w = P.shape
    # Central differences, 0 on the border rows/columns: what cv2.Sobel(ksize=1) gives
    # with its default reflect-101 border, for the whole stack at once.
    gx = np.zeros_like(P)
    gy = np.zeros_like(P)
    gx[:, :, 1:-1] = P[:, :, 2:] - P[:, :, :-2]
    gy[:, 1:-1, :] = P[:, 2:, :] - P[:, :-2, :]
    mag, ang = cv2.cartToPolar(gx.reshape(n * h, w), gy.reshape(n * h, w), angleInDegrees=True)
    b = (ang * (bins / 180.0)).astype(np.int32) % bins
    onehot = np.zeros((n * h, w, bins), np.float32)
    np.put_along_axis(onehot, b[..., None], mag[..., None], axis=2)
    # Mean over each cell: area resizing by a whole factor is a box mean; the patches
    # are stacked in rows of whole cells, so no cell mixes two patches.
    cells = cv2.resize(onehot, (w // cell, n * h // cell), interpolation=cv2.INTER_AREA)
    cells = cells.reshape(n, h // cell, w // cell, bins)
    blk = np.concatenate([cells[:, :-1, :-1], cells[:, 1:, :-1], cells[:, :-1, 1:], cells[:, 1:, 1:]], axis=3)
    blk = blk / np.sqrt((blk * blk).sum(axis=3, keepdims=True) + 1e-3)
    out = np.minimum(blk, 0.2).reshape(n, -1)
    return out[0] if one else out


def candidate_patch(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The candidate warped upright, with margins, into a `PATCH_W` x `PATCH_H` patch."""
    import cv2

    from .localize import expand_corners, quad_size

    w, h = quad_size(corners)
    q = expand_corners(corners, PAD_X * h / max(w, 1.0), PAD_Y).astype(np.float32)
    dst = np.array([[0, 0], [PATCH_W, 0], [PATCH_W, PATCH_H], [0, PATCH_H]], np.float32)
    M = cv2.getPerspectiveTransform(q, dst)
    return cv2.warpPerspective(gray, M, (PATCH_W, PATCH_H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def candidate_features(gray: np.ndarray, cands: Sequence) -> np.ndarray:
    """Feature rows ``(len(cands), N_FEATURES)`` of candidates in a gray photo.

    ``cands`` are `anpr.localize.Candidate` in the order `propose` returns them
    (largest first: the size rank is a feature).
    """
    from .localize import quad_size

    g = np.asarray(gray)
    if g.ndim != 2:
        raise ValueError(f"gray must be a 2-D image, got shape {g.shape}")
    H, W = g.shape
    out = np.zeros((len(cands), N_FEATURES), np.float32)
    if not len(cands):
        return out
    out[:, len(GEOMETRY):] = hog(np.stack([candidate_patch(g, c.corners) for c in cands]))
    for i, c in enumerate(cands):
        w, h = quad_size(c.corners)
        x, y, bw, bh = c.box
        out[i, : len(GEOMETRY)] = (
            w / W, h / H, np.log(w / max(h, 1.0)), (x + bw / 2) / W, (y + bh / 2) / H,
            abs(c.angle), float(c.polarity == "dark"), i / len(cands), np.log(max(h, 1.0)),
            float(y <= 0.02 * H or y + bh >= 0.98 * H),
        )
    return out


@dataclass(frozen=True)
class Ranker:
    """A logistic regression over standardized candidate features.

    ``score(X) = 1 / (1 + exp(-(((X - mean) / scale) @ coef + intercept)))``.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    info: dict

    def __post_init__(self):
        for name in ("mean", "scale", "coef"):
            v = getattr(self, name)
            if np.shape(v) != (N_FEATURES,):
                raise ValueError(f"ranker {name} must have {N_FEATURES} values, got shape {np.shape(v)}")

    def score(self, features: np.ndarray) -> np.ndarray:
        """Plate probability of each feature row, in ``[0, 1]``."""
        z = ((np.asarray(features, np.float64) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def to_json(self) -> dict:
        return {"features": list(GEOMETRY) + [f"hog{i}" for i in range(N_HOG)],
                "patch": [PATCH_W, PATCH_H], "cell": CELL, "bins": BINS,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": float(self.intercept), "info": self.info}

    @classmethod
    def from_json(cls, d: dict) -> "Ranker":
        return cls(np.asarray(d["mean"], np.float64), np.asarray(d["scale"], np.float64),
                   np.asarray(d["coef"], np.float64), float(d["intercept"]), dict(d.get("info", {})))


def default_ranker_path() -> Path:
    """Path of the shipped ranker (installed package data, or ``models/`` in a checkout)."""
    from .classify import default_model_path

    return default_model_path().with_name(RANKER_NAME)


@lru_cache(maxsize=8)
def load_ranker(path: str | Path | None = None) -> Ranker:
    """Load a ranker JSON file (None: the shipped one); errors name the file."""
    from .errors import ModelError

    p = Path(path) if path is not None else default_ranker_path()
    try:
        return Ranker.from_json(json.loads(p.read_text()))
    except FileNotFoundError:
        raise ModelError(f"{p}: ranker file not found (reinstall anpr to get the default back)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{p}: not a valid ranker file ({e})") from None

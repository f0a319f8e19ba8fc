"""Plane geometry of boxes and quadrilaterals, shared by every stage.

Boxes are axis-aligned ``(x, y, w, h)`` in pixels; quadrilaterals are ``(4, 2)`` corners
ordered top-left, top-right, bottom-right, bottom-left as the plate is read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def quad_size(corners: np.ndarray) -> tuple[float, float]:
    """Mean ``(width, height)`` of an ordered quadrilateral (top edge = width).

    >>> quad_size(np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float))
    (10.0, 4.0)
    """
    c = np.asarray(corners, np.float64).reshape(4, 2)
    e = c[_EDGE_TO] - c[_EDGE_FROM]  # top, bottom, left, right edge vectors
    # np.linalg.norm of a vector is sqrt(v.dot(v)); the same dot (a BLAS call that may
    # fuse multiply-adds) keeps the result bit-identical, without norm's checks.
    top, bottom, left, right = e
    return ((math.sqrt(top.dot(top)) + math.sqrt(bottom.dot(bottom))) / 2,
            (math.sqrt(left.dot(left)) + math.sqrt(right.dot(right))) / 2)


_EDGE_FROM = np.array([0, 3, 0, 1])
_EDGE_TO = np.array([1, 2, 3, 2])


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes (`box_iou_matrix` for many:
    the same arithmetic, vectorised).

    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


def overlaps_smaller(a: Sequence[float], b: Sequence[float], share: float) -> bool:
    """Whether two ``(x, y, w, h)`` boxes overlap by more than ``share`` of the smaller
    one's area (not IoU: a box inside a much larger one overlaps it wholly).

    >>> overlaps_smaller((0, 0, 10, 10), (0, 0, 100, 100), 0.5), iou((0, 0, 10, 10), (0, 0, 100, 100))
    (True, 0.01)
    >>> overlaps_smaller((0, 0, 10, 10), (6, 0, 10, 10), 0.5)
    False
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    small = min(aw * ah, bw * bh)
    return small > 0 and ix * iy > share * small


def bounding_box(corners: np.ndarray, shape: tuple | None = None) -> tuple[int, int, int, int]:
    """Integer ``(x, y, w, h)`` around points, clipped to an image ``shape`` if given."""
    c = np.asarray(corners, np.float64).reshape(-1, 2)
    x0, y0 = np.floor(c.min(axis=0))
    x1, y1 = np.ceil(c.max(axis=0))
    if shape is not None:
        x0, y0 = max(0.0, x0), max(0.0, y0)
        x1, y1 = min(float(shape[1]), x1), min(float(shape[0]), y1)
    return int(x0), int(y0), int(max(0, x1 - x0)), int(max(0, y1 - y0))


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every ``(x, y, w, h)`` row of ``a`` with every row of ``b``.

    >>> box_iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10], [0, 0, 10, 10]])).round(3).tolist()
    [[0.333, 1.0]]
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = a[:, 2:3] * a[:, 3:4] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def expand_corners(corners: np.ndarray, pad_x: float, pad_y: float) -> np.ndarray:
    """Grow an ordered quadrilateral by ``pad_x`` of its width on the left and right and
    ``pad_y`` of its height above and below.

    >>> expand_corners(np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float), 0.1, 0.25).tolist()
    [[-1.0, -1.0], [11.0, -1.0], [11.0, 5.0], [-1.0, 5.0]]
    """
    # Plain floats: the very float64 operations NumPy would do on 4 points, in the same
    # order, at a fraction of the cost (called for every candidate scored).
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = np.asarray(corners, np.float64).reshape(4, 2).tolist()
    pad_x, pad_y = float(pad_x), float(pad_y)
    ux, uy = ((x1 - x0) + (x2 - x3)) / 2, ((y1 - y0) + (y2 - y3)) / 2  # width vector
    vx, vy = ((x3 - x0) + (x2 - x1)) / 2, ((y3 - y0) + (y2 - y1)) / 2  # height vector
    dxx, dxy, dyx, dyy = ux * pad_x, uy * pad_x, vx * pad_y, vy * pad_y
    return np.array([[x0 - dxx - dyx, y0 - dxy - dyy], [x1 + dxx - dyx, y1 + dxy - dyy],
                     [x2 + dxx + dyx, y2 + dxy + dyy], [x3 - dxx + dyx, y3 - dxy + dyy]])


def map_points(M: np.ndarray, pts) -> np.ndarray:
    """Apply a ``(3, 3)`` homography to ``(N, 2)`` points."""
    p = np.asarray(pts, np.float64).reshape(-1, 2)
    q = np.hstack([p, np.ones((len(p), 1))]) @ np.asarray(M, np.float64).T
    return q[:, :2] / q[:, 2:3]

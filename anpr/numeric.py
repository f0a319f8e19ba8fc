"""Small numeric helpers shared by the stages: NumPy's results without NumPy's overhead.

Each runs for every candidate or glyph row of every photo, on a handful of values,
where ``np.median`` or ``np.polyfit`` cost more in checks than in arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_EPS = float(np.finfo(np.float64).eps)


def median(values: np.ndarray | Sequence[float]) -> float:
    """Median of a short sequence or array (flattened), in float64; 0.0 when empty.

    >>> median([3, 1, 2]), median(np.array([4.0, 1.0, 2.0, 3.0], np.float32)), median([])
    (2.0, 2.5, 0.0)
    """
    v = sorted(np.asarray(values, np.float64).ravel().tolist())
    n = len(v)
    return 0.5 * (v[(n - 1) // 2] + v[n // 2]) if n else 0.0


def mean32(a: np.ndarray) -> np.float32:
    """``a.mean()`` of a short 1-D float32 array, bit for bit, without its Python overhead
    (numpy sums in float32, divides in float64 and rounds back to float32)."""
    return np.float32(float(np.add.reduce(a)) / len(a))


def fit_line(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.polyfit(x, y, 1)`` (slope, intercept): its very arrays and least-squares
    call, without its checks (a closed-form fit would round differently).

    >>> x, y = np.array([1.0, 2.5, 4.0, 7.0]), np.array([3.0, 3.5, 5.0, 4.0])
    >>> np.array_equal(fit_line(x, y), np.polyfit(x, y, 1))
    True
    """
    lhs = np.empty((len(x), 2))  # np.vander(x, 2)
    lhs[:, 0] = x
    lhs[:, 1] = 1.0
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    return np.linalg.lstsq(lhs, y, rcond=len(x) * _EPS)[0] / scale


def slope32(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y`` on ``x`` for float32 glyph rows, in closed form with
    float32 means (`mean32`): what the segmenter's text lines were tuned with. It rounds
    differently from `fit_line` (float64 LAPACK), so the two are kept apart.

    >>> slope32(np.array([0, 1, 2, 3], np.float32), np.array([1, 3, 5, 7], np.float32))
    2.0
    """
    dx = x - mean32(x)
    v = float((dx * dx).sum())
    return float((dx * (y - mean32(y))).sum()) / v if v > 0 else 0.0

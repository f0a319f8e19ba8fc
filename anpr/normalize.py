"""Character crop normalization shared by training, evaluation and reading.

The CNN only ever sees what `normalize_char` returns, whether the crop came from a
training folder, a synthetic glyph or the segmenter at read time, so a change here
changes every stage at once (and calls for retraining).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""The 36 classes of the character CNN, in output order."""

SIZE = 28
"""Side of the square the CNN reads."""

MARGIN = 2
"""Empty pixels kept around the glyph, so strokes never touch the border."""


def _to_gray(crop: np.ndarray) -> np.ndarray:
    from .images import to_gray

    return to_gray(crop, np.float32)


def _quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` (linear) via one partial sort: this runs for every
    character of every candidate, and numpy's generic quantile costs more than the rest."""
    n = values.size
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    part = np.partition(values.ravel(), (lo, hi))
    return float(part[lo] + (part[hi] - part[lo]) * (pos - lo))


def normalize_char(crop: np.ndarray, size: int = SIZE, margin: int = MARGIN) -> np.ndarray:
    """Turn one character crop into the CNN's input.

    Parameters
    ----------
    crop : ndarray
        Gray ``(H, W)``, ``(H, W, 1)`` or BGR(A) ``(H, W, 3|4)`` image of one character,
        any size and dtype, dark-on-light or light-on-dark.
    size : int
        Side of the output square.
    margin : int
        Empty border, in output pixels, around the glyph.

    Returns
    -------
    ndarray
        ``(size, size, 1)`` float32 in ``[0, 1]``: a light glyph on a dark
        background, aspect ratio kept, centred.

    Examples
    --------
    >>> import numpy as np
    >>> crop = np.full((40, 20), 255, np.uint8)
    >>> crop[5:35, 8:12] = 0                      # a dark "1" on white
    >>> x = normalize_char(crop)
    >>> x.shape, x.dtype
    ((28, 28, 1), dtype('float32'))
    >>> bool(x[14, 14, 0] > 0.9), bool(x[14, 2, 0] < 0.1)   # glyph light, background dark
    (True, True)
    """
    import cv2

    if size < 2 * margin + 4:
        raise ValueError(f"size {size} is too small for margin {margin}")
    g = _to_gray(crop)
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < 1e-6:
        return np.zeros((size, size, 1), np.float32)
    g = (g - lo) / (hi - lo)

    # Polarity: the background is what dominates the crop's outer ring; make it dark.
    h, w = g.shape
    ring = np.concatenate([g[0, :], g[-1, :], g[:, 0], g[:, -1]])
    u8 = (g * 255).astype(np.uint8)
    t, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    t = t / 255.0
    light_background = np.count_nonzero(ring > t) * 2 > ring.size
    if light_background:
        g = 1.0 - g

    # Stretch so the background sits at 0 and the strokes at 1, whatever the contrast.
    inner = g >= 1.0 - t if light_background else g > t
    fg = _quantile(g[inner], 0.9) if inner.any() else 1.0
    bg = _quantile(g[~inner], 0.5) if not inner.all() else 0.0
    if fg - bg > 1e-3:
        g = np.clip((g - bg) / (fg - bg), 0.0, 1.0)

    # Fit the longer side into the box, keep aspect, centre.
    box = size - 2 * margin
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(g, (nw, nh), interpolation=interp)
    out = np.zeros((size, size), np.float32)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out[:, :, None]


def normalize_batch(crops: Sequence[np.ndarray], size: int = SIZE, margin: int = MARGIN) -> np.ndarray:
    """Normalize many crops into one ``(N, size, size, 1)`` float32 batch."""
    if len(crops) == 0:
        return np.zeros((0, size, size, 1), np.float32)
    return np.stack([normalize_char(c, size, margin) for c in crops])

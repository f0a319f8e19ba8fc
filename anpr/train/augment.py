"""Random distortions of normalized crops, applied per training batch.

They work on the ``(N, 28, 28, 1)`` light-on-dark crops the CNN reads, so they model
what varies between real crops after normalization: small rotation, shear, scale and
offset (segmentation boxes are never exact), stroke thickness, blur, noise and
contrast. Polarity is not varied: `anpr.normalize.normalize_char` already fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    p: float = 0.7            # chance that a crop is distorted at all
    rotate: float = 8.0       # degrees, +-
    shear: float = 0.15       # x-shear factor, +-
    scale: tuple[float, float] = (0.85, 1.1)
    shift: float = 2.0        # pixels, +-
    p_thickness: float = 0.2  # dilate or erode by one pixel
    p_blur: float = 0.2
    noise: float = 0.06       # max Gaussian noise sigma
    contrast: tuple[float, float] = (0.6, 1.0)


def augment_one(img: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Distort one ``(H, W)`` float32 crop in ``[0, 1]``; returns a new array.

    >>> import numpy as np
    >>> x = np.zeros((28, 28), np.float32); x[6:22, 12:16] = 1
    >>> y = augment_one(x, np.random.default_rng(0))
    >>> y.shape, y.dtype, float(y.min()) >= 0, float(y.max()) <= 1
    ((28, 28), dtype('float32'), True, True)
    """
    import cv2

    h, w = img.shape
    a = np.deg2rad(rng.uniform(-cfg.rotate, cfg.rotate))
    s = rng.uniform(*cfg.scale)
    sh = rng.uniform(-cfg.shear, cfg.shear)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * s
    m = rot @ np.array([[1.0, sh], [0.0, 1.0]])
    c = np.array([w / 2 - 0.5, h / 2 - 0.5])
    t = c - m @ c + rng.uniform(-cfg.shift, cfg.shift, 2)
    out = cv2.warpAffine(img, np.hstack([m, t[:, None]]).astype(np.float32), (w, h),
                         flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    r = rng.random()
    if r < cfg.p_thickness / 2:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    elif r < cfg.p_thickness:
        out = cv2.erode(out, np.ones((2, 2), np.uint8)) if out.max() > 0 else out
    if rng.random() < cfg.p_blur:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.4, 1.0))
    lo = rng.uniform(0.0, 1.0 - cfg.contrast[0]) * 0.5
    hi = lo + rng.uniform(*cfg.contrast) * (1.0 - lo)
    out = lo + out * (hi - lo)
    if cfg.noise > 0:
        out = out + rng.normal(0.0, rng.uniform(0, cfg.noise), out.shape)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def augment_batch(batch: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Distort each crop of an ``(N, H, W, 1)`` batch with probability ``cfg.p``."""
    out = batch.copy()
    for i in np.flatnonzero(rng.random(len(batch)) < cfg.p):
        out[i, :, :, 0] = augment_one(batch[i, :, :, 0], rng, cfg)
    return out

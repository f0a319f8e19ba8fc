"""Synthetic character crops drawn with bundled fonts.

Fonts: the DejaVu TrueType faces that ship with matplotlib (drawn with Pillow) and
OpenCV's Hershey vector fonts. Each glyph is drawn dark on light, cropped to its ink
with a random margin, optionally distorted, and returned at native size so it goes
through `anpr.normalize.normalize_char` like any real crop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..normalize import CLASSES

_DEJAVU = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
    "DejaVuSansCondensed.ttf" , "DejaVuSansCondensed-Bold.ttf" ,
)


def _ttf_fonts() -> list[Path]:
    try:
        import matplotlib
    except ImportError:
        return []
    d = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [d / n for n in _DEJAVU if (d / n).exists()]


def _render_ttf(ch: str, font_path: Path, size: int, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), size)
    img = Image.new("L", (size * 2, size * 2), 255)
    ImageDraw.Draw(img).text((size // 3, size // 4), ch, fill=0, font=font)
    return np.asarray(img)


def _render_hershey(ch: str, rng: np.random.Generator) -> np.ndarray:
    import cv2

    faces = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
             cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN]
    face = faces[rng.integers(len(faces))]
    scale = 2.0 if face != cv2.FONT_HERSHEY_PLAIN else 3.5
    thick = int(rng.integers(2, 7))
    img = np.full((110, 110), 255, np.uint8)
    cv2.putText(img, ch, (20, 85), face, scale, 0, thick, cv2.LINE_AA)
    return img


def _crop_to_ink(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ys, xs = np.nonzero(img < 128)
    if len(ys) == 0:
        return img
    h = ys.max() - ys.min() + 1
    m = lambda: int(rng.integers(0, max(1, int(0.12 * h)) + 1))  # noqa: E731
    y0, y1 = max(0, ys.min() - m()), min(img.shape[0], ys.max() + 1 + m())
    x0, x1 = max(0, xs.min() - m()), min(img.shape[1], xs.max() + 1 + m())
    return img[y0:y1, x0:x1]


def synth_glyph(ch: str, rng: np.random.Generator) -> np.ndarray:
    """One synthetic gray crop of ``ch``, dark glyph on a light background.

    >>> g = synth_glyph("A", np.random.default_rng(0))
    >>> g.dtype, g.ndim, bool(g.min() < 100 < g.max())
    (dtype('uint8'), 2, True)
    """
    import cv2

    if len(ch) != 1 or ch not in CLASSES:
        raise ValueError(f"not a class character: {ch!r}")
    fonts = _ttf_fonts()
    if fonts and rng.random() < 0.7:
        img = _render_ttf(ch, fonts[rng.integers(len(fonts))], int(rng.integers(40, 72)), rng)
    else:
        img = _render_hershey(ch, rng)
    # Plate fonts are tall and narrow: squeeze horizontally by a random factor.
    fx = rng.uniform(0.55, 1.0)
    img = cv2.resize(img, None, fx=fx, fy=1.0, interpolation=cv2.INTER_AREA)
    img = _crop_to_ink(img, rng)
    # Downscale to plate-like resolution and add sensor noise / blur.
    h = int(rng.integers(18, 48))
    s = h / img.shape[0]
    img = cv2.resize(img, (max(3, round(img.shape[1] * s)), h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.0))
    lo, hi = rng.uniform(0, 90), rng.uniform(160, 255)
    f = lo + (img.astype(np.float32) / 255.0) * (hi - lo) + rng.normal(0, rng.uniform(0, 8), img.shape)
    return np.clip(f, 0, 255).astype(np.uint8)


def synth_set(n: int, seed: int = 0):
    """``n`` synthetic crops, classes balanced, as a `CharSet` (source ``synthetic``)."""
    from .datasets import CharSet

    rng = np.random.default_rng(seed)
    out = CharSet()
    for k in range(n):
        ch = CLASSES[k % len(CLASSES)]
        out.add(synth_glyph(ch, rng), CLASSES.index(ch), "synthetic", f"synthetic:{k}", f"synthetic#{k}")
    return out

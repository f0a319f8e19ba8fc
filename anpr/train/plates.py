"""Synthetic US plates with exact per-glyph boxes: the data engine's plate generator.

A serial in a state-like format is drawn with a highway-gothic face (FHWA Series B-E
from `roadgeek-fonts`, MIT, or OSP-DIN, OFL; both vendored in ``fonts/`` with their
licences) onto a blank state plate (``../shared/data/templates/us``; a plain light
plate when no templates are given), with an optional picture or hyphen between groups,
then turned, blurred, scaled, noised and JPEG-compressed like a photographed plate.
The glyph boxes follow the image through every geometric step, so each crop cut from
them holds exactly one known character.

Everything is drawn from one `numpy.random.Generator`: the same seed gives the same
plates on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..normalize import CLASSES

FONTS_DIR = Path(__file__).with_name("fonts")
FONT_FILES = ("RG2014B.ttf", "RG2014C.ttf", "RG2014D.ttf", "RG2014E.ttf", "OSP-DIN.ttf")

US_FORMATS = (
    "NLLL NNN", "LLL NNNN", "NNN LLL", "LLL NNN", "NNN NNN", "LL NNNNN", "NNN LNNN",
    "NLL NNNN", "LLLL NN", "NNNNNN", "NNNNNNN", "LLLNNNN", "NN NNNN", "NNNN LL",
)
"""State-like serial layouts: ``L`` letter, ``N`` digit, space a gap between groups."""

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
PLATE_W, PLATE_H = 250, 125

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SynthPlate:
    """One drawn plate: BGR ``image``, its ``text`` and one ``(x, y, w, h)`` box per glyph."""

    image: np.ndarray
    text: str
    boxes: tuple[Box, ...]


def plate_fonts() -> list[Path]:
    """The vendored font files."""
    return [FONTS_DIR / n for n in FONT_FILES if (FONTS_DIR / n).exists()]


def load_templates(folder: str | Path | None) -> list[np.ndarray]:
    """Blank plates from ``folder`` (any images), resized to 250x125 BGR; empty when
    ``folder`` is None."""
    import cv2

    if folder is None:
        return []
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of blank plate images")
    out = []
    for p in sorted(folder.iterdir()):
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is not None:
            out.append(cv2.resize(img, (PLATE_W, PLATE_H), interpolation=cv2.INTER_AREA))
    if not out:
        raise ValueError(f"{folder}: no readable images")
    return out


def random_text(layout: str, rng: np.random.Generator) -> str:
    """A serial for ``layout`` (spaces kept).

    >>> t = random_text("LLL NNN", np.random.default_rng(1))
    >>> len(t), t[3], t[:3].isalpha(), t[4:].isdigit()
    (7, ' ', True, True)
    """
    pick = {"L": _LETTERS, "N": _DIGITS}
    bad = set(layout) - {"L", "N", " "}
    if bad:
        raise ValueError(f"layout {layout!r} has characters other than L, N and space: {sorted(bad)}")
    return "".join(" " if c == " " else pick[c][rng.integers(len(pick[c]))] for c in layout)


def _plain_background(rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(190, 250, 3)
    grad = np.linspace(rng.uniform(-25, 0), rng.uniform(0, 15), PLATE_H)[:, None, None]
    img = base[None, None, :] + grad + rng.normal(0, 3, (PLATE_H, PLATE_W, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _ink_colour(band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on a light band, light ink on a dark one (BGR)."""
    if band.mean() > 110:
        dark = ((90, 30, 10), (20, 20, 20), (30, 20, 120), (40, 80, 20), (110, 40, 20))
        c = np.array(dark[rng.integers(len(dark))], np.float32)
        return np.clip(c + rng.normal(0, 12, 3), 0, 255)
    light = ((235, 235, 235), (40, 200, 240), (220, 230, 240))
    return np.array(light[rng.integers(len(light))], np.float32)


def _draw_serial(text: str, font_path: Path, cap: int, rng: np.random.Generator):
    """Antialiased ink mask of ``text`` and each glyph's ink box in mask coordinates."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), int(cap * 1.38))
    gap = int(cap * rng.uniform(0.06, 0.16))
    space = int(cap * rng.uniform(0.35, 0.8))
    width = sum(space if c == " " else font.getbbox(c)[2] + gap for c in text) + 2 * cap
    mask = Image.new("L", (width, cap * 3), 0)
    draw = ImageDraw.Draw(mask)
    x, boxes, gaps = cap, [], []
    for c in text:
        if c == " ":
            gaps.append((x, space))
            x += space
            continue
        draw.text((x, cap // 2), c, fill=255, font=font)
        x0, y0, x1, y1 = draw.textbbox((x, cap // 2), c, font=font)
        boxes.append([x0, y0, x1 - x0, y1 - y0])
        x = x1 + gap
    return np.asarray(mask), boxes, gaps


def _tight(mask: np.ndarray, box: list[int]) -> list[int]:
    x, y, w, h = box
    sub = mask[y:y + h, x:x + w] > 96
    ys, xs = np.nonzero(sub)
    if len(ys) == 0:
        return box
    return [x + int(xs.min()), y + int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def synth_plate(
    rng: np.random.Generator,
    templates: list[np.ndarray] | None = None,
    fonts: list[Path] | None = None,
    layouts: tuple[str, ...] = US_FORMATS,
) -> SynthPlate:
    """Draw one plate.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random choice.
    templates : list of ndarray, optional
        Blank 250x125 BGR plates (`load_templates`); plain light plates when empty.
    fonts : list of path, optional
        TrueType faces; the vendored ones by default.
    layouts : tuple of str
        Serial layouts to draw from (see `US_FORMATS`).

    Returns
    -------
    SynthPlate

    Examples
    --------
    >>> p = synth_plate(np.random.default_rng(0))
    >>> len(p.boxes) == len(p.text), p.image.dtype, p.image.ndim
    (True, dtype('uint8'), 3)
    """
    import cv2

    fonts = fonts or plate_fonts()
    if not fonts:
        raise ValueError(f"no fonts in {FONTS_DIR}")
    bg = (templates[rng.integers(len(templates))].copy() if templates else _plain_background(rng))
    layout = layouts[rng.integers(len(layouts))]
    spaced = random_text(layout, rng)
    text = spaced.replace(" ", "")
    font = fonts[rng.integers(len(fonts))]

    cap = int(PLATE_H * rng.uniform(0.36, 0.5))
    mask, boxes, gaps = _draw_serial(spaced, font, cap, rng)
    boxes = [_tight(mask, b) for b in boxes]
    x0 = min(b[0] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y0 = min(b[1] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    ink = mask[y0:y1, x0:x1].astype(np.float32) / 255.0
    # Plate serials are condensed: squeeze to fit 88% of the plate width at most.
    sx = min(rng.uniform(0.75, 1.0), 0.88 * PLATE_W / ink.shape[1])
    ink = cv2.resize(ink, (max(1, round(ink.shape[1] * sx)), ink.shape[0]), interpolation=cv2.INTER_AREA)
    h, w = ink.shape
    left = int(rng.integers(int(0.04 * PLATE_W), max(int(0.04 * PLATE_W) + 1, PLATE_W - w - int(0.04 * PLATE_W))))
    top = int(np.clip(PLATE_H * rng.uniform(0.48, 0.58) - h / 2, 2, PLATE_H - h - 2))
    band = bg[top:top + h, left:left + w]
    colour = _ink_colour(band, rng)
    a = ink[:, :, None] * rng.uniform(0.85, 1.0)
    region = bg[top:top + h, left:left + w].astype(np.float32)
    bg[top:top + h, left:left + w] = np.clip(region * (1 - a) + colour * a, 0, 255).astype(np.uint8)
    boxes = [(left + round((b[0] - x0) * sx), top + b[1] - y0, max(1, round(b[2] * sx)), b[3]) for b in boxes]
    for gx, gw in gaps:
        if rng.random() < 0.5:
            continue  # a plain gap
        cx = left + round((gx + gw / 2 - x0) * sx)
        cy = top + h // 2
        if rng.random() < 0.5:
            cv2.line(bg, (cx - max(2, h // 8), cy), (cx + max(2, h // 8), cy), colour.tolist(), max(2, h // 10))
        else:
            pic = tuple(int(v) for v in rng.integers(0, 256, 3))
            r = min(h * rng.uniform(0.15, 0.3), gw * sx * 0.4)
            cv2.circle(bg, (cx, cy), max(2, int(r)), pic, -1, cv2.LINE_AA)
    return _photograph(bg, text, boxes, rng)


def _photograph(img: np.ndarray, text: str, boxes: list, rng: np.random.Generator) -> SynthPlate:
    """Perspective, blur, scale, noise and JPEG; boxes follow the geometry."""
    import cv2

    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * np.float32([w, h])
    out_w = int(rng.integers(90, 260))
    out_h = max(20, round(out_w * h / w * rng.uniform(0.9, 1.1)))
    dst -= dst.min(axis=0)
    dst *= np.float32([out_w / max(dst[:, 0].max(), 1), out_h / max(dst[:, 1].max(), 1)])
    m = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    new_boxes = []
    for x, y, bw, bh in boxes:
        pts = np.float32([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]]).reshape(-1, 1, 2)
        q = cv2.perspectiveTransform(pts, m).reshape(-1, 2)
        qx0, qy0 = np.floor(q.min(axis=0)).astype(int)
        qx1, qy1 = np.ceil(q.max(axis=0)).astype(int)
        qx0, qy0 = max(0, qx0), max(0, qy0)
        new_boxes.append((int(qx0), int(qy0), int(min(out_w, qx1) - qx0), int(min(out_h, qy1) - qy0)))
    if rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2))
    shade = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.1), out_w)[None, :, None]
    noisy = img.astype(np.float32) * shade + rng.normal(0, rng.uniform(0, 8), img.shape)
    img = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return SynthPlate(img, text, tuple(new_boxes))


def synth_plates(n: int, seed: int = 0, templates: list[np.ndarray] | None = None):
    """Yield ``n`` plates drawn from ``seed`` (see `synth_plate`)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    fonts = plate_fonts()
    for _ in range(n):
        yield synth_plate(rng, templates, fonts)


def contact_sheet(plates: list[SynthPlate], cols: int = 6, width: int = 250) -> np.ndarray:
    """The plates side by side, each glyph box drawn in green, the text written below."""
    import cv2

    if not plates:
        raise ValueError("no plates to show")
    cells = []
    for p in plates:
        img = p.image.copy()
        for x, y, w, h in p.boxes:
            cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (0, 200, 0), 1)
        s = width / img.shape[1]
        img = cv2.resize(img, (width, max(1, round(img.shape[0] * s))), interpolation=cv2.INTER_NEAREST)
        cell = np.full((160, width, 3), 255, np.uint8)
        hh = min(img.shape[0], 135)
        cell[:hh] = img[:hh]
        cv2.putText(cell, p.text, (4, 154), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        cells.append(cell)
    while len(cells) % cols:
        cells.append(np.full_like(cells[0], 255))
    rows = [np.hstack(cells[i:i + cols]) for i in range(0, len(cells), cols)]
    return np.vstack(rows)


def glyph_crops(plate: SynthPlate):
    """``(crop, class index)`` for each glyph, cut the way the reader cuts them."""
    from ..segment import cut_chars

    crops = cut_chars(plate.image, list(plate.boxes))
    return [(c, CLASSES.index(ch)) for c, ch in zip(crops, plate.text) if c is not None and c.size]

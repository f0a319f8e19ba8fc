"""Synthetic US plates with exact per-glyph boxes: the data engine's plate generator.

A serial in a state-like format (or, for ``style="eu"``, a European layout on a white
or yellow plate with the blue band) is drawn with a highway-gothic face (FHWA Series B-E
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
from typing import Any

import numpy as np

from ..normalize import CLASSES

FONTS_DIR = Path(__file__).with_name("fonts")
FONT_FILES = ("RG2014B.ttf", "RG2014C.ttf", "RG2014D.ttf", "RG2014E.ttf", "OSP-DIN.ttf")

US_FORMATS = (
    "NLLL NNN", "LLL NNNN", "NNN LLL", "LLL NNN", "NNN NNN", "LL NNNNN", "NNN LNNN",
    "NLL NNNN", "LLLL NN", "NNNNNN", "NNNNNNN", "LLLNNNN", "NN NNNN", "NNNN LL",
)
"""State-like serial layouts: ``L`` letter, ``N`` digit, space a gap between groups."""

EU_FORMATS = (
    "LL NNN LL", "LL NNNN LL", "NLN NNNN", "LLNN LLL", "LLL NNNN", "LL NN LL", "LLL NNN", "LL NNNNN",
)
"""European-like layouts (Croatian, Italian, French, Czech, British, German...)."""

AR_FORMATS = ("LLL NNN",)
"""Argentine plates of 1995-2016: white on black in a white frame."""

MERCOSUR_FORMATS = ("LL NNN LL", "LLLNLNN")
"""Mercosur plates (Argentina since 2016, Brazil since 2018): black on white below a blue band."""

# Per style: plate size, serial cap height and centre (fractions of the height),
# horizontal squeeze, and the share of the width the serial may fill.
_STYLES: dict[str, dict[str, Any]] = {
    "us": {"size": (250, 125), "cap": (0.36, 0.5), "centre": (0.48, 0.58), "squeeze": (0.75, 1.0), "fill": 0.88},
    "eu": {"size": (520, 112), "cap": (0.58, 0.7), "centre": (0.47, 0.53), "squeeze": (0.8, 1.0), "fill": 0.8},
    "ar": {"size": (300, 130), "cap": (0.5, 0.62), "centre": (0.5, 0.58), "squeeze": (0.75, 1.0), "fill": 0.9},
    "mercosur": {"size": (400, 130), "cap": (0.48, 0.58), "centre": (0.6, 0.66), "squeeze": (0.8, 1.0), "fill": 0.9},
}

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


def _eu_background(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A white (or British yellow) plate with the blue EU band at the left; returns the
    image and where the band ends."""
    import cv2

    w, h = _STYLES["eu"]["size"]
    colour = (40, 200, 245) if rng.random() < 0.25 else (235, 238, 240)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = np.clip(np.asarray(colour, np.float32) + rng.normal(0, 6, 3), 0, 255)
    band = int(w * rng.uniform(0.07, 0.09))
    img[:, :band] = np.clip(np.asarray((150, 60, 10), np.float32) + rng.normal(0, 10, 3), 0, 255)
    c = (band // 2, int(h * 0.33))
    for k in range(12):  # the ring of stars
        t = 2 * np.pi * k / 12
        cv2.circle(img, (int(c[0] + 0.3 * band * np.cos(t)), int(c[1] + 0.3 * band * np.sin(t))), 2,
                   (0, 210, 250), -1)
    code = "".join(rng.choice(list(_LETTERS), int(rng.integers(1, 3))))
    cv2.putText(img, code, (int(band * 0.15), int(h * 0.85)), cv2.FONT_HERSHEY_SIMPLEX, band / 45, (250, 250, 250),
                2, cv2.LINE_AA)
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), (30, 30, 30), int(rng.integers(1, 4)))
    shade = np.linspace(rng.uniform(-20, 0), rng.uniform(0, 10), h)[:, None, None]
    return np.clip(img + shade, 0, 255).astype(np.uint8), band


def _framed_background(style: str, rng: np.random.Generator) -> tuple[np.ndarray, int, np.ndarray]:
    """An Argentine plate (black, a white frame inset from the edge) or a Mercosur one
    (white, a blue band across the top, a thin dark frame); returns the image, the inner
    margin left of the frame, and the ink colour. The frame's sides stand right beside
    the first and last glyph, where a reader takes them for a ``1``."""
    import cv2

    w, h = _STYLES[style]["size"]
    img = np.empty((h, w, 3), np.uint8)
    if style == "ar":
        img[:] = np.clip(rng.normal(30, 8, 3), 0, 70)
        ink = np.clip(rng.normal(225, 12, 3), 170, 255).astype(np.float32)
        inset, t = int(h * rng.uniform(0.03, 0.08)), int(rng.integers(2, 6))
        cv2.rectangle(img, (inset, inset), (w - 1 - inset, h - 1 - inset), ink.tolist(), t)
        cv2.putText(img, "REPUBLICA ARGENTINA", (int(w * 0.3), inset + t + int(h * 0.1)), cv2.FONT_HERSHEY_SIMPLEX,
                    h / 400, ink.tolist(), 1, cv2.LINE_AA)
        margin = inset + t + int(h * rng.uniform(0.0, 0.08))
    else:
        img[:] = np.clip(rng.normal(235, 8, 3), 190, 255)
        band = int(h * rng.uniform(0.2, 0.26))
        img[:band] = np.clip(np.asarray((150, 60, 10), np.float32) + rng.normal(0, 12, 3), 0, 255)
        name = "REPUBLICA ARGENTINA" if rng.random() < 0.5 else "BRASIL"
        cv2.putText(img, name, (int(w * 0.35), int(band * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, band / 45,
                    (250, 250, 250), 1, cv2.LINE_AA)
        ink = np.clip(rng.normal(25, 8, 3), 0, 70).astype(np.float32)
        t = int(rng.integers(2, 5))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), ink.tolist(), t)
        margin = t + int(h * rng.uniform(0.02, 0.1))
    for cx in (int(w * 0.08), int(w * 0.92)):  # screws
        if rng.random() < 0.5:
            cv2.circle(img, (cx, int(h * rng.uniform(0.15, 0.3))), max(2, h // 25),
                       tuple(int(v) for v in rng.integers(90, 200, 3)), -1, cv2.LINE_AA)
    shade = np.linspace(rng.uniform(-20, 0), rng.uniform(0, 10), h)[:, None, None]
    return np.clip(img + shade, 0, 255).astype(np.uint8), margin, ink


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
    width = int(sum(space if c == " " else font.getbbox(c)[2] + gap for c in text)) + 2 * cap  # ints already
    mask = Image.new("L", (width, cap * 3), 0)
    draw = ImageDraw.Draw(mask)
    x: int = cap
    boxes: list[list[int]] = []
    gaps: list[tuple[int, int]] = []
    for c in text:
        if c == " ":
            gaps.append((x, space))
            x += space
            continue
        draw.text((x, cap // 2), c, fill=255, font=font)
        x0, y0, x1, y1 = map(int, draw.textbbox((x, cap // 2), c, font=font))  # ints already for a TrueType font
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
    layouts: tuple[str, ...] | None = None,
    style: str = "us",
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
    layouts : tuple of str, optional
        Serial layouts to draw from (default: `US_FORMATS` or `EU_FORMATS`).
    style : {"us", "eu", "ar", "mercosur"}
        A US plate on a blank state plate, a European one with the blue band, an
        Argentine white-on-black one in its white frame, or a Mercosur one.

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
    if style not in _STYLES:
        raise ValueError(f"style must be one of {sorted(_STYLES)}, got {style!r}")
    st = _STYLES[style]
    W, H = st["size"]
    margin = int(0.04 * W)
    framed_ink = None
    if style == "eu":
        bg, band = _eu_background(rng)
        margin = band + int(0.02 * W)
        layouts = layouts or EU_FORMATS
    elif style in ("ar", "mercosur"):
        bg, margin, framed_ink = _framed_background(style, rng)
        layouts = layouts or (AR_FORMATS if style == "ar" else MERCOSUR_FORMATS)
    else:
        bg = (templates[rng.integers(len(templates))].copy() if templates else _plain_background(rng))
        layouts = layouts or US_FORMATS
    layout = layouts[rng.integers(len(layouts))]
    spaced = random_text(layout, rng)
    text = spaced.replace(" ", "")
    font = fonts[rng.integers(len(fonts))]

    cap = int(H * rng.uniform(*st["cap"]))
    mask, boxes, gaps = _draw_serial(spaced, font, cap, rng)
    boxes = [_tight(mask, b) for b in boxes]
    x0 = min(b[0] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y0 = min(b[1] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    ink = mask[y0:y1, x0:x1].astype(np.float32) / 255.0
    # Plate serials are condensed: squeeze to fit the plate's text area at most.
    right_margin = margin if framed_ink is not None else int(0.03 * W)
    room = min(st["fill"] * W, W - margin - right_margin)
    sx = min(rng.uniform(*st["squeeze"]), room / ink.shape[1])
    ink = cv2.resize(ink, (max(1, round(ink.shape[1] * sx)), ink.shape[0]), interpolation=cv2.INTER_AREA)
    h, w = ink.shape
    if framed_ink is not None:  # the serial centred between the frame's sides
        left = int(np.clip((W - w) / 2 + rng.normal(0, 0.01 * W), margin, max(margin, W - w - right_margin)))
    else:
        left = int(rng.integers(margin, max(margin + 1, W - w - right_margin)))
    top = int(np.clip(H * rng.uniform(*st["centre"]) - h / 2, 2, H - h - 2))
    under = bg[top:top + h, left:left + w]
    if framed_ink is not None:
        colour = framed_ink
    elif style == "us":
        colour = _ink_colour(under, rng)
    else:
        colour = np.clip(rng.normal(25, 10, 3), 0, 80).astype(np.float32)
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
    if style == "us":
        _distract(bg, boxes, font, colour, rng)
    elif style == "eu":
        _distract_eu(bg, boxes, gaps, x0, sx, left, rng)
    return _photograph(bg, text, boxes, rng)


def _distract_eu(img: np.ndarray, boxes: list, gaps: list, x0: int, sx: float, left: int,
                 rng: np.random.Generator) -> None:
    """Czech and Slovak plates carry two round inspection stickers between the groups;
    many plates sit in a dealer frame with a line of small print."""
    import cv2

    h, w = img.shape[:2]
    cap = int(np.median([b[3] for b in boxes]))
    for gx, gw in gaps:
        if rng.random() < 0.4:
            cx = left + round((gx + gw / 2 - x0) * sx)
            cy = boxes[0][1] + cap // 2
            r = max(2, int(cap * rng.uniform(0.12, 0.17)))
            cv2.rectangle(img, (cx - r - 2, cy - 2 * r - 3), (cx + r + 2, cy + 2 * r + 3), (225, 225, 225), -1)
            for dy, col in ((-r - 1, (40, 40, 200)), (r + 1, (60, 160, 60))):
                cv2.circle(img, (cx, cy + dy), r, tuple(int(v) for v in np.clip(rng.normal(col, 25), 0, 255)), -1)
    if rng.random() < 0.4:
        t = int(rng.integers(4, 12))
        frame = tuple(int(v) for v in rng.integers(0, 70, 3))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), frame, t)
        if rng.random() < 0.6:
            cv2.putText(img, "AUTO " + "".join(rng.choice(list(_LETTERS), 6)), (int(w * 0.2), h - 2),
                        cv2.FONT_HERSHEY_SIMPLEX, max(0.3, t / 14), (200, 200, 200), 1, cv2.LINE_AA)


def _small_text(img: np.ndarray, text: str, font_path: Path, x: int, y: int, height: int,
                colour, vertical: bool = False) -> None:
    """Draw ``text`` (stacked when ``vertical``) with its top-left corner at ``(x, y)``."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), max(6, int(height * 1.38)))
    layer = Image.new("L", (img.shape[1], img.shape[0]), 0)
    draw = ImageDraw.Draw(layer)
    for k, c in enumerate(text):
        pos = (x, y + k * int(height * 1.15)) if vertical else (x + k * int(height * 0.7), y)
        x0, y0, _, _ = draw.textbbox(pos, c, font=font)
        draw.text((2 * pos[0] - x0, 2 * pos[1] - y0), c, fill=255, font=font)
    a = np.asarray(layer, np.float32)[:, :, None] / 255.0
    img[:] = np.clip(img * (1 - a) + np.asarray(colour, np.float32) * a, 0, 255).astype(np.uint8)


def _distract(img: np.ndarray, boxes: list, font: Path, colour, rng: np.random.Generator) -> None:
    """What real plates carry besides the serial, none of it a serial glyph: small
    stacked county or month letters beside the serial, registration stickers in the
    corners, a dealer frame around the plate."""
    import cv2

    h, w = img.shape[:2]
    cap = int(np.median([b[3] for b in boxes]))
    left, right = boxes[0][0], boxes[-1][0] + boxes[-1][2]
    if rng.random() < 0.35:  # stacked small letters/digits at one end
        side_text = "".join(rng.choice(list(_LETTERS + _DIGITS), int(rng.integers(1, 3))))
        sh = int(cap * rng.uniform(0.3, 0.45))
        room_left, room_right = left - 4, w - right - 4
        if max(room_left, room_right) > sh:
            x = int(rng.integers(2, max(3, room_left - sh))) if room_left >= room_right else \
                int(rng.integers(right + 3, max(right + 4, w - sh - 2)))
            y = int(boxes[0][1] + rng.uniform(-0.1, 0.3) * cap)
            _small_text(img, side_text, font, x, max(1, y), sh, colour, vertical=True)
    if rng.random() < 0.35:  # a sticker in a top or bottom corner
        sw, shh = int(w * rng.uniform(0.1, 0.18)), int(h * rng.uniform(0.12, 0.2))
        x = int(rng.choice([rng.integers(3, 12), w - sw - int(rng.integers(3, 12))]))
        y = int(rng.choice([rng.integers(3, 10), h - shh - int(rng.integers(3, 10))]))
        sticker = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.rectangle(img, (x, y), (x + sw, y + shh), sticker, -1)
        ink = (0, 0, 0) if sum(sticker) > 380 else (255, 255, 255)
        _small_text(img, "".join(rng.choice(list(_DIGITS), 2)), font, x + 2, y + 2, max(6, shh - 6), ink)
    if rng.random() < 0.3:  # a dealer frame
        t = int(rng.integers(3, 9))
        frame = tuple(int(v) for v in rng.integers(0, 80, 3))
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), frame, t)
        if rng.random() < 0.5:
            cv2.rectangle(img, (0, h - int(h * rng.uniform(0.1, 0.16))), (w - 1, h - 1), frame, -1)


def _photograph(img: np.ndarray, text: str, boxes: list, rng: np.random.Generator) -> SynthPlate:
    """Perspective, blur, scale, noise and JPEG; boxes follow the geometry."""
    import cv2

    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = src + rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    out_w = int(rng.integers(90, 260))
    out_h = max(20, round(out_w * h / w * rng.uniform(0.9, 1.1)))
    dst -= dst.min(axis=0)
    dst *= np.array([out_w / max(dst[:, 0].max(), 1), out_h / max(dst[:, 1].max(), 1)], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    img = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    new_boxes = []
    for x, y, bw, bh in boxes:
        pts = np.array([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]], np.float32).reshape(-1, 1, 2)
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
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert decoded is not None  # a JPEG just encoded
    return SynthPlate(decoded, text, tuple(new_boxes))


def synth_plates(n: int, seed: int = 0, templates: list[np.ndarray] | None = None, eu_share: float = 0.0,
                 south_share: float = 0.0):
    """Yield ``n`` plates drawn from ``seed`` (see `synth_plate`), a share ``eu_share``
    of them European and a share ``south_share`` South American (half Argentine
    white-on-black, half Mercosur), the rest US."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for name, v in (("eu_share", eu_share), ("south_share", south_share)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v}")
    if eu_share + south_share > 1.0:
        raise ValueError(f"eu_share + south_share must be at most 1, got {eu_share + south_share}")
    rng = np.random.default_rng(seed)
    fonts = plate_fonts()
    for _ in range(n):
        # Drawn only when asked for, so that earlier runs keep their random stream.
        style = "us"
        if eu_share > 0 and rng.random() < eu_share:
            style = "eu"
        elif south_share > 0 and rng.random() < south_share / max(1e-9, 1.0 - eu_share):
            style = "ar" if rng.random() < 0.5 else "mercosur"
        yield synth_plate(rng, templates, fonts, style=style)


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

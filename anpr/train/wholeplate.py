"""Synthetic plates of many countries for the whole-plate reader (`anpr.plate_ocr`).

Each country's look is data (`STYLES`): plate size, background and ink colours, the
EU band and its country code, side bands, serial layouts, fonts, and what is printed
besides the serial (place names, small print, stickers). `draw_plate` draws one plate
of a style with the glyph boxes known exactly (`anpr.train.plates.SynthPlate`), and
`reader_crop` cuts it the way the reader cuts plates out of photos: a little car body
around it, the box off by some pixels, sometimes an end cut short.

The fonts are vendored in ``fonts/`` with their licences: FHWA Series B-E
(`roadgeek-fonts`, MIT) for US-like plates, OSP-DIN (OFL) for German-like ones, and
from Debian's font packages Roboto Condensed Bold (``fonts-roboto-unhinted``,
Apache-2.0), DejaVu Sans Condensed Bold (``fonts-dejavu-extra``, Bitstream Vera
licence) and Bebas Neue (``fonts-bebas-neue``, OFL-1.1).

Everything is drawn from one `numpy.random.Generator`: the same seed gives the same
plates on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .plates import (
    FONTS_DIR,
    SynthPlate,
    _distract,
    _draw_serial,
    _photograph,
    _small_text,
    _tight,
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"

HIGHWAY = ("RG2014B.ttf", "RG2014C.ttf", "RG2014D.ttf", "RG2014E.ttf")
DIN = ("OSP-DIN.ttf",)
CONDENSED = ("RobotoCondensed-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "BebasNeue-Regular.otf")

WHITE, YELLOW, GREY = (238, 240, 240), (30, 200, 250), (190, 190, 185)
BLACK, RED, BLUE = (25, 25, 25), (30, 30, 170), (120, 50, 20)

# Per style: size (w, h), background BGR colours, ink colours, the EU band's country
# codes (None: no band), a right band colour, serial layouts (``L`` letter, ``N`` digit,
# ``A`` either, ``-`` a hyphen, space a gap), fonts, the serial's cap height and centre
# as fractions of the plate height, and small print (``top``/``bottom`` words).
STYLES: dict[str, dict[str, Any]] = {
    "uk_front": dict(size=(520, 111), bg=(WHITE,), ink=(BLACK,), band=("GB", "UK", "", "CYM", "ENG"),
                     layouts=("LLNN LLL", "LNNN LLL", "LLL NNNL", "LL NN LLL"), fonts=CONDENSED + DIN,
                     cap=(0.6, 0.72), centre=(0.48, 0.52)),
    "uk_rear": dict(size=(520, 111), bg=(YELLOW,), ink=(BLACK,), band=("GB", "UK", "", ""),
                    layouts=("LLNN LLL", "LNNN LLL", "LL NN LLL"), fonts=CONDENSED + DIN,
                    cap=(0.6, 0.72), centre=(0.48, 0.52)),
    "es": dict(size=(520, 110), bg=(WHITE,), ink=(BLACK,), band=("E",), layouts=("NNNN LLL", "L NNNN LL"),
               fonts=DIN + CONDENSED, cap=(0.6, 0.72), centre=(0.48, 0.53)),
    "de": dict(size=(520, 110), bg=(WHITE,), ink=(BLACK,), band=("D",),
               layouts=("LL LL NNNN", "L LL NNN", "LLL L NNNN", "LL L NNN", "L L NNNN", "LL LL NN"),
               fonts=DIN, cap=(0.6, 0.7), centre=(0.48, 0.52), seals=True),
    "fr": dict(size=(520, 110), bg=(WHITE,), ink=(BLACK,), band=("F",), right=BLUE,
               layouts=("LL-NNN-LL",), fonts=CONDENSED + DIN, cap=(0.58, 0.7), centre=(0.48, 0.52)),
    "it": dict(size=(520, 110), bg=(WHITE,), ink=(BLACK,), band=("I",), right=BLUE,
               layouts=("LL NNN LL",), fonts=DIN + CONDENSED, cap=(0.58, 0.68), centre=(0.48, 0.52)),
    "nl": dict(size=(520, 110), bg=(YELLOW,), ink=(BLACK,), band=("NL",),
               layouts=("NN-LLL-N", "LL-NNN-L", "N-LLL-NN", "LL-NN-LL", "NNN-LL-N", "L-NNN-LL"),
               fonts=DIN + CONDENSED, cap=(0.6, 0.7), centre=(0.48, 0.52)),
    "be": dict(size=(520, 110), bg=(WHITE,), ink=(RED,), band=("B",), layouts=("N-LLL-NNN", "LLL-NNN"),
               fonts=DIN + CONDENSED, cap=(0.6, 0.7), centre=(0.48, 0.52)),
    "pl": dict(size=(520, 114), bg=(WHITE,), ink=(BLACK,), band=("PL",), layouts=("LL NNNNN", "LLL NNNN", "LL NNNLL",
                                                                             "LLL NNLL"),
               fonts=DIN + CONDENSED, cap=(0.6, 0.7), centre=(0.48, 0.52)),
    "pt": dict(size=(520, 110), bg=(WHITE,), ink=(BLACK,), band=("P",), right=YELLOW,
               layouts=("LL-NN-LL", "NN-LL-NN", "NN-NN-LL"), fonts=DIN + CONDENSED, cap=(0.6, 0.7),
               centre=(0.48, 0.52)),
    "eu": dict(size=(520, 112), bg=(WHITE, YELLOW), ink=(BLACK,), band=("A", "CZ", "SK", "H", "HR", "RO", "SLO", "LT",
                                                                       "S", "FIN", "DK", "SRB", "BG", "IRL"),
               layouts=("LL NNN LL", "LL NNNN LL", "NLN NNNN", "LLL NNN", "LL NNNNN", "LLL-NNN", "LL-NNNN",
                        "NN LLL NN", "LL NNN L"),
               fonts=DIN + CONDENSED, cap=(0.58, 0.7), centre=(0.47, 0.53), seals=True),
    "us": dict(size=(250, 125), bg=(WHITE, (235, 225, 200), (240, 235, 225)), ink=(BLACK, BLUE, RED, (20, 60, 20)),
               band=None, layouts=("NLLL NNN", "LLL NNNN", "NNN LLL", "LLL NNN", "NNN NNN", "LL NNNNN", "NNN LNNN",
                                   "NLL NNNN", "LLLL NN", "NNNNNN", "NNNNNNN", "LLLNNNN", "NN NNNN", "NNNN LL",
                                   "NLLLNNN", "LNNNNN"),
               fonts=HIGHWAY + DIN, cap=(0.36, 0.5), centre=(0.48, 0.58), top=True),
    "us_vanity": dict(size=(250, 125), bg=(WHITE, (235, 225, 200)), ink=(BLACK, BLUE, RED),
                      band=None, layouts=("AAA", "AAAA", "AAAAA", "AAAAAA", "AAAAAAA", "LLLLLLL", "LLLLL", "LLLL",
                                          "AAA AAA", "AAAA AAA"),
                      fonts=HIGHWAY + CONDENSED, cap=(0.36, 0.5), centre=(0.48, 0.58), top=True),
    "ca": dict(size=(250, 125), bg=(WHITE,), ink=(BLUE, BLACK), band=None, layouts=("LLLL NNN", "LLL NNN", "NNN LLL",
                                                                               "LLLL NN"),
               fonts=HIGHWAY + CONDENSED, cap=(0.36, 0.48), centre=(0.5, 0.58), top=True),
    "mx": dict(size=(250, 125), bg=(WHITE,), ink=(BLACK, (60, 60, 120)), band=None,
               layouts=("LLL-NNN-L", "LLL-NNNN", "LL-NNNNN", "NNN-LLL"), fonts=CONDENSED + HIGHWAY,
               cap=(0.33, 0.45), centre=(0.5, 0.6), top=True),
    "br_old": dict(size=(400, 130), bg=(GREY, (210, 210, 205)), ink=(BLACK,), band=None, layouts=("LLL-NNNN",),
                   fonts=DIN + CONDENSED, cap=(0.5, 0.6), centre=(0.6, 0.66), top=True),
    "mercosur": dict(size=(400, 130), bg=(WHITE,), ink=(BLACK,), band=None, top_band=BLUE,
                     layouts=("LLLNLNN", "LL NNN LL", "LLLNLNN"), fonts=DIN + CONDENSED, cap=(0.5, 0.6),
                     centre=(0.6, 0.66)),
    "ar_old": dict(size=(300, 130), bg=((30, 30, 30),), ink=((225, 225, 225),), band=None, layouts=("LLL NNN",),
                   fonts=DIN + HIGHWAY, cap=(0.5, 0.6), centre=(0.55, 0.6), inner_frame=True),
}

STYLE_WEIGHTS: dict[str, float] = {
    "us": 0.2, "us_vanity": 0.1, "ca": 0.03, "mx": 0.03, "uk_front": 0.06, "uk_rear": 0.06, "es": 0.04,
    "de": 0.06, "fr": 0.04, "it": 0.04, "nl": 0.03, "be": 0.02, "pl": 0.03, "pt": 0.02, "eu": 0.08,
    "br_old": 0.05, "mercosur": 0.08, "ar_old": 0.03,
}
"""How often each style is drawn (normalised): US and European plates are most of what
users read; every style appears."""


def style_fonts(style: str) -> list[Path]:
    """The vendored font files of ``style``."""
    return [FONTS_DIR / n for n in STYLES[style]["fonts"] if (FONTS_DIR / n).exists()]


def random_serial(layout: str, rng: np.random.Generator) -> str:
    """A serial for ``layout``: ``L`` a letter, ``N`` a digit, ``A`` either, other
    characters (space, hyphen) kept.

    >>> s = random_serial("LL-NNN-A", np.random.default_rng(3))
    >>> s[2], s[6], s[:2].isalpha(), s[3:6].isdigit(), s[7].isalnum()
    ('-', '-', True, True, True)
    """
    out = []
    for c in layout:
        if c == "L":
            out.append(_LETTERS[rng.integers(26)])
        elif c == "N":
            out.append(_DIGITS[rng.integers(10)])
        elif c == "A":
            out.append((_LETTERS + _DIGITS)[rng.integers(36)])
        else:
            out.append(c)
    return "".join(out)


def _colour(c, rng: np.random.Generator, sd: float = 8.0) -> np.ndarray:
    return np.clip(np.asarray(c, np.float32) + rng.normal(0, sd, 3), 0, 255)


def _background(style: str, rng: np.random.Generator, templates) -> tuple[np.ndarray, int, int, np.ndarray]:
    """The blank plate of ``style``: image, left and right margins of the serial area,
    and the ink colour."""
    import cv2

    st = STYLES[style]
    w, h = st["size"]
    if style.startswith("us") and templates and rng.random() < 0.6:
        img = cv2.resize(templates[rng.integers(len(templates))], (w, h), interpolation=cv2.INTER_AREA).copy()
    else:
        img = np.empty((h, w, 3), np.uint8)
        img[:] = _colour(st["bg"][rng.integers(len(st["bg"]))], rng)
        if style.startswith("us") and rng.random() < 0.4:  # a two-tone or graded state background
            top = _colour(rng.integers(60, 256, 3), rng)
            k = int(h * rng.uniform(0.15, 0.35))
            img[:k] = (0.5 * img[:k] + 0.5 * top).astype(np.uint8)
    ink = _colour(st["ink"][rng.integers(len(st["ink"]))], rng, 12)
    left, right = int(0.04 * w), int(0.04 * w)
    if st.get("band") is not None:
        band = int(w * rng.uniform(0.07, 0.09))
        img[:, :band] = _colour((150, 60, 10), rng, 10)
        cx, cy = band // 2, int(h * 0.33)
        for k in range(12):
            t = 2 * np.pi * k / 12
            cv2.circle(img, (int(cx + 0.3 * band * np.cos(t)), int(cy + 0.3 * band * np.sin(t))), 2, (0, 210, 250), -1)
        code = st["band"][rng.integers(len(st["band"]))]
        if code:  # the country code: printed on the plate, never part of the serial
            _small_text(img, code, style_fonts(style)[0], int(band * 0.12), int(h * 0.6),
                        max(6, int(h * 0.22 / max(1, len(code) / 2))), (245, 245, 245))
        left = band + int(0.02 * w)
    if st.get("right") is not None:
        rb = int(w * rng.uniform(0.07, 0.09))
        img[:, w - rb:] = _colour(st["right"], rng, 10)
        if rng.random() < 0.7:  # a region number or year in the right band
            _small_text(img, random_serial("NN", rng), style_fonts(style)[0], w - rb + 3, int(h * 0.55),
                        max(6, int(h * 0.2)), (245, 245, 245))
        right = rb + int(0.02 * w)
    if st.get("top_band") is not None:
        k = int(h * rng.uniform(0.2, 0.26))
        img[:k] = _colour(st["top_band"], rng, 10)
        name = ("BRASIL", "REPUBLICA ARGENTINA", "MERCOSUR")[rng.integers(3)]
        cv2.putText(img, name, (int(w * 0.3), int(k * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, k / 45, (250, 250, 250), 1,
                    cv2.LINE_AA)
    if st.get("inner_frame"):
        inset, t = int(h * rng.uniform(0.03, 0.08)), int(rng.integers(2, 6))
        cv2.rectangle(img, (inset, inset), (w - 1 - inset, h - 1 - inset), ink.tolist(), t)
        left = right = inset + t + int(h * rng.uniform(0.0, 0.06))
    if st.get("top") and rng.random() < 0.7:  # a state or city name above or below the serial
        word = "".join(rng.choice(list(_LETTERS), int(rng.integers(4, 11))))
        y = int(h * rng.uniform(0.04, 0.12)) if rng.random() < 0.6 else int(h * rng.uniform(0.8, 0.88))
        _small_text(img, word, style_fonts(style)[-1], int(w * rng.uniform(0.15, 0.35)), y,
                    max(6, int(h * rng.uniform(0.08, 0.13))), _colour(ink, rng, 30))
    thickness = int(rng.integers(1, 4))
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), (30, 30, 30), thickness)
    return img, left, right, ink


def draw_plate(style: str, rng: np.random.Generator, templates: list[np.ndarray] | None = None) -> SynthPlate:
    """One plate of ``style`` (a key of `STYLES`), photographed: its text (letters and
    digits only) and one box per glyph.

    Examples
    --------
    >>> p = draw_plate("de", np.random.default_rng(0))
    >>> len(p.boxes) == len(p.text), p.text.isalnum(), p.image.dtype
    (True, True, dtype('uint8'))
    """
    import cv2

    if style not in STYLES:
        raise ValueError(f"style must be one of {sorted(STYLES)}, got {style!r}")
    st = STYLES[style]
    W, H = st["size"]
    bg, margin, right_margin, ink_colour = _background(style, rng, templates)
    layout = st["layouts"][rng.integers(len(st["layouts"]))]
    spaced = random_serial(layout, rng)
    hyphens = [i for i, c in enumerate(spaced) if c == "-"]
    drawn = spaced.replace("-", " ")
    text = drawn.replace(" ", "")
    fonts = style_fonts(style)
    font = fonts[rng.integers(len(fonts))]
    cap = int(H * rng.uniform(*st["cap"]))
    mask, boxes, gaps = _draw_serial(drawn, font, cap, rng)
    boxes = [_tight(mask, b) for b in boxes]
    x0, x1 = min(b[0] for b in boxes), max(b[0] + b[2] for b in boxes)
    y0, y1 = min(b[1] for b in boxes), max(b[1] + b[3] for b in boxes)
    ink = mask[y0:y1, x0:x1].astype(np.float32) / 255.0
    room = W - margin - right_margin
    sx = min(rng.uniform(0.8, 1.05), room / ink.shape[1])
    ink = cv2.resize(ink, (max(1, round(ink.shape[1] * sx)), ink.shape[0]), interpolation=cv2.INTER_AREA)
    h, w = ink.shape
    slack = max(0, W - margin - right_margin - w)
    left = margin + int(rng.uniform(0.3, 0.7) * slack) if slack else margin
    left = min(left, max(0, W - w))
    top = int(np.clip(H * rng.uniform(*st["centre"]) - h / 2, 2, max(2, H - h - 2)))
    h = min(h, H - top)
    a = ink[:h, : W - left, None] * rng.uniform(0.85, 1.0)
    region = bg[top:top + h, left:left + a.shape[1]].astype(np.float32)
    bg[top:top + h, left:left + a.shape[1]] = np.clip(region * (1 - a) + ink_colour * a, 0, 255).astype(np.uint8)
    boxes = [(left + round((b[0] - x0) * sx), top + b[1] - y0, max(1, round(b[2] * sx)), b[3]) for b in boxes]
    gap_of_hyphen = {spaced[:i].count(" ") + spaced[:i].count("-") for i in hyphens}
    for k, (gx, gw) in enumerate(gaps):
        cx, cy = left + round((gx + gw / 2 - x0) * sx), top + h // 2
        if k in gap_of_hyphen or (style.startswith("us") and rng.random() < 0.25):
            cv2.line(bg, (cx - max(2, h // 8), cy), (cx + max(2, h // 8), cy), ink_colour.tolist(), max(2, h // 10))
        elif st.get("seals") and rng.random() < 0.5:  # round seals or inspection stickers between groups
            r = max(2, int(h * rng.uniform(0.12, 0.18)))
            for dy in (-r - 1, r + 1):
                cv2.circle(bg, (cx, cy + dy), r, tuple(int(v) for v in rng.integers(40, 230, 3)), -1, cv2.LINE_AA)
        elif style.startswith("us") and rng.random() < 0.2:  # a state picture between the groups
            r = min(h * rng.uniform(0.15, 0.3), gw * sx * 0.4)
            cv2.circle(bg, (cx, cy), max(2, int(r)), tuple(int(v) for v in rng.integers(0, 256, 3)), -1, cv2.LINE_AA)
    if style.startswith(("us", "ca", "mx")):
        _distract(bg, boxes, font, ink_colour, rng)
    elif rng.random() < 0.35:  # a dealer frame
        t = int(rng.integers(4, 12))
        cv2.rectangle(bg, (0, 0), (W - 1, H - 1), tuple(int(v) for v in rng.integers(0, 70, 3)), t)
    if rng.random() < 0.3:  # screws
        for cx in (int(W * rng.uniform(0.05, 0.25)), int(W * rng.uniform(0.75, 0.95))):
            cv2.circle(bg, (cx, int(H * rng.uniform(0.1, 0.3))), max(2, H // 22),
                       tuple(int(v) for v in rng.integers(90, 220, 3)), -1, cv2.LINE_AA)
    return _photograph(bg, text, boxes, rng)


def reader_crop(plate: SynthPlate, rng: np.random.Generator) -> np.ndarray:
    """``plate`` cut the way the reader cuts plates from photos: on a car body of some
    colour, with margins from a little inside the plate to a quarter of it outside, and
    now and then a small turn."""
    import cv2

    img = plate.image
    h, w = img.shape[:2]
    pad = int(0.35 * max(h, w)) + 4
    body = _colour(rng.integers(0, 256, 3), rng, 20)
    canvas = np.empty((h + 2 * pad, w + 2 * pad, 3), np.float32)
    canvas[:] = body
    canvas += rng.normal(0, rng.uniform(2, 12), canvas.shape)
    canvas[pad:pad + h, pad:pad + w] = img
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        m = cv2.getRotationMatrix2D((pad + w / 2, pad + h / 2), rng.uniform(-4, 4), 1.0)
        canvas = cv2.warpAffine(canvas, m, canvas.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    xs = [b[0] for b in plate.boxes] + [b[0] + b[2] for b in plate.boxes]
    inner_l, inner_r = min(xs), max(xs)  # never cut into the serial
    ml, mr = (int(w * m) for m in rng.uniform(-0.05, 0.2, 2))
    mt, mb = int(h * rng.uniform(-0.08, 0.3)), int(h * rng.uniform(-0.08, 0.3))
    x0 = min(pad - ml, pad + inner_l - 1)
    x1 = max(pad + w + mr, pad + inner_r + 1)
    return canvas[max(0, pad - mt):pad + h + mb, max(0, x0):x1]


def synth_crops(n: int, seed: int = 0, templates: list[np.ndarray] | None = None,
                weights: dict[str, float] | None = None) -> Iterator[tuple[np.ndarray, str, str]]:
    """Yield ``n`` ``(crop, text, style)`` drawn from ``seed``: styles by ``weights``
    (default `STYLE_WEIGHTS`), each plate cut by `reader_crop`."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    weights = weights or STYLE_WEIGHTS
    bad = set(weights) - set(STYLES)
    if bad:
        raise ValueError(f"unknown styles {sorted(bad)}; known: {sorted(STYLES)}")
    names = sorted(weights)
    p = np.array([weights[k] for k in names], float)
    p /= p.sum()
    rng = np.random.default_rng(seed)
    for _ in range(n):
        style = names[rng.choice(len(names), p=p)]
        plate = draw_plate(style, rng, templates)
        yield reader_crop(plate, rng), plate.text, style

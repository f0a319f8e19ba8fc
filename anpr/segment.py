"""Character segmentation of one cropped, rectified plate.

The plate is scaled to a fixed working height and binarized several ways (both
polarities; local mean, Otsu and top-hat thresholds). In each binary image the
connected components that look like glyphs -- similar height, on a common,
possibly tilted line -- are grown into rows; rows are also found from the ink
profile (rows crossing many strokes) for glyphs too merged to stand alone. Each
row's band is cut out and segmented again, which frees glyphs touching the plate
frame, a sticker or a logo above or below; over-wide blobs are split at
near-empty columns and projection minima, broken glyphs are joined. The leading
hypotheses then lose boxes that differ from the row in colour, stroke width or
size (pictures, flag strips, frame edges) and are scored on geometry: count,
height and line regularity, pitch, stroke width, and whether the glyphs stood
free before the band was cut. A second row just above or below the best one
gives a two-row hypothesis (top row first).

`find_segmentations` returns several ranked hypotheses, so that the recognizer can
let the character classifier settle close calls; `segment_plate` returns the best
one's boxes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .images import to_gray
from .numeric import mean32 as _mean32
from .numeric import median as _med
from .numeric import slope32 as _slope
from .protocols import Box

WORK_HEIGHT = 80
"""Plates are scaled to this height (pixels) before segmentation."""

MAX_WORK_WIDTH = 480
"""Very wide crops are scaled down further so that they stay cheap."""


TRIM_TALL = 1.1
TRIM_BAR = 0.35
TRIM_VERY_TALL = 1.2
"""`_trim` takes an end box for the plate's frame edge or a flag strip when it is
`TRIM_TALL` times the row's median height and a bar (width under `TRIM_BAR` of its
height), or when it is `TRIM_VERY_TALL` times that height whatever its width."""

FREE_MARGIN = 0.04
"""`_free_glyph` keeps a glyph's ink from this fraction of the row's height above its
top line to as far below its bottom line."""


@dataclass(frozen=True)
class Segmentation:
    """One segmentation hypothesis.

    Attributes
    ----------
    boxes : list of (x, y, w, h)
        Character boxes in plate pixel coordinates, reading order.
    score : float
        Geometric quality in ``[0, 1]``: character count, height and line regularity.
    polarity : str
        ``"dark"`` for dark characters on a light plate, ``"light"`` otherwise.
    rows : list of int
        Number of boxes in each text row (top row first); ``len(rows) == 2`` for
        two-row plates.
    crops : list of (x, y, w, h)
        Per box, the part of it to classify: the box itself, or for a box that
        something above or below it touches (a sticker, a picture, the frame), the
        glyph cut free of that within the text row. Empty means ``boxes``.
    """

    boxes: list[Box]
    score: float
    polarity: str
    rows: list[int] = field(default_factory=list)
    crops: list[Box] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _to_gray(plate: np.ndarray) -> np.ndarray:
    """Gray uint8 plate (`anpr.images.to_gray`), once it is checked fit to segment."""
    a = np.asarray(plate)
    if not isinstance(plate, np.ndarray):
        raise ValueError(f"plate must be a numpy array, got {type(plate).__name__}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3:
        if a.shape[2] == 4:
            a = a[:, :, :3]
        if a.shape[2] != 3:
            raise ValueError(f"plate must have 1, 3 or 4 channels, got {a.shape[2]}")
    elif a.ndim != 2:
        raise ValueError(f"plate must be a 2-D gray or 3-D color array, got shape {a.shape}")
    if a.shape[0] < 4 or a.shape[1] < 4:
        raise ValueError(f"plate is too small to segment: {a.shape[1]}x{a.shape[0]} pixels")
    return to_gray(a)


def _work_image(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale to the working height; returns the image and work/plate scale."""
    import cv2

    h, w = gray.shape
    s = WORK_HEIGHT / h
    if w * s > MAX_WORK_WIDTH:
        s = MAX_WORK_WIDTH / w
    nw, nh = max(8, round(w * s)), max(8, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, (nw, nh), interpolation=interp), s


def _stretch(g: np.ndarray) -> np.ndarray:
    """Stretch contrast between robust extremes so thresholds see a similar range."""
    cdf = np.cumsum(np.bincount(g.ravel(), minlength=256))
    lo = int(np.searchsorted(cdf, 0.02 * cdf[-1]))
    hi = int(np.searchsorted(cdf, 0.98 * cdf[-1]))
    if hi - lo < 8:
        return g
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    return lut[g]


def _binaries(img: np.ndarray) -> list[np.ndarray]:
    """Binary images (characters white) of ``img`` whose characters are bright.

    Each threshold fails somewhere else, so all are tried: a local mean copes with
    shadows and gradients, Otsu keeps strokes whole on evenly lit plates, and a
    top-hat (the image minus its opening with a glyph-stroke-sized square) picks out
    strokes that are only a little brighter than a busy or uneven background.
    """
    import cv2

    h = img.shape[0]
    block = max(11, (h // 2) | 1)
    local = cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -10)
    _, otsu = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    k = max(3, h // 5) | 1
    top = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    _, tophat = cv2.threshold(top, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return [local, otsu, tophat]


def _components(binary: np.ndarray) -> np.ndarray:
    """Bounding boxes ``(x, y, w, h, area)`` of the connected components (no background)."""
    import cv2

    # 16-bit labels: the label image is unused, and a work image (at most
    # WORK_HEIGHT x MAX_WORK_WIDTH pixels) cannot hold 65535 components.
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_16U)
    return stats[1:n].astype(np.int32)


def _plausible(stats: np.ndarray, H: int, W: int) -> np.ndarray:
    """Components whose size and fill could be one or a few characters."""
    x, y, w, h, a = stats.T
    fill = a / np.maximum(w * h, 1)
    return (
        (h >= 0.18 * H)
        & (h <= H)
        & (w >= 2)
        & (w <= 3.0 * h)
        & (w <= 0.6 * W)
        & (fill >= 0.1)
        & ((fill <= 0.95) | (w <= 0.3 * h))  # solid blocks, unless a bar-like 1 or I
    )


def _group(stats: np.ndarray) -> list[np.ndarray]:
    """Index sets of components forming a text row, one per seed component.

    A row grows from its seed by neighbours of similar height whose vertical centre
    is close to an adjacent member's, so a tilted row is still one group.
    """
    x, y, w, h = (stats[:, k].astype(np.float32) for k in range(4))
    cy = y + h / 2.0
    n = len(stats)
    # Pairwise links: similar height, similar centre line, horizontally close.
    hh = np.maximum(h[:, None], h[None, :])
    gap = np.maximum(x[:, None], x[None, :]) - np.minimum((x + w)[:, None], (x + w)[None, :])
    link = (np.abs(h[:, None] - h[None, :]) <= 0.2 * hh) & (np.abs(cy[:, None] - cy[None, :]) <= 0.2 * hh)
    link &= gap <= 1.2 * hh
    # Growing a group is a graph search over these links (plain Python: the
    # graphs have a few dozen nodes, far too few for array operations to pay).
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(*(v.tolist() for v in np.nonzero(link))):
        neighbours[a].append(b)
    # Row i: who may join seed i's group (no drifting far from the seed's size).
    nears = (np.abs(h[None, :] - h[:, None]) <= 0.3 * h[:, None]).tolist()
    seeds = np.flatnonzero(~(w > 1.1 * h)).tolist()  # a merged blob is a poor seed: its height may be inflated
    groups: dict[frozenset, np.ndarray] = {}
    for i in seeds:
        near = nears[i]
        member = {i}
        todo = [i]
        while todo:
            for j in neighbours[todo.pop()]:
                if near[j] and j not in member:
                    member.add(j)
                    todo.append(j)
        key = frozenset(member)
        if key not in groups:
            groups[key] = np.array(sorted(member), np.int64)
    return list(groups.values())


def _merge_overlapping(boxes: list[list[int]]) -> list[list[int]]:
    """Join boxes whose column ranges overlap heavily (pieces of one broken glyph)."""
    boxes = sorted(boxes, key=lambda b: b[0])
    out: list[list[int]] = []
    for b in boxes:
        if out:
            p = out[-1]
            ov = min(p[0] + p[2], b[0] + b[2]) - max(p[0], b[0])
            if ov > 0.6 * min(p[2], b[2]):
                x0, y0 = min(p[0], b[0]), min(p[1], b[1])
                x1, y1 = max(p[0] + p[2], b[0] + b[2]), max(p[1] + p[3], b[1] + b[3])
                out[-1] = [x0, y0, x1 - x0, y1 - y0]
                continue
        out.append(list(b))
    return out


def _split_at_minima(proj: np.ndarray, n: int) -> list[int]:
    """Cut positions splitting a run of columns into ``n`` parts at projection minima."""
    w = len(proj)
    cuts = [0]
    for k in range(1, n):
        c = k * w / n
        lo = int(max(cuts[-1] + 2, c - 0.3 * w / n))
        hi = int(min(w - 2, c + 0.3 * w / n))
        cuts.append(lo + int(np.argmin(proj[lo : hi + 1])) if hi > lo else int(c))
    cuts.append(w)
    return cuts


@dataclass(frozen=True)
class _Line:
    """A text row: ``top(x) = top0 + slope * x``, ``bottom(x) = bot0 + slope * x``."""

    slope: float
    top0: float
    bot0: float

    @property
    def height(self) -> float:
        return self.bot0 - self.top0

    def rows(self, shape: tuple[int, int], lo: float, hi: float) -> np.ndarray:
        """Mask of the pixels from ``lo`` row-heights above the top line to ``hi`` below
        the bottom line (negative values shrink the band)."""
        H, W = shape
        yy = np.arange(H, dtype=np.float32)[:, None]
        off = self.slope * np.arange(W, dtype=np.float32)[None, :]
        return (yy >= self.top0 + off - lo * self.height) & (yy < self.bot0 + off + hi * self.height)


def _fit_line(stats: np.ndarray, idx: np.ndarray) -> _Line:
    x, y, w, h = (stats[idx, k].astype(np.float32) for k in range(4))
    xc = x + w / 2
    slope = 0.0
    if len(idx) >= 3:
        slope = float(np.clip(_slope(xc, y + h / 2), -0.3, 0.3))
    return _Line(slope, _med(y - slope * xc), _med(y + h - slope * xc))


def _split_wide(binary: np.ndarray, core: np.ndarray, box: list[int], wchar: float, hchar: float) -> list[list[int]]:
    """Split a blob of touching glyphs.

    First at columns that are nearly empty within the text core (glyphs joined by
    a frame, a picture or text above or below), then at projection minima.
    """
    x, y, w, h = box
    sub = binary[y : y + h, x : x + w] > 0
    proj = (sub & core[y : y + h, x : x + w]).sum(axis=0).astype(np.float32)
    solid = proj > 0.08 * 0.7 * hchar
    runs = []
    start = None
    for i, v in enumerate(solid.tolist() + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= max(2, 0.08 * hchar):
                runs.append((start, i))
            start = None
    pieces: list[tuple[int, int]] = []
    for a, b in runs:
        rw = b - a
        if rw > max(1.5 * wchar, 0.95 * hchar):
            n = max(2, int(round(rw / max(wchar, 1.0))))
            cuts = _split_at_minima(proj[a:b], n)
            pieces.extend((a + u, a + v) for u, v in zip(cuts[:-1], cuts[1:]) if v - u >= 2)
        else:
            pieces.append((a, b))
    out = []
    for a, b in pieces:
        rows = np.flatnonzero(sub[:, a:b].any(axis=1))
        if len(rows):
            out.append([x + a, y + int(rows[0]), b - a, int(rows[-1] - rows[0] + 1)])
    return out


def _band_boxes(band: np.ndarray, line: _Line) -> list[list[int]]:
    """Character boxes (maybe several glyphs wide) in a binary image holding one text row."""
    stats = _components(band)
    if len(stats) == 0:
        return []
    x, y, w, h, a = stats.T
    hchar = line.height
    fill = a / np.maximum(w * h, 1)
    big = (h >= 0.6 * hchar) & (fill >= 0.08) & ((fill <= 0.95) | (w <= 0.3 * h)) & (w >= 2)
    xs, ys, ws, hs = x.tolist(), y.tolist(), w.tolist(), h.tolist()  # Python ints loop faster
    boxes = [[xs[i], ys[i], ws[i], hs[i]] for i in np.flatnonzero(big).tolist()]
    # Small pieces over a big box's columns and inside the text core (a broken
    # stroke) join it; the rest (separators, bolts, noise, frame bits) are dropped.
    dy = y + h / 2.0 - (line.top0 + line.slope * (x + w / 2.0))  # centre below the top line
    small = np.flatnonzero(~big & (h >= 0.15 * hchar) & (a >= 4) & (dy > 0.2 * hchar) & (dy < 0.8 * hchar))
    for i in small.tolist():
        xi, yi, wi, hi = xs[i], ys[i], ws[i], hs[i]
        for b in boxes:
            ov = min(b[0] + b[2], xi + wi) - max(b[0], xi)
            if ov > 0.5 * wi:
                y0, y1 = min(b[1], yi), max(b[1] + b[3], yi + hi)
                x0, x1 = min(b[0], xi), max(b[0] + b[2], xi + wi)
                b[:] = [x0, y0, x1 - x0, y1 - y0]
                break
    return _merge_overlapping(boxes)


def _refine(binary: np.ndarray, line: _Line, xspan: tuple[float, float] | None = None) -> list[list[int]]:
    """Segment the glyphs of one text row: free, split and join them.

    ``xspan`` limits the result to glyphs overlapping that column range.
    """
    H, W = binary.shape
    hchar = line.height
    if hchar < 3:
        return []
    # Cutting the row out frees glyphs that touch the frame or other things above/below.
    band = binary * line.rows((H, W), 0.1, 0.1).astype(np.uint8)
    boxes = _band_boxes(band, line)
    if not boxes:
        return []
    widths = np.array([b[2] for b in boxes], np.float32)
    normal = widths[(widths > 0.35 * hchar) & (widths < 0.95 * hchar)]
    wchar = _med(normal) if len(normal) else 0.55 * hchar
    core = None
    out: list[list[int]] = []
    for b in boxes:
        if b[2] > max(1.5 * wchar, 0.95 * hchar):
            if core is None:
                core = line.rows((H, W), -0.15, -0.15)
            out.extend(_split_wide(band, core, b, wchar, hchar))
        else:
            out.append(b)
    out = [b for b in out if b[3] >= 0.6 * hchar]
    if xspan is not None and out:
        # Glyphs over the group's columns, plus any that continue the row at a
        # glyph's spacing (the group may have missed glyphs merged with clutter).
        out.sort(key=lambda b: b[0])
        inside = [i for i, b in enumerate(out) if b[0] + b[2] > xspan[0] and b[0] < xspan[1]]
        if not inside:
            return []
        lo, hi = inside[0], inside[-1]
        while lo > 0 and out[lo][0] - (out[lo - 1][0] + out[lo - 1][2]) <= 0.8 * hchar:
            lo -= 1
        while hi < len(out) - 1 and out[hi + 1][0] - (out[hi][0] + out[hi][2]) <= 0.8 * hchar:
            hi += 1
        out = out[lo : hi + 1]
    # A thin bar at the left or right edge is the plate's (or the crop's) border.
    return [b for b in out if not (b[2] < 0.25 * hchar and (b[0] <= 1 or b[0] + b[2] >= W - 1))]


def _free_glyph(binary: np.ndarray, line: _Line, box: list[int]) -> list[int]:
    """The glyph in ``box`` cut free of what touches it above or below the row.

    A sticker over a glyph's top or a picture under its foot joins it in the
    binary image and widens its box; within the text row (`FREE_MARGIN` of its
    height beyond the row's lines) only the glyph's own columns hold ink.
    Returns ``box`` itself when it is no taller than the row.
    """
    x, y, w, h = box
    hc = line.height
    if h <= hc:
        return list(box)
    xc = x + w / 2.0
    y0 = max(y, int(np.floor(line.top0 + line.slope * xc - FREE_MARGIN * hc)))
    y1 = min(y + h, int(np.ceil(line.bot0 + line.slope * xc + FREE_MARGIN * hc)))
    if y1 - y0 < 0.6 * hc:
        return list(box)
    sub = binary[y0:y1, x : x + w] > 0
    cols = np.flatnonzero(sub.sum(axis=0) >= max(1.0, 0.08 * hc))
    if len(cols) == 0:
        return list(box)
    rows = np.flatnonzero(sub[:, cols[0] : cols[-1] + 1].any(axis=1))
    return [x + int(cols[0]), y0 + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def _profile_lines(binary: np.ndarray) -> list[_Line]:
    """Text rows found from the rows' ink transitions, for glyphs too merged to group.

    A row through text crosses many strokes; a frame, a border or a blank area few.
    The tallest busy band wins over a short busier one (a slogan in script).
    """
    H = binary.shape[0]
    t = (np.diff(binary > 0, axis=1)).sum(axis=1).astype(np.float32)
    t = np.convolve(t, np.ones(3, np.float32) / 3, mode="same")
    peak = float(t.max())
    if peak < 6:
        return []
    found: list[tuple[int, int]] = []
    for level in (0.45, 0.3):
        on = np.concatenate([[False], t >= max(6.0, level * peak), [False]])
        edges = np.flatnonzero(np.diff(on.astype(np.int8)))
        runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= 0.25 * H]
        if level == 0.45:  # the busiest rows' band
            y = int(np.argmax(t))
            runs = [r for r in runs if r[0] <= y < r[1]]
        if runs:  # the band holding the most strokes
            best = max(runs, key=lambda r: float(t[r[0] : r[1]].sum()))
            if best not in found:
                found.append(best)
    return [_Line(0.0, float(a), float(b)) for a, b in found]


def _score(boxes: list[list[int]], H: int, count_prior: bool = True) -> float:
    """Geometric plausibility in ``[0, 1]`` of a set of character boxes.

    ``count_prior`` favours the character counts of whole plates (off for one row
    of a two-row plate).
    """
    n = len(boxes)
    if n < 2:
        return 0.0
    b = np.array(boxes, np.float32)
    h = b[:, 3]
    hmed = _med(h)
    # Most plates carry 5-8 characters; among equally regular rows prefer the fuller one.
    count = {2: 0.1, 3: 0.4}.get(n, 1.0 - 0.04 * max(0, 7 - n) if n <= 8 else 0.8 if n <= 10 else 0.3)
    if not count_prior:
        count = 1.0 if n <= 8 else 0.5
    hreg = float(np.exp(-((np.std(h) / hmed) / 0.12) ** 2))
    xc = b[:, 0] + b[:, 2] / 2
    res = []
    for line in (b[:, 1], b[:, 1] + b[:, 3]):
        k = _slope(xc, line) if n >= 3 else 0.0
        fit = _mean32(line) + k * (xc - _mean32(xc))
        res.append(float(_mean32(np.abs(line - fit))) / hmed)
    align = float(np.exp(-((max(res) / 0.06) ** 2)))
    size = min(1.0, hmed / (0.3 * H))  # tiny text (a state name) is rarely the plate
    wr = b[:, 2] / b[:, 3]
    shape = int(np.count_nonzero((wr > 0.08) & (wr < 1.0))) / n  # == np.mean, without its overhead
    # A row made mostly of bars is a grille, a fence or a barcode, not a plate.
    bars = 1.0 - 0.8 * max(0.0, int(np.count_nonzero(wr < 0.25)) / n - 0.5) / 0.5
    geo = (0.4 + 0.6 * hreg) * (0.4 + 0.6 * align) * (0.5 + 0.5 * size) * (0.3 + 0.7 * shape)
    # Glyphs sit at a steady pitch, a fraction of their height apart (one wider gap
    # between groups is fine: the median ignores it).
    order = np.argsort(xc)
    pitch = np.diff(xc[order])
    mp = _med(pitch)
    dev = _med(np.abs(pitch - mp)) / max(mp, 1e-3)
    gaps = b[order[1:], 0] - (b[order[:-1], 0] + b[order[:-1], 2])
    spread = max(0.0, _med(gaps) / hmed - 0.4)
    rhythm = float(np.exp(-((dev / 0.3) ** 2))) * float(np.exp(-((spread / 0.3) ** 2)))
    return count * geo * bars * (0.4 + 0.6 * rhythm)


def _feature_tables(binary: np.ndarray, color: np.ndarray) -> np.ndarray:
    """Summed-area tables of ink, ink edge and ink colour: every box's sums in four lookups."""
    import cv2

    on = (binary > 0).astype(np.float32)
    edge = on * (cv2.erode(binary, np.ones((3, 3), np.uint8)) == 0)
    planes = [on, edge] + [color[:, :, c] * on for c in range(color.shape[2])]
    sat = cv2.integral(np.ascontiguousarray(np.dstack(planes)), sdepth=cv2.CV_64F)
    return sat.reshape(sat.shape[0], sat.shape[1], -1)


def _box_features(
    boxes: list[list[int]], binary: np.ndarray, color: np.ndarray, sat: np.ndarray | None = None
) -> np.ndarray:
    """Per box: stroke width, ink fill and mean ink colour (1 or 3 values) -> (n, 2 + c).

    ``sat`` is ``_feature_tables(binary, color)`` when the caller has it already.
    """
    if sat is None:
        sat = _feature_tables(binary, color)
    b = np.array(boxes, np.int64)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    sums = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]
    area = np.maximum(sums[:, 0], 1.0)
    feats = np.empty((len(boxes), 2 + color.shape[2]), np.float32)
    feats[:, 0] = 2.0 * sums[:, 0] / np.maximum(sums[:, 1], 1.0)  # ~stroke width for thin shapes
    feats[:, 1] = sums[:, 0] / (b[:, 2] * b[:, 3])
    feats[:, 2:] = sums[:, 2:] / area[:, None]
    return feats


def _trim(
    boxes: list[list[int]], binary: np.ndarray, color: np.ndarray, sat: np.ndarray | None = None
) -> tuple[list[list[int]], float]:
    """Drop boxes that are no glyph of the row: a logo, a picture, a coloured sticker.

    A glyph shares the row's ink colour and stroke width; a picture usually differs
    in both, or in one and sits apart from the text. Also returns the median
    stroke width of the kept boxes. ``sat`` as for `_box_features`.
    """
    if not boxes:
        return boxes, 0.0
    f = _box_features(boxes, binary, color, sat)
    if len(boxes) < 4:
        return boxes, _med(f[:, 0])
    # np.median(f, axis=0) bit for bit (the middle value, or the float32 sum of the
    # two middle values halved), at a fraction of its cost on a few rows.
    fs = np.sort(f, axis=0)
    m = len(fs) // 2
    med = fs[m] if len(fs) % 2 else (fs[m - 1] + fs[m]) / np.float32(2)
    sw = f[:, 0] / max(float(med[0]), 1e-3)
    fl = f[:, 1] / max(float(med[1]), 1e-3)
    odd = ((sw < 0.65) | (sw > 1.7)).astype(np.float32)
    odd += 0.5 * ((fl < 0.55) | (fl > 1.6))
    # Hue tells a picture from the glyphs more reliably than lightness, which
    # shading and reflections vary along the row.
    dab = np.sqrt(((f[:, 3:] - med[3:]) ** 2).sum(axis=1))
    s_ab = _med(dab)
    odd += (dab > max(12.0, 4.0 * s_ab)).astype(np.float32) + (dab > max(25.0, 6.0 * s_ab))
    dl = np.abs(f[:, 2] - med[2])
    odd += 0.5 * (dl > max(30.0, 4.0 * _med(dl)))
    wid = np.array([bx[2] for bx in boxes], np.float32)
    odd += 0.5 * (wid > 1.5 * _med(wid))
    b = np.array(boxes, np.float32)
    hmed = _med(b[:, 3])
    gaps = b[1:, 0] - (b[:-1, 0] + b[:-1, 2])
    # A picture at either end usually stands apart from the text or is wider
    # than a glyph; a frame edge or a flag strip sticks out above and below it.
    wmed = _med(wid)
    for i, g in ((0, gaps[0]), (-1, gaps[-1])):
        # A bar (frame edge, flag strip) sticking out a little, or anything sticking
        # out a lot; an end glyph a little taller and wider than the median is often
        # just a broad letter (W, M) with a bolt or a frame bit touching it.
        tall = b[i, 3] > TRIM_TALL * hmed and (b[i, 2] < TRIM_BAR * b[i, 3] or b[i, 3] > TRIM_VERY_TALL * hmed)
        odd[i] += 0.5 * (g > 0.5 * hmed) + 1.0 * tall + 0.5 * (1.4 * wmed < wid[i] <= 1.5 * wmed)
    keep = odd < 1.5
    kept = [bx for bx, k in zip(boxes, keep) if k]
    return kept, _med(f[keep, 0]) if keep.any() else 0.0


def _free_fraction(boxes: list[list[int]], stats: np.ndarray) -> float:
    """Fraction of boxes that were already a glyph-sized blob before the row was cut out.

    Real glyphs mostly stand free on the plate. Cutting the row out of the wrong
    polarity's binary turns the background between glyphs into glyph-sized blobs
    that existed only inside the cut.
    """
    if len(stats) == 0:
        return 0.0
    s = stats[None, :, :4].astype(np.int64)
    sx, sy, sw, sh = s[..., 0], s[..., 1], s[..., 2], s[..., 3]
    b = np.array(boxes, np.int64)[:, None, :]  # boxes x components, all at once
    x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    ix = np.minimum(sx + sw, x + w) - np.maximum(sx, x)
    iy = np.minimum(sy + sh, y + h) - np.maximum(sy, y)
    cover = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    hit = (cover >= 0.6 * w * h) & (sh <= 1.3 * h) & (sw <= 1.5 * w)
    return int(np.count_nonzero(hit.any(axis=1))) / len(boxes)


def _same_line(line: _Line, rows: list, W: int) -> int | None:
    """Index of a row in ``rows`` ((line, span) pairs) that is ``line`` give or take a little."""
    mid = W / 2.0
    t, b = line.top0 + line.slope * mid, line.bot0 + line.slope * mid
    tol = 0.12 * line.height
    for i, (o, _) in enumerate(rows):
        if abs(t - (o.top0 + o.slope * mid)) < tol and abs(b - (o.bot0 + o.slope * mid)) < tol:
            return i
    return None


def _hypotheses(work: np.ndarray, color: np.ndarray, refine: int = 4) -> list[tuple]:
    """Ranked (score, polarity, boxes, row counts) hypotheses in work-image pixels.

    A box is ``[x, y, w, h]``, followed (but in a second row joined by `_two_rows`)
    by the four values of its glyph cut free of what touches it (`_free_glyph`).
    """
    H, W = work.shape
    out = []
    seen: set[tuple] = set()
    for polarity, img in (("dark", 255 - work), ("light", work)):
        for binary in _binaries(img):
            stats = _components(binary)
            if len(stats) == 0:
                continue
            stats = stats[_plausible(stats, H, W)]
            rows: list[tuple[_Line, Any]] = []  # (line, column span or None)
            groups = sorted((g for g in _group(stats) if len(g) >= 2), key=len, reverse=True)
            kept: list[set] = []
            for idx in groups:
                # A subset of a row already taken gives the same text line.
                members = set(idx.tolist())
                if any(members <= k for k in kept):
                    continue
                kept.append(members)
                hm = _med(stats[idx, 3])
                span = (stats[idx, 0].min() - 0.8 * hm, (stats[idx, 0] + stats[idx, 2]).max() + 0.8 * hm)
                line = _fit_line(stats, idx)
                same = _same_line(line, rows, W)
                if same is None:
                    rows.append((line, span))
                elif rows[same][1] is not None:  # one row seen twice: keep both column ranges
                    o = rows[same]
                    rows[same] = (o[0], (min(o[1][0], span[0]), max(o[1][1], span[1])))
            # Rows found from the ink profile, unless a component group found them already.
            rows.extend((ln, None) for ln in _profile_lines(binary) if _same_line(ln, rows, W) is None)
            for line, span in rows:
                boxes = sorted(_refine(binary, line, span), key=lambda b: b[0])
                key = tuple(map(tuple, boxes))
                if len(boxes) < 2 or key in seen:
                    continue
                seen.add(key)
                out.append((_score(boxes, H), polarity, boxes, binary, stats, line))
    # Costlier checks on the leading hypotheses only.
    out.sort(key=lambda t: -t[0])
    final = []
    tables: dict[int, np.ndarray] = {}  # hypotheses of one binary image share its tables
    for sc, polarity, boxes, binary, stats, line in out[:refine]:
        if id(binary) not in tables:
            tables[id(binary)] = _feature_tables(binary, color)
        n0 = len(boxes)
        for _ in range(3):  # dropping an end box can expose the next odd one
            n = len(boxes)
            boxes, sw = _trim(boxes, binary, color, tables[id(binary)])
            if len(boxes) == n:
                break
        if len(boxes) < 2:
            continue
        free = _free_fraction(boxes, stats)
        # Glyph strokes are a tenth or so of the glyph height; noise and texture
        # binarize into hair-thin tangles.
        sw_rel = sw / _med([b[3] for b in boxes])
        if len(boxes) != n0:  # else nothing was trimmed and ``sc`` is this score already
            sc = _score(boxes, H)
        sc *= 0.2 + 0.8 * float(np.clip((sw_rel - 0.04) / 0.05, 0, 1))
        sc *= 0.2 + 0.8 * free
        # Each box gets its glyph cut free of what touches it (`_free_glyph`) as
        # four more values: what the classifier may see besides the box.
        final.append((sc, polarity, [b + _free_glyph(binary, line, b) for b in boxes]))
    # The plate's own characters are the largest text on it (a state name or a
    # slogan is smaller): discount rows much shorter than the tallest good one.
    tall = [_med([b[3] for b in bx]) for sc, _, bx in final if sc > 0.3 and len(bx) >= 4]
    if tall:
        hmax = max(tall)
        final = [(sc * min(1.0, _med([b[3] for b in bx]) / (0.85 * hmax)), p, bx) for sc, p, bx in final]
    final.sort(key=lambda t: -t[0])
    final4 = [(sc, p, bx, [len(bx)]) for sc, p, bx in final]
    two = _two_rows(final4, [(p, bx) for _, p, bx, *_ in out], H)
    if two is not None:
        final4.insert(1, two)
    return final4


def _two_rows(final: list, rows: list[tuple[str, list[list[int]]]], H: int) -> tuple | None:
    """The best row joined with a second row just above or below it, if there is one.

    Two-row plates (motorcycles, some squarer formats) read top row first. The
    second row must be nearly as tall, in the same polarity and column range, and
    close: a state name or a slogan is smaller or further away.
    """
    if not final:
        return None
    sa, pa, a, _ = final[0]
    ba = np.array(a, np.float32)
    ha = _med(ba[:, 3])
    top_a, bot_a = float(ba[:, 1].min()), float((ba[:, 1] + ba[:, 3]).max())
    x0, x1 = float(ba[:, 0].min()), float((ba[:, 0] + ba[:, 2]).max())
    for pb, b in rows:
        if pb != pa or len(b) < 2:
            continue
        bb = np.array(b, np.float32)
        hb = _med(bb[:, 3])
        top_b, bot_b = float(bb[:, 1].min()), float((bb[:, 1] + bb[:, 3]).max())
        gap = top_a - bot_b if bot_b <= top_a else top_b - bot_a
        inside = bb[:, 0].min() >= x0 - ha and (bb[:, 0] + bb[:, 2]).max() <= x1 + ha
        if gap < -0.05 * ha or gap > 0.8 * ha or not 0.75 <= hb / ha <= 1.33 or not inside:
            continue
        qb = _score(b, H, count_prior=False)
        if qb < 0.5:
            continue
        upper, lower = (b, a) if bot_b <= top_a + 0.05 * ha else (a, b)
        return (sa * qb, pa, list(upper) + list(lower), [len(upper), len(lower)])
    return None


# --------------------------------------------------------------------------- public


def _to_plate(b, s: float, pw: int, ph: int) -> Box:
    """A work-image box in the pixels of the ``pw`` x ``ph`` plate (work/plate scale ``s``)."""
    x, y, w, h = b
    x0, y0 = math.floor(x / s), math.floor(y / s)
    x1, y1 = min(pw, math.ceil((x + w) / s)), min(ph, math.ceil((y + h) / s))
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def find_segmentations(plate: np.ndarray, max_results: int = 3) -> list[Segmentation]:
    """Ranked segmentation hypotheses for one plate, best first.

    Parameters
    ----------
    plate : ndarray
        Cropped, rectified plate: gray ``(H, W)`` or BGR(A) ``(H, W, 3|4)``.
    max_results : int
        Most hypotheses returned; distinct box sets only.

    Returns
    -------
    list of Segmentation
        Possibly empty when nothing looks like a row of characters.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> img = np.full((60, 200), 230, np.uint8)
    >>> _ = cv2.putText(img, "AB12", (20, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 20, 4)
    >>> [len(s.boxes) for s in find_segmentations(img)][:1]
    [4]
    """
    if max_results < 1:
        raise ValueError(f"max_results must be >= 1, got {max_results}")
    import cv2

    gray = _to_gray(plate)
    work, s = _work_image(gray)
    a = np.asarray(plate)
    if a.ndim == 3 and a.shape[2] >= 3 and a.dtype == np.uint8:
        small = cv2.resize(np.ascontiguousarray(a[:, :, :3]), work.shape[::-1], interpolation=cv2.INTER_AREA)
        color = cv2.cvtColor(small, cv2.COLOR_BGR2Lab).astype(np.float32)
    else:
        color = work[:, :, None].astype(np.float32)
    work = _stretch(work)
    ph, pw = gray.shape
    hyps = _hypotheses(work, color)
    # Polarity is the easiest thing to get wrong from geometry alone (the gaps
    # between dark glyphs are light blobs of glyph size), so the best reading of
    # each polarity stays among the hypotheses for the classifier to judge.
    if max_results > 1 and hyps:
        other = next((h for h in hyps if h[1] != hyps[0][1]), None)
        if other is not None and other[0] >= 0.25 * hyps[0][0]:
            hyps.remove(other)
            hyps.insert(min(max_results - 1, len(hyps)), other)
    results: list[Segmentation] = []
    seen: set[tuple] = set()
    for score, polarity, boxes, rows in hyps:
        pboxes = [_to_plate(b[:4], s, pw, ph) for b in boxes]
        key = tuple(pboxes)
        if key in seen:
            continue
        seen.add(key)
        crops = [_to_plate(b[4:8] if len(b) > 4 else b, s, pw, ph) for b in boxes]
        results.append(Segmentation(pboxes, float(score), polarity, list(rows), crops))
        if len(results) >= max_results:
            break
    return results


def score_boxes(boxes: list[Box], height: int) -> float:
    """Geometric quality in ``[0, 1]`` of one row of character boxes, as `Segmentation.score`.

    Parameters
    ----------
    boxes : list of (x, y, w, h)
        One text row's boxes in the coordinates of a plate ``height`` pixels tall.
    height : int
        Height of that plate image.

    Examples
    --------
    >>> row = [(10 + 14 * i, 10, 10, 20) for i in range(6)]
    >>> score_boxes(row, 40) > 0.8, score_boxes(row[:5] + [(94, 4, 3, 32)], 40) < 0.6
    (True, True)
    """
    if height < 1:
        raise ValueError(f"height must be >= 1, got {height}")
    if len(boxes) == 0:
        return 0.0
    return _score([list(b) for b in boxes], height)


def segment_plate(plate: np.ndarray) -> list[Box]:
    """Character boxes of one plate, in reading order.

    Parameters
    ----------
    plate : ndarray
        Cropped, rectified plate: gray ``(H, W)`` or BGR(A) ``(H, W, 3|4)``.

    Returns
    -------
    list of (x, y, w, h)
        Integer boxes in plate pixel coordinates; empty when no characters are found.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> img = np.full((60, 200), 30, np.uint8)            # light text on dark
    >>> _ = cv2.putText(img, "X7Y", (30, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 240, 4)
    >>> boxes = segment_plate(img)
    >>> len(boxes), boxes == sorted(boxes)
    (3, True)
    """
    segs = find_segmentations(plate, max_results=1)
    return segs[0].boxes if segs else []


def cut_chars(plate: np.ndarray, boxes: list[Box], pad: float = 0.06) -> list[np.ndarray]:
    """Crop each character box out of the plate, with a little margin.

    Parameters
    ----------
    plate : ndarray
        The plate the boxes refer to (gray or BGR).
    boxes : list of (x, y, w, h)
        Boxes as returned by `segment_plate`.
    pad : float
        Margin added on every side, as a fraction of the box height.

    Returns
    -------
    list of ndarray
        One crop per box (views into ``plate``), clipped to the plate.

    Examples
    --------
    >>> import numpy as np
    >>> crops = cut_chars(np.zeros((50, 100), np.uint8), [(10, 5, 20, 40)])
    >>> crops[0].shape
    (44, 24)
    """
    a = np.asarray(plate)
    if a.ndim not in (2, 3) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"plate must be a non-empty 2-D or 3-D array, got shape {a.shape}")
    H, W = a.shape[:2]
    out = []
    for b in boxes:
        if len(b) != 4:
            raise ValueError(f"box must be (x, y, w, h), got {b!r}")
        x, y, w, h = (int(v) for v in b)
        if w <= 0 or h <= 0:
            raise ValueError(f"box has no area: {b!r}")
        p = int(round(pad * h))
        x0, y0 = max(0, x - p), max(0, y - p)
        x1, y1 = min(W, x + w + p), min(H, y + h + p)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"box {b!r} lies outside the {W}x{H} plate")
        out.append(a[y0:y1, x0:x1])
    return out

"""Character segmentation of one cropped, rectified plate.

The plate is scaled to a fixed working height, binarized several ways (both
polarities, local and global thresholds), and in each binary image the connected
components that look like characters -- similar height, shared top and bottom
line -- are grouped. The best-scoring group wins. Its text band is then cut out
and segmented again, which frees characters that touch the plate frame, a
sticker or a logo above or below them; over-wide blobs are split at projection
minima and broken glyphs are joined.

`find_segmentations` returns several ranked hypotheses, so that the recognizer can
let the character classifier settle close calls; `segment_plate` returns the best
one's boxes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Box = tuple[int, int, int, int]

WORK_HEIGHT = 80
"""Plates are scaled to this height (pixels) before segmentation."""

MAX_WORK_WIDTH = 480
"""Very wide crops are scaled down further so that they stay cheap."""


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
    """

    boxes: list[Box]
    score: float
    polarity: str
    rows: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _to_gray(plate: np.ndarray) -> np.ndarray:
    import cv2

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
    if a.dtype != np.uint8:
        f = a.astype(np.float32)
        f[~np.isfinite(f)] = 0.0
        lo, hi = float(f.min()), float(f.max())
        a = ((f - lo) * (255.0 / max(hi - lo, 1e-6))).astype(np.uint8)
    if a.ndim == 3:
        a = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_BGR2GRAY)
    return a


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
    lo, hi = np.percentile(g, (2, 98))
    if hi - lo < 8:
        return g
    f = (g.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(f, 0, 255).astype(np.uint8)


def _binaries(img: np.ndarray) -> list[np.ndarray]:
    """Binary images (characters white) of ``img`` whose characters are bright."""
    import cv2

    h = img.shape[0]
    block = max(11, (h // 2) | 1)
    out = []
    # Local threshold: copes with shadows and gradients across the plate.
    out.append(cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -10))
    # Global threshold: keeps strokes whole on evenly lit plates.
    _, otsu = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    out.append(otsu)
    for v in VARIANTS:
        if v == "tophat":
            k = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, h // 5) | 1, max(3, h // 5) | 1))
            th = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, k)
            _, b = cv2.threshold(th, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            out.append(b)
        if v == "tophat3":
            k = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, h // 3) | 1, max(3, h // 3) | 1))
            th = cv2.morphologyEx(img, cv2.MORPH_TOPHAT, k)
            _, b = cv2.threshold(th, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            out.append(b)
        if v == "ad4":
            out.append(cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, max(11, (h // 4) | 1), -5))
        if v == "ad2c5":
            out.append(cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -5))
        if v == "ad2c20":
            out.append(cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -20))
        if v == "ad1":
            out.append(cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, max(11, h | 1), -10))
    return out


VARIANTS: list[str] = ['tophat']


def _components(binary: np.ndarray) -> np.ndarray:
    """Bounding boxes ``(x, y, w, h, area)`` of the connected components (no background)."""
    import cv2

    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
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
    groups: dict[frozenset, np.ndarray] = {}
    for i in range(n):
        if w[i] > 1.1 * h[i]:
            continue  # a merged blob is a poor seed: its height may be inflated
        near = np.abs(h - h[i]) <= 0.3 * h[i]  # no drifting far from the seed's size
        member = np.zeros(n, bool)
        member[i] = True
        while True:
            grow = link[member].any(axis=0) & near & ~member
            if not grow.any():
                break
            member |= grow
        idx = np.flatnonzero(member)
        groups.setdefault(frozenset(idx.tolist()), idx)
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


def _split_wide(binary: np.ndarray, box: list[int], wchar: float, line: tuple[int, int]) -> list[list[int]]:
    """Split a blob of touching glyphs.

    First at columns that are nearly empty within the text core (glyphs joined by
    a frame, a picture or text above or below), then at projection minima.
    ``line`` is the (top, bottom) of the text row.
    """
    x, y, w, h = box
    top, bot = line
    hchar = bot - top
    c0, c1 = max(y, top + int(0.15 * hchar)), min(y + h, bot - int(0.15 * hchar))
    if c1 - c0 < 3:
        c0, c1 = y, y + h
    sub = binary[c0:c1, x : x + w] > 0
    proj = sub.sum(axis=0).astype(np.float32)
    solid = proj > 0.08 * (c1 - c0)
    runs = []
    start = None
    for i, v in enumerate(solid.tolist() + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= max(2, 0.08 * hchar):
                runs.append((start, i))
            start = None
    pieces = []
    for a, b in runs:
        rw = b - a
        if rw > max(1.5 * wchar, 0.95 * hchar):
            n = max(2, int(round(rw / max(wchar, 1.0))))
            cuts = _split_at_minima(proj[a:b], n)
            pieces.extend((a + u, a + v) for u, v in zip(cuts[:-1], cuts[1:]) if v - u >= 2)
        else:
            pieces.append((a, b))
    # Rows: the piece's ink, but no further than just outside the text line
    # (what joined the glyphs lies above or below it).
    y0, y1 = max(y, top - int(0.05 * hchar)), min(y + h, bot + int(0.05 * hchar))
    out = []
    for a, b in pieces:
        rows = np.flatnonzero((binary[y0:y1, x + a : x + b] > 0).any(axis=1))
        if len(rows):
            out.append([x + a, y0 + int(rows[0]), b - a, int(rows[-1] - rows[0] + 1)])
    return out


def _band_boxes(binary: np.ndarray, top: int, bot: int, hchar: float) -> list[list[int]]:
    """Character boxes (maybe several glyphs wide) inside the text band ``[top, bot)``."""
    band = np.ascontiguousarray(binary[top:bot])
    stats = _components(band)
    if len(stats) == 0:
        return []
    x, y, w, h, a = stats.T
    fill = a / np.maximum(w * h, 1)
    big = (h >= 0.6 * hchar) & (fill >= 0.08) & ((fill <= 0.95) | (w <= 0.3 * h)) & (w >= 2)
    boxes = [[int(x[i]), int(y[i]) + top, int(w[i]), int(h[i])] for i in np.flatnonzero(big)]
    # Small pieces over a big box's columns and inside the text core (a broken
    # stroke) join it; the rest (separators, bolts, noise, frame bits) are dropped.
    cy = y + h / 2.0 + top
    core0, core1 = top + 0.2 * hchar, bot - 0.2 * hchar
    small = np.flatnonzero(~big & (h >= 0.15 * hchar) & (a >= 4) & (cy > core0) & (cy < core1))
    for i in small:
        for b in boxes:
            ov = min(b[0] + b[2], x[i] + w[i]) - max(b[0], x[i])
            if ov > 0.5 * w[i]:
                y0 = min(b[1], int(y[i]) + top)
                y1 = max(b[1] + b[3], int(y[i] + h[i]) + top)
                x0 = min(b[0], int(x[i]))
                x1 = max(b[0] + b[2], int(x[i] + w[i]))
                b[:] = [x0, y0, x1 - x0, y1 - y0]
                break
    return _merge_overlapping(boxes)


def _refine(binary: np.ndarray, stats: np.ndarray, idx: np.ndarray) -> list[list[int]]:
    """Re-segment the band of a component group: free, split and join glyphs."""
    H, W = binary.shape
    tops = stats[idx, 1]
    bots = stats[idx, 1] + stats[idx, 3]
    hchar = float(np.median(bots - tops))
    line = (int(np.median(tops)), int(np.median(bots)))
    top = max(0, int(line[0] - 0.1 * hchar))
    bot = min(H, int(np.ceil(line[1] + 0.1 * hchar)))
    boxes = _band_boxes(binary, top, bot, hchar)
    if not boxes:
        return []
    widths = np.array([b[2] for b in boxes], np.float32)
    normal = widths[(widths > 0.35 * hchar) & (widths < 0.95 * hchar)]
    wchar = float(np.median(normal)) if len(normal) else 0.55 * hchar
    out: list[list[int]] = []
    for b in boxes:
        if b[2] > max(1.5 * wchar, 0.95 * hchar):
            out.extend(_split_wide(binary, b, wchar, line))
        else:
            out.append(b)
    # Keep the glyphs that line up with the group (the band may hold other stuff).
    x0 = stats[idx, 0].min() - 0.8 * hchar
    x1 = (stats[idx, 0] + stats[idx, 2]).max() + 0.8 * hchar
    out = [b for b in out if b[0] + b[2] > x0 and b[0] < x1 and b[3] >= 0.6 * hchar]
    # A thin bar at the left or right edge is the plate's (or the crop's) border.
    return [b for b in out if not (b[2] < 0.25 * hchar and (b[0] <= 1 or b[0] + b[2] >= W - 1))]


def _score(boxes: list[list[int]], H: int) -> float:
    """Geometric plausibility in ``[0, 1]`` of a set of character boxes."""
    n = len(boxes)
    if n < 2:
        return 0.0
    b = np.array(boxes, np.float32)
    h = b[:, 3]
    hmed = float(np.median(h))
    count = {2: 0.1, 3: 0.4}.get(n, 1.0 if n <= 8 else 0.8 if n <= 10 else 0.3)
    hreg = float(np.exp(-((np.std(h) / hmed) / 0.12) ** 2))
    xc = b[:, 0] + b[:, 2] / 2
    res = []
    for line in (b[:, 1], b[:, 1] + b[:, 3]):
        coef = np.polyfit(xc, line, 1) if n >= 3 else (0.0, float(np.mean(line)))
        res.append(np.abs(line - np.polyval(coef, xc)).mean() / hmed)
    align = float(np.exp(-((max(res) / 0.06) ** 2)))
    size = min(1.0, hmed / (0.3 * H))  # tiny text (a state name) is rarely the plate
    wr = b[:, 2] / b[:, 3]
    shape = float(np.mean((wr > 0.08) & (wr < 1.0)))
    return count * (0.4 + 0.6 * hreg) * (0.4 + 0.6 * align) * (0.5 + 0.5 * size) * (0.3 + 0.7 * shape)


def _polarity(boxes: list[list[int]], binary: np.ndarray, work: np.ndarray) -> float:
    """How clearly the 'on' pixels of the boxes differ from the plate background, in [0, 1].

    With the wrong polarity the blobs are the background between dark glyphs: their
    'on' pixels then match the plate around the text, and their 'off' pixels do not.
    """
    H, W = work.shape
    b = np.array(boxes)
    hmed = float(np.median(b[:, 3]))
    x0, x1 = int(b[:, 0].min()), int((b[:, 0] + b[:, 2]).max())
    top, bot = int(np.median(b[:, 1])), int(np.median(b[:, 1] + b[:, 3]))
    s = max(2, int(0.15 * hmed))
    strips = [work[max(0, top - s - 1) : max(0, top - 1), x0:x1], work[min(H, bot + 1) : min(H, bot + s + 1), x0:x1]]
    bgpix = np.concatenate([p.ravel() for p in strips])
    if bgpix.size < 0.5 * s * (x1 - x0):  # a crop tight around the text: use its rim
        bgpix = np.concatenate([work[0], work[-1], work[:, 0], work[:, -1]])
    bg = float(np.median(bgpix))
    on, off = [], []
    for x, y, w, h in boxes:
        m = binary[y : y + h, x : x + w] > 0
        g = work[y : y + h, x : x + w]
        on.append(g[m])
        off.append(g[~m])
    on_a, off_a = np.concatenate(on), np.concatenate(off)
    if on_a.size == 0 or off_a.size == 0:
        return 0.0
    d_on = abs(float(np.median(on_a)) - bg)
    d_off = abs(float(np.median(off_a)) - bg)
    return d_on / (d_on + d_off + 1e-3)


def _box_features(boxes: list[list[int]], binary: np.ndarray, color: np.ndarray) -> np.ndarray:
    """Per box: stroke width, ink fill and mean ink colour (3 values) -> (n, 5)."""
    import cv2

    on = binary > 0
    edge = on & ~(cv2.erode(binary, np.ones((3, 3), np.uint8)) > 0)
    feats = np.zeros((len(boxes), 5), np.float32)
    for i, (x, y, w, h) in enumerate(boxes):
        m = on[y : y + h, x : x + w]
        area = float(m.sum())
        if area == 0:
            continue
        perim = float(edge[y : y + h, x : x + w].sum())
        feats[i, 0] = 2.0 * area / max(perim, 1.0)  # ~stroke width for thin shapes
        feats[i, 1] = area / (w * h)
        feats[i, 2:] = color[y : y + h, x : x + w][m].mean(axis=0)
    return feats


def _trim(boxes: list[list[int]], binary: np.ndarray, color: np.ndarray) -> list[list[int]]:
    """Drop boxes that are no glyph of the row: a logo, a picture, a coloured sticker.

    A glyph shares the row's ink colour and stroke width; a picture usually differs
    in both, or in one and sits apart from the text.
    """
    if len(boxes) < 4:
        return boxes
    f = _box_features(boxes, binary, color)
    b = np.array(boxes, np.float32)
    hmed = float(np.median(b[:, 3]))
    odd = np.zeros(len(boxes), np.float32)
    for i in range(len(boxes)):
        rest = np.delete(f, i, axis=0)
        med = np.median(rest, axis=0)
        sw = f[i, 0] / max(med[0], 1e-3)
        odd[i] += 1.0 if (sw < 0.6 or sw > 1.7) else 0.0
        dcol = float(np.linalg.norm(f[i, 2:] - med[2:]))
        spread = float(np.median(np.linalg.norm(rest[:, 2:] - med[2:], axis=1)))
        odd[i] += 1.0 if dcol > max(25.0, 3.0 * spread) else 0.0
        odd[i] += 1.0 if dcol > max(50.0, 5.0 * spread) else 0.0
        fl = f[i, 1] / max(med[1], 1e-3)
        odd[i] += 0.5 if (fl < 0.55 or fl > 1.9) else 0.0
    gaps = b[1:, 0] - (b[:-1, 0] + b[:-1, 2])
    # A picture at either end usually stands apart from the text.
    if gaps[0] > 0.5 * hmed:
        odd[0] += 0.5
    if gaps[-1] > 0.5 * hmed:
        odd[-1] += 0.5
    keep = odd < 1.5
    return [bx for bx, k in zip(boxes, keep) if k]


def _hypotheses(work: np.ndarray, color: np.ndarray, refine: int = 6) -> list[tuple[float, str, list[list[int]]]]:
    H, W = work.shape
    out = []
    seen: set[tuple] = set()
    for polarity, img in (("dark", 255 - work), ("light", work)):
        for binary in _binaries(img):
            stats = _components(binary)
            if len(stats) == 0:
                continue
            stats = stats[_plausible(stats, H, W)]
            for idx in _group(stats):
                if len(idx) < 2:
                    continue
                boxes = sorted(_refine(binary, stats, idx), key=lambda b: b[0])
                key = tuple(map(tuple, boxes))
                if len(boxes) < 2 or key in seen:
                    continue
                seen.add(key)
                out.append((_score(boxes, H), polarity, boxes, binary, img))
    # Costlier checks on the leading hypotheses only.
    out.sort(key=lambda t: -t[0])
    final = []
    for sc, polarity, boxes, binary, img in out[:refine]:
        boxes = _trim(boxes, binary, color)
        if len(boxes) < 2:
            continue
        pol = _polarity(boxes, binary, img)
        sc = _score(boxes, H) * (0.3 + 0.7 * float(np.clip((pol - 0.2) / 0.5, 0, 1)))
        final.append((sc, polarity, boxes))
    # The plate's own characters are the largest text on it (a state name or a
    # slogan is smaller): discount rows much shorter than the tallest good one.
    tall = [float(np.median([b[3] for b in bx])) for sc, _, bx in final if sc > 0.3 and len(bx) >= 4]
    if tall:
        hmax = max(tall)
        final = [(sc * min(1.0, float(np.median([b[3] for b in bx])) / (0.85 * hmax)), p, bx) for sc, p, bx in final]
    final.sort(key=lambda t: -t[0])
    return final


# --------------------------------------------------------------------------- public


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
    results: list[Segmentation] = []
    seen: set[tuple] = set()
    for score, polarity, boxes in _hypotheses(work, color):
        pboxes = []
        for x, y, w, h in boxes:
            x0, y0 = int(np.floor(x / s)), int(np.floor(y / s))
            x1, y1 = min(pw, int(np.ceil((x + w) / s))), min(ph, int(np.ceil((y + h) / s)))
            pboxes.append((x0, y0, max(1, x1 - x0), max(1, y1 - y0)))
        key = tuple(pboxes)
        if key in seen:
            continue
        seen.add(key)
        results.append(Segmentation(pboxes, float(score), polarity, [len(pboxes)]))
        if len(results) >= max_results:
            break
    return results


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

"""Hand-set rules for what, at a plate's ends and between its groups, is no character.

A frame edge, a sticker, a wheelchair symbol or a state emblem beside or between the
characters yields a blob that the segmentation boxes and the classifier reads as some
glyph; a broken glyph falls apart into two bars. `anpr.recognize.recognize_plate`
weighs each hypothesis also without such blobs (and with such bars joined) and lets
the chooser pick. Each rule here was measured and kept (docs/experiments.md) because no
learned stage yet does its work: retire a rule (and its constants) when a learned stage
-- the glyph finder, the chooser, the classifier -- makes it dead, i.e. when reading
the check part with the rule switched off reads as many plates.

The rules only look at glyph boxes (one text row, reading order) and the classifier's
probabilities; ``min_chars`` is the fewest characters a plate may keep
(`anpr.recognize.MIN_CHARS`): no rule leaves out a glyph of a row that short.
"""

from __future__ import annotations

import numpy as np

from .decode import LOOKALIKE_GROUPS
from .normalize import CLASSES
from .numeric import median as _med
from .segment import Box, Segmentation, score_boxes

END_DOUBT = 0.4
"""An end glyph the classifier is less sure of than this may be no character at all."""

TALL_END = 1.15
"""An end glyph this much taller than the row's median glyph may be the plate's frame
edge (it reads as a confident ``1``), however sure the classifier is."""

SURE_PICTURE = 0.9
PICTURE_ASPECT = 0.78
PICTURE_GAP = 0.1
"""An end glyph read less surely than `SURE_PICTURE` that is this square (width over
height) or this much further apart (pitch beyond the row's median, in glyph heights)
is a picture beside the text (`picture_ends`), like a frame edge..."""

SURE_REST = 0.8
"""... when the classifier is this sure of every glyph between the two ends."""

JOIN_NARROW = 0.5
JOIN_WIDE = 1.3
"""Two neighbours each narrower than `JOIN_NARROW` of the row's median glyph width,
together no wider than `JOIN_WIDE` of it, may be one broken glyph (`joined`)."""

INNER_WIDE = 1.35
INNER_DROP = 0.07
"""A glyph between two groups this much wider than the row's median glyph, set apart
from both neighbours and this much (in glyph heights) below the row's top line, is a
picture (`picture_between`)."""


_LOOKALIKES = [[CLASSES.index(c) for c in g] for g in LOOKALIKE_GROUPS]


def glyph_sureness(row: np.ndarray) -> float:
    """How surely a crop is *some* glyph: its top class, or its top group of look-alikes
    (a glyph split between I and 1 is still a glyph).

    ``row`` is the crop's classifier probabilities in `anpr.normalize.CLASSES` order.

    >>> p = np.zeros(36); p[CLASSES.index("I")] = p[CLASSES.index("1")] = 0.45
    >>> round(glyph_sureness(p), 2)
    0.9
    """
    return max(float(row.max()), max(float(row[g].sum()) for g in _LOOKALIKES))


def ink_at_edges(plate: np.ndarray, boxes: list[Box]) -> tuple[float, float]:
    """How much glyph-like contrast touches the left and right edge of a plate crop.

    Looks at a strip about a third of a glyph wide at each side, between the glyphs'
    median top and bottom, and gives its contrast (95th - 5th percentile) as a
    fraction of the glyphs' own: near 0 for plain plate background and for a uniform
    dark surround (the car beyond the plate), near 1 when strokes and background
    meet there -- often a glyph that the crop cut through.

    Parameters
    ----------
    plate : ndarray
        Gray ``(H, W)`` plate crop.
    boxes : list of (x, y, w, h)
        The glyphs read in it, in its pixel coordinates.

    Examples
    --------
    >>> img = np.full((20, 60), 200, np.uint8)
    >>> img[5:15, 10:13] = img[5:15, 30:33] = img[5:15, 58:] = 20   # two glyphs, one cut
    >>> img[5:7, 10:20] = img[5:7, 30:40] = 20
    >>> ink_at_edges(img, [(10, 5, 10, 10), (30, 5, 10, 10)])
    (0.0, 1.0)
    """
    g = np.asarray(plate)
    if g.ndim != 2 or not boxes:
        raise ValueError(f"plate must be a 2-D gray image with glyph boxes, got shape {g.shape} and {len(boxes)} boxes")
    inner = np.concatenate([g[y : y + h, x : x + w].ravel() for x, y, w, h in boxes]).astype(np.float32)
    if inner.size == 0:
        return 0.0, 0.0
    ref = max(1.0, float(np.percentile(inner, 95) - np.percentile(inner, 5)))
    y0 = max(0, int(_med([b[1] for b in boxes])))
    y1 = max(y0 + 1, int(_med([b[1] + b[3] for b in boxes])))
    k = max(2, round(0.3 * _med([b[2] for b in boxes])))
    band = g[y0:y1].astype(np.float32)
    out = []
    for strip in (band[:, :k], band[:, -k:]):
        spread = float(np.percentile(strip, 95) - np.percentile(strip, 5)) if strip.size else 0.0
        out.append(round(min(1.0, spread / ref), 4))
    return out[0], out[1]


def tall_ends(boxes: list[Box]) -> list[int]:
    """End glyphs of a reading taller than `TALL_END` of its median glyph: the frame edge.

    Returns their positions in ``boxes`` (the glyphs read, reading order).

    >>> tall_ends([(0, 0, 4, 26), (6, 0, 10, 20), (18, 0, 10, 20), (30, 0, 10, 21)])
    [0]
    """
    tall = TALL_END * float(np.median([b[3] for b in boxes]))
    return [i for i in (0, len(boxes) - 1) if boxes[i][3] > tall]


def trim_ends(keep: list[int], doubtful: list[bool], min_chars: int) -> list[int]:
    """``keep`` without its doubtful glyphs at either end, as long as more than ``min_chars`` stay.

    ``doubtful[i]`` says whether ``keep[i]`` may be no character (read less surely than
    `END_DOUBT`, a frame edge, a picture). The left end is trimmed first.

    >>> trim_ends([3, 4, 5, 6, 7, 8], [True, False, False, False, True, True], 4)
    [4, 5, 6, 7]
    """
    lo, hi = 0, len(keep)
    while hi - lo > min_chars and doubtful[lo]:
        lo += 1
    while hi - lo > min_chars and doubtful[hi - 1]:
        hi -= 1
    return keep[lo:hi]


def picture_ends(boxes: list[Box], probs: np.ndarray, min_chars: int) -> list[int]:
    """End glyphs of one text row that look like a picture beside the text.

    A wheelchair symbol, a state emblem or an animal beside the characters yields
    a blob that the classifier reads as some glyph, but not surely (below
    `SURE_PICTURE`), and that is either squarer than a glyph (`PICTURE_ASPECT`) or
    set apart from the row by a longer pitch than the glyphs' (`PICTURE_GAP` of the
    glyph height), while all glyphs between the ends are read surely (`SURE_REST`).
    Returns their positions in ``boxes`` (one text row, reading order; ``probs`` its
    classifier probabilities); none in a row of ``min_chars`` glyphs or fewer.

    Examples
    --------
    >>> bx = [(0, 0, 19, 20), (22, 0, 10, 20), (34, 0, 10, 20), (46, 0, 10, 20), (58, 0, 10, 20)]
    >>> p = np.full((5, 36), 0.0); p[:, 3] = 1.0; p[0, 3] = 0.6
    >>> picture_ends(bx, p, 4)
    [0]
    >>> p[0, 3] = 0.95
    >>> picture_ends(bx, p, 4)
    []
    """
    if len(boxes) <= min_chars:
        return []
    h = _med([b[3] for b in boxes])
    # Centre to centre: a narrow 1 or I stands further from its neighbours' edges
    # than other glyphs, not from their centres.
    pitch = [b[0] + b[2] / 2 - a[0] - a[2] / 2 for a, b in zip(boxes, boxes[1:])]
    g = _med(pitch)
    sure = [glyph_sureness(p) for p in probs]
    out = []
    for i, gap in ((0, pitch[0]), (len(boxes) - 1, pitch[-1])):
        x, y, w, bh = boxes[i]
        if min(sure[1:-1]) < SURE_REST:  # among unsure glyphs (no plate text) nothing stands out
            break
        if sure[i] < SURE_PICTURE and (w >= PICTURE_ASPECT * bh or gap - g >= PICTURE_GAP * h):
            out.append(i)
    return out


def line_at(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The least-squares line through the points ``(x, y)``, evaluated at ``at``.

    >>> float(line_at(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), 4.0))
    5.0
    """
    dx = x - x.mean()
    k = float((dx * (y - y.mean())).sum() / max(float((dx * dx).sum()), 1e-9))
    return y.mean() + k * (at - x.mean())


def picture_between(boxes: list[Box], probs: np.ndarray, min_chars: int) -> list[int]:
    """Inner glyphs of one text row that look like a picture between two groups.

    A state emblem set between the character groups (a palmetto, a tree) reads
    as some glyph, often surely; unlike a glyph it is wider than the row's glyphs
    (`INNER_WIDE` of their median width), stands apart from both neighbours by
    a longer pitch than the glyphs' (`PICTURE_GAP` of the glyph height) and its top
    sits below the row's top line (`INNER_DROP` of the glyph height: a wide W or a
    glyph merged with the emblem behind it shares the line), while every other
    glyph of the row is read surely (`SURE_REST`). Returns their positions in
    ``boxes`` (one text row, reading order; ``probs`` its classifier probabilities);
    none in a row of ``min_chars + 1`` glyphs or fewer.

    Examples
    --------
    >>> bx = [(0, 0, 10, 20), (12, 0, 10, 20), (24, 0, 10, 20), (40, 3, 16, 20), (62, 0, 10, 20), (74, 0, 10, 20)]
    >>> p = np.full((6, 36), 0.0); p[:, 3] = 1.0
    >>> picture_between(bx, p, 4)
    [3]
    >>> picture_between(bx[:3] + [(40, 0, 16, 20)] + bx[4:], p, 4)
    []
    """
    if len(boxes) <= min_chars + 1:
        return []
    h = _med([b[3] for b in boxes])
    w = _med([b[2] for b in boxes])
    pitch = [b[0] + b[2] / 2 - a[0] - a[2] / 2 for a, b in zip(boxes, boxes[1:])]
    g = _med(pitch)
    sure = [glyph_sureness(p) for p in probs]
    xc = np.array([b[0] + b[2] / 2 for b in boxes])
    top = np.array([b[1] for b in boxes], np.float64)
    out = []
    for i in range(1, len(boxes) - 1):
        if (
            boxes[i][2] >= INNER_WIDE * w
            and min(pitch[i - 1], pitch[i]) - g >= PICTURE_GAP * h
            and min(sure[:i] + sure[i + 1 :]) >= SURE_REST
        ):
            if top[i] - line_at(np.delete(xc, i), np.delete(top, i), xc[i]) >= INNER_DROP * h:
                out.append(i)
    return out


def joined(s: Segmentation, height: int, min_chars: int) -> list[Segmentation]:
    """Hypotheses that join two narrow neighbours of a one-row hypothesis into one glyph.

    A broken U or V falls apart into two bars that read as a sure ``1I``; unlike two
    ones, the pair is no wider than a glyph (`JOIN_WIDE` of the median width) and
    each bar is narrower than `JOIN_NARROW` of it. The joined hypothesis is scored
    on its own geometry (`anpr.segment.score_boxes`, ``height`` the plate's) and
    competes with the split one. None for a row of ``min_chars`` glyphs or fewer.

    Examples
    --------
    >>> row = [(0, 0, 10, 20), (12, 0, 10, 20), (24, 0, 3, 20), (31, 0, 3, 20), (36, 0, 10, 20)]
    >>> [j.boxes[2] for j in joined(Segmentation(row, 0.5, "dark", [5]), 30, 4)]
    [(24, 0, 10, 20)]
    >>> joined(Segmentation(row[:2] + [(24, 0, 3, 20), (40, 0, 3, 20)], 0.5, "dark", [4]), 30, 4)
    []
    """
    if len(s.rows) > 1 or len(s.boxes) <= min_chars:
        return []
    b = s.boxes
    w = _med([x[2] for x in b])
    out = []
    for i in range(len(b) - 1):
        (x0, y0, w0, h0), (x1, y1, w1, h1) = b[i], b[i + 1]
        if max(w0, w1) < JOIN_NARROW * w and x1 + w1 - x0 <= JOIN_WIDE * w:
            y = min(y0, y1)
            box = (x0, y, x1 + w1 - x0, max(y0 + h0, y1 + h1) - y)
            boxes = b[:i] + [box] + b[i + 2 :]
            crops = list(s.crops or b)
            crops = crops[:i] + [box] + crops[i + 2 :]
            out.append(Segmentation(boxes, score_boxes(boxes, height), s.polarity, [len(boxes)], crops))
    return out

"""Read the characters of one cropped, rectified plate.

`recognize_plate` segments the plate (several hypotheses, plus ones that join two narrow
bars into one broken glyph, `_joined`), classifies every character crop of every
hypothesis in one batched classifier call (and a doubtful glyph that something touches
once more, cut free of it: `FREED_DOUBT`), decodes each hypothesis (a strict region's
formats fit the reading; otherwise the formats of the region, or of all regions without
one, settle digit/letter look-alikes only) and keeps the one with the highest
confidence. An end glyph that is doubtful, tall enough to be the plate's frame edge
(`TALL_END`) or a picture beside the text (`_picture_ends`) is also weighed left out,
and so is an inner glyph that is an emblem between two groups (`_picture_between`); a
reading that leaves out glyphs another hypothesis reads surely is penalised
(`MISSING_FACTOR`). The confidence combines the classifier's character probabilities
with the geometric quality of the segmentation, so that a grille, a sign or a headlight
-- which may still yield a row of blobs -- scores low.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np

from .decode import LOOKALIKE_GROUPS, LOOKALIKE_LETTERS, Decoded, decode, decode_formats, load_region, settle_layout
from .geometry import box_iou_matrix, iou
from .normalize import CLASSES
from .numeric import median as _med
from .protocols import GlyphModel, GrayImage, ProbaClassifier, ReadingChooser
from .segment import Box, Segmentation, cut_chars, find_segmentations, score_boxes

MIN_CHARS = 4
"""Fewer characters than this is not read as a plate."""

MAX_CHARS = 10
"""More characters than this is not read as a plate."""

MAX_HEIGHT = 160
"""Taller plate crops are scaled down first: more pixels only cost time."""

HYPOTHESES = 3
"""Segmentation hypotheses judged by the classifier per plate."""

UNMATCHED_FACTOR = 0.4
"""Confidence factor for a reading that fits none of a strict region's formats."""

MISSING_FACTOR = 0.6
"""Confidence factor for a reading whose glyphs another hypothesis reads plus more."""

END_DOUBT = 0.4
"""An end glyph the classifier is less sure of than this may be no character at all."""

GROUP_GAP = 0.3
"""A gap wider than the row's median gap by this fraction of the glyph height (a dash,
a crest, a space) separates two groups of glyphs (`spacing_groups`)."""

TALL_END = 1.15
"""An end glyph this much taller than the row's median glyph may be the plate's frame
edge (it reads as a confident ``1``), however sure the classifier is."""

SURE_PICTURE = 0.9
PICTURE_ASPECT = 0.78
PICTURE_GAP = 0.1
"""An end glyph read less surely than `SURE_PICTURE` that is this square (width over
height) or this much further apart (pitch beyond the row's median, in glyph heights)
is a picture beside the text (`_picture_ends`), like a frame edge..."""

SURE_REST = 0.8
"""... when the classifier is this sure of every glyph between the two ends."""

JOIN_NARROW = 0.5
JOIN_WIDE = 1.3
"""Two neighbours each narrower than `JOIN_NARROW` of the row's median glyph width,
together no wider than `JOIN_WIDE` of it, may be one broken glyph (`_joined`)."""

INNER_WIDE = 1.35
INNER_DROP = 0.07
"""A glyph between two groups this much wider than the row's median glyph, set apart
from both neighbours and this much (in glyph heights) below the row's top line, is a
picture (`_picture_between`)."""

MIN_SEGMENTATION_SCORE = 0.12
"""Hypotheses less regular than this are no plate text, whatever the classifier says."""


MATCH_IOU = 0.5
"""Glyph boxes of two hypotheses overlapping this much are the same glyph (`_same_glyph`)."""

MISSING_SCORE_RATIO = 0.8
"""`MISSING_FACTOR` applies only when the fuller hypothesis is at least this fraction as
regular (segmentation score) as the reading's own..."""

SURE_GLYPH = 0.8
SURE_MISSING_SCORE_RATIO = 0.7
"""... or this fraction, when the classifier is at least `SURE_GLYPH` sure of every
glyph the reading leaves out."""


SAME_BOX_IOU = 0.85
"""Boxes of different hypotheses overlapping this much are classified once."""

FREED_IOU = 0.9
"""A box whose glyph cut free of what touches it (`anpr.segment.Segmentation.crops`)
overlaps it less than this is classified both ways, the surer reading counting..."""

FREED_DOUBT = 0.9
"""... when the box itself reads no surer than this: the other boxes keep their
reading."""


_O, _ZERO = CLASSES.index("O"), CLASSES.index("0")


LEARNED = "learned"
"""`Segmentation.polarity` of the glyph finder's hypothesis."""


def _sure(probs: np.ndarray, text: str, lookalikes: bool = False) -> np.ndarray:
    """Probability of each chosen character, counting O and 0 as one character.

    Plates (and their labels) use the letter O and the digit zero
    interchangeably, so a glyph split evenly between them is a sure reading.
    With ``lookalikes``, a letter chosen over its look-alike digit (the plate
    formats settled it, see `anpr.decode.decode_formats`) counts both, too.
    """
    p = probs[np.arange(len(text)), [CLASSES.index(c) for c in text]].astype(np.float64)
    oz = np.array([c in "O0" for c in text])
    p[oz] = probs[oz][:, _O] + probs[oz][:, _ZERO]
    if lookalikes:
        for i, t in enumerate(probs.argmax(axis=1)):
            if LOOKALIKE_LETTERS.get(CLASSES[t]) == text[i]:
                p[i] += probs[i, t]
    return np.clip(p, 0.0, 1.0)


_LOOKALIKES = [[CLASSES.index(c) for c in g] for g in LOOKALIKE_GROUPS]


def _top(row: np.ndarray) -> float:
    """How surely a crop is *some* glyph: its top class, or its top group of look-alikes
    (a glyph split between I and 1 is still a glyph)."""
    return max(float(row.max()), max(float(row[g].sum()) for g in _LOOKALIKES))


@dataclass(frozen=True)
class PlateText:
    """The text read from one plate.

    Attributes
    ----------
    text : str
        Plate characters, no separators.
    confidence : float
        In ``[0, 1]``; how much the reading looks like a correctly read plate.
    chars : list of (char, probability, box)
        One entry per character of ``text``; box is ``(x, y, w, h)`` in the
        coordinates of the plate image passed in.
    probs : ndarray
        ``(len(text), 36)`` classifier probabilities of the characters used.
    segmentation_score : float
        Geometric quality of the chosen segmentation, in ``[0, 1]``.
    pattern : str or None
        The region pattern the text matches, if a region was given and matched.
    rows : list of int
        Characters per text row, top row first (two entries on a two-row plate).
    """

    text: str
    confidence: float
    chars: list[tuple[str, float, Box]]
    probs: np.ndarray = field(repr=False)
    segmentation_score: float = 0.0
    pattern: str | None = None
    rows: list[int] = field(default_factory=list)


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


def spacing_groups(boxes: list[Box], rows: list[int] | None = None) -> list[int]:
    """Group id of each glyph: runs of glyphs that the plate's spacing sets apart.

    A new group starts after a gap wider than the median gap by `GROUP_GAP` of the
    median glyph height, and at each new text row (``rows``: glyphs per row).

    Examples
    --------
    >>> spacing_groups([(0, 0, 8, 20), (10, 0, 8, 20), (30, 0, 8, 20), (40, 0, 8, 20)])
    [0, 0, 1, 1]
    >>> spacing_groups([(0, 0, 8, 20), (10, 0, 8, 20), (0, 30, 8, 20), (10, 30, 8, 20)], [2, 2])
    [0, 0, 1, 1]
    """
    if not boxes:
        return []
    gaps = [b[0] - (a[0] + a[2]) for a, b in zip(boxes, boxes[1:])]
    wide = (_med(gaps) if gaps else 0.0) + GROUP_GAP * _med([b[3] for b in boxes])
    starts = set(np.cumsum(rows)[:-1].tolist()) if rows else set()
    out = [0]
    for i, gap in enumerate(gaps, start=1):
        out.append(out[-1] + int(gap > wide or i in starts))
    return out


def _sub_rows(rows: list[int], sub: list[int]) -> list[int]:
    """Glyphs per text row among the kept glyph indices ``sub``."""
    if len(rows) < 2:
        return []
    bounds = np.cumsum(rows)
    return np.bincount(np.searchsorted(bounds, sub, side="right"), minlength=len(rows)).tolist()


def _same_glyph(boxes: list[Box]) -> np.ndarray:
    """``(n, n)`` bool: which boxes overlap by `MATCH_IOU` or more (one glyph, cut by
    two hypotheses a pixel or two apart).

    Examples
    --------
    >>> _same_glyph([(0, 0, 10, 20), (1, 1, 10, 20), (30, 0, 10, 20)]).astype(int).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    """
    b = np.array(boxes, np.float64).reshape(-1, 4)
    return box_iou_matrix(b, b) >= MATCH_IOU


def _extra_glyphs(mine: set[int], other: set[int], same: np.ndarray) -> set[int]:
    """Glyphs of ``other`` that ``mine`` leaves out, when ``other`` holds all of ``mine``.

    Both are index sets into the boxes of ``same`` (`_same_glyph`); a glyph of
    ``mine`` is held by ``other`` when one of its boxes is the same glyph. Empty when
    ``other`` misses any glyph of ``mine`` or adds none.

    Examples
    --------
    >>> same = _same_glyph([(0, 0, 10, 20), (12, 0, 10, 20), (13, 1, 10, 20), (30, 0, 10, 20)])
    >>> sorted(_extra_glyphs({0, 1}, {0, 2, 3}, same))
    [3]
    >>> _extra_glyphs({0, 3}, {0, 1}, same)
    set()
    """
    if other <= mine:
        return set()
    o, m = sorted(other), sorted(mine)
    if not same[np.ix_(m, o)].any(axis=1).all():
        return set()
    held = cast(list[bool], same[np.ix_(o, m)].any(axis=1).tolist())
    return {j for j, h in zip(o, held) if not h}


def _picture_ends(boxes: list[Box], probs: np.ndarray) -> list[int]:
    """End glyphs of one text row that look like a picture beside the text.

    A wheelchair symbol, a state emblem or an animal beside the characters yields
    a blob that the classifier reads as some glyph, but not surely (below
    `SURE_PICTURE`), and that is either squarer than a glyph (`PICTURE_ASPECT`) or
    set apart from the row by a longer pitch than the glyphs' (`PICTURE_GAP` of the
    glyph height), while all glyphs between the ends are read surely (`SURE_REST`).
    Returns their positions in ``boxes`` (one text row, reading order; ``probs`` its
    classifier probabilities).

    Examples
    --------
    >>> bx = [(0, 0, 19, 20), (22, 0, 10, 20), (34, 0, 10, 20), (46, 0, 10, 20), (58, 0, 10, 20)]
    >>> p = np.full((5, 36), 0.0); p[:, 3] = 1.0; p[0, 3] = 0.6
    >>> _picture_ends(bx, p)
    [0]
    >>> p[0, 3] = 0.95
    >>> _picture_ends(bx, p)
    []
    """
    if len(boxes) <= MIN_CHARS:
        return []
    h = _med([b[3] for b in boxes])
    # Centre to centre: a narrow 1 or I stands further from its neighbours' edges
    # than other glyphs, not from their centres.
    pitch = [b[0] + b[2] / 2 - a[0] - a[2] / 2 for a, b in zip(boxes, boxes[1:])]
    g = _med(pitch)
    sure = [_top(p) for p in probs]
    out = []
    for i, gap in ((0, pitch[0]), (len(boxes) - 1, pitch[-1])):
        x, y, w, bh = boxes[i]
        if min(sure[1:-1]) < SURE_REST:  # among unsure glyphs (no plate text) nothing stands out
            break
        if sure[i] < SURE_PICTURE and (w >= PICTURE_ASPECT * bh or gap - g >= PICTURE_GAP * h):
            out.append(i)
    return out


def _line_at(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The least-squares line through the points ``(x, y)``, evaluated at ``at``.

    >>> float(_line_at(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), 4.0))
    5.0
    """
    dx = x - x.mean()
    k = float((dx * (y - y.mean())).sum() / max(float((dx * dx).sum()), 1e-9))
    return y.mean() + k * (at - x.mean())


def _picture_between(boxes: list[Box], probs: np.ndarray) -> list[int]:
    """Inner glyphs of one text row that look like a picture between two groups.

    A state emblem set between the character groups (a palmetto, a tree) reads
    as some glyph, often surely; unlike a glyph it is wider than the row's glyphs
    (`INNER_WIDE` of their median width), stands apart from both neighbours by
    a longer pitch than the glyphs' (`PICTURE_GAP` of the glyph height) and its top
    sits below the row's top line (`INNER_DROP` of the glyph height: a wide W or a
    glyph merged with the emblem behind it shares the line), while every other
    glyph of the row is read surely (`SURE_REST`). Returns their positions in
    ``boxes`` (one text row, reading order; ``probs`` its classifier probabilities).

    Examples
    --------
    >>> bx = [(0, 0, 10, 20), (12, 0, 10, 20), (24, 0, 10, 20), (40, 3, 16, 20), (62, 0, 10, 20), (74, 0, 10, 20)]
    >>> p = np.full((6, 36), 0.0); p[:, 3] = 1.0
    >>> _picture_between(bx, p)
    [3]
    >>> _picture_between(bx[:3] + [(40, 0, 16, 20)] + bx[4:], p)
    []
    """
    if len(boxes) <= MIN_CHARS + 1:
        return []
    h = _med([b[3] for b in boxes])
    w = _med([b[2] for b in boxes])
    pitch = [b[0] + b[2] / 2 - a[0] - a[2] / 2 for a, b in zip(boxes, boxes[1:])]
    g = _med(pitch)
    sure = [_top(p) for p in probs]
    xc = np.array([b[0] + b[2] / 2 for b in boxes])
    top = np.array([b[1] for b in boxes], np.float64)
    out = []
    for i in range(1, len(boxes) - 1):
        if (
            boxes[i][2] >= INNER_WIDE * w
            and min(pitch[i - 1], pitch[i]) - g >= PICTURE_GAP * h
            and min(sure[:i] + sure[i + 1 :]) >= SURE_REST
        ):
            if top[i] - _line_at(np.delete(xc, i), np.delete(top, i), xc[i]) >= INNER_DROP * h:
                out.append(i)
    return out


def _joined(s: Segmentation, height: int) -> list[Segmentation]:
    """Hypotheses that join two narrow neighbours of a one-row hypothesis into one glyph.

    A broken U or V falls apart into two bars that read as a sure ``1I``; unlike two
    ones, the pair is no wider than a glyph (`JOIN_WIDE` of the median width) and
    each bar is narrower than `JOIN_NARROW` of it. The joined hypothesis is scored
    on its own geometry (`anpr.segment.score_boxes`) and competes with the split one.

    Examples
    --------
    >>> row = [(0, 0, 10, 20), (12, 0, 10, 20), (24, 0, 3, 20), (31, 0, 3, 20), (36, 0, 10, 20)]
    >>> [j.boxes[2] for j in _joined(Segmentation(row, 0.5, "dark", [5]), 30)]
    [(24, 0, 10, 20)]
    >>> _joined(Segmentation(row[:2] + [(24, 0, 3, 20), (40, 0, 3, 20)], 0.5, "dark", [4]), 30)
    []
    """
    if len(s.rows) > 1 or len(s.boxes) <= MIN_CHARS:
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


def plate_confidence(char_probs: np.ndarray, segmentation_score: float) -> float:
    """Plate confidence from the chosen characters' probabilities and segmentation quality.

    The geometric mean rewards an overall confident reading, the minimum punishes
    one doubtful character (a misread plate usually has exactly one).

    Examples
    --------
    >>> round(plate_confidence(np.array([0.99, 0.98, 0.97, 0.99]), 1.0), 3)
    0.977
    >>> plate_confidence(np.array([0.99, 0.2, 0.97, 0.99]), 1.0) < 0.6
    True
    """
    c = np.clip(np.asarray(char_probs, np.float64), 1e-6, 1.0)
    if c.size == 0:
        return 0.0
    gmean = float(np.exp(np.log(c).mean()))
    return float(np.clip(gmean**0.6 * float(c.min()) ** 0.4 * float(segmentation_score) ** 0.5, 0.0, 1.0))


def _classify(classifier: ProbaClassifier, plate: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """Class probabilities ``(len(boxes), 36)`` of the glyphs in ``boxes`` (one batch)."""
    probs = np.asarray(classifier.predict_proba(cut_chars(plate, boxes)), np.float64)
    if probs.shape != (len(boxes), 36):
        raise ValueError(f"classifier returned shape {probs.shape}, expected ({len(boxes)}, 36)")
    return probs


def recognize_plate(plate: GrayImage, classifier: ProbaClassifier, region: str | None = None,
                    glyphs: GlyphModel | None = None, chooser: ReadingChooser | Literal[False] | None = None,
                    trace: list | None = None) -> PlateText | None:
    """Read one cropped, rectified plate.

    Parameters
    ----------
    plate : ndarray
        Gray ``(H, W)`` or BGR(A) ``(H, W, 3|4)`` plate image.
    classifier : object
        Anything with ``predict_proba(crops) -> (N, 36)`` in
        `anpr.normalize.CLASSES` order, e.g. `anpr.classify.CharClassifier`.
    region : str or None
        Region key (``'us'``, ``'eu'``, ``'br'``, ``'ar'``) whose plate formats guide the
        decoding. None reads the most likely characters, a digit turned into its
        look-alike letter only where that alone fits a known format of any region
        (`anpr.decode.decode_formats`); a region whose formats are not exhaustive
        (``strict: false``: eu, us) does the same with its own formats only; a strict
        one (br) fits the reading to its formats (`anpr.decode.decode`).
    glyphs : anpr.glyphs.GlyphFinder, optional
        The learned glyph finder; its boxes join the connected-component hypotheses.
    chooser : anpr.choose.Chooser or False, optional
        What keeps one reading of the hypotheses: None the shipped `anpr.choose`
        model, False the most confident reading.
    trace : list, optional
        Receives ``(texts, features)`` of the hypotheses weighed (`anpr.choose.features`;
        for ``anpr train-chooser``).

    Returns
    -------
    PlateText or None
        None when nothing that looks like a plate's text is found.
    """
    import cv2

    a: np.ndarray = np.asarray(plate)
    if a.ndim not in (2, 3) or a.shape[0] < 4 or a.shape[1] < 4:
        raise ValueError(f"plate must be a 2-D or 3-D image of at least 4x4 pixels, got shape {a.shape}")
    if region is not None:
        load_region(region)  # validate before any work
    scale = 1.0
    if a.shape[0] > MAX_HEIGHT:
        scale = MAX_HEIGHT / a.shape[0]
        a = cv2.resize(a, (max(4, round(a.shape[1] * scale)), MAX_HEIGHT), interpolation=cv2.INTER_AREA)

    segs = [
        s
        for s in find_segmentations(a, HYPOTHESES)
        if MIN_CHARS <= len(s.boxes) <= MAX_CHARS + 2 and s.score >= MIN_SEGMENTATION_SCORE
    ]
    if glyphs is not None:
        # The learned finder's boxes are one more hypothesis: alone it reads fewer
        # plates than beside the connected components (it learned from plates they cut).
        found, _ = glyphs.find(a)
        if MIN_CHARS <= len(found) <= MAX_CHARS:
            segs.append(Segmentation(found, score_boxes(found, a.shape[0]), LEARNED, [len(found)]))
    segs += [j for s in segs for j in _joined(s, a.shape[0])]
    if not segs:
        return None
    # Hypotheses share most of their boxes, give or take a pixel: classify each
    # distinct box once.
    unique: list[Box] = []
    cores: list[Box] = []  # the part of each unique box to classify
    index: dict[Box, int] = {}
    for s in segs:
        for b, g in zip(s.boxes, s.crops or s.boxes):
            if b not in index:
                index[b] = next((i for i, u in enumerate(unique) if iou(b, u) >= SAME_BOX_IOU), len(unique))
                if index[b] == len(unique):
                    unique.append(b)
                    cores.append(g)
    uprobs = _classify(classifier, a, unique)
    # A doubtful glyph that a sticker, a picture or the frame touches is classified
    # again, cut free within its text row; the surer reading counts (the cut may
    # also clip a tail, as of a Q, that the box kept).
    alt = [i for i, (u, g) in enumerate(zip(unique, cores)) if iou(u, g) < FREED_IOU and uprobs[i].max() < FREED_DOUBT]
    if alt:
        for i, p in zip(alt, _classify(classifier, a, [cores[i] for i in alt])):
            if p.max() > uprobs[i].max():
                uprobs[i] = p

    strict = region is not None and load_region(region).strict
    cands = []

    def consider(s, sub: list[int]) -> Decoded | None:
        ids = [index[s.boxes[k]] for k in sub]
        if strict:
            d = decode(uprobs[ids], region)
        else:
            d = decode_formats(uprobs[ids], spacing_groups([s.boxes[k] for k in sub], _sub_rows(s.rows, sub)), region)
        if not MIN_CHARS <= len(d.text) <= MAX_CHARS:
            return None
        conf = plate_confidence(_sure(uprobs[[ids[k] for k in d.keep]], d.text, not strict), s.score)
        d = Decoded(d.text, d.probs, tuple(sub[k] for k in d.keep), d.pattern)
        if strict and d.pattern is None:
            conf *= UNMATCHED_FACTOR  # the region's formats are exhaustive: this is a misread
        cands.append([conf, s, d, {index[s.boxes[k]] for k in d.keep}])
        return d

    frames: set[int] = set()  # end boxes that are no glyph: frame edges, pictures
    pictures: set[int] = set()  # inner boxes that are no glyph: emblems, pieces of glyphs
    for s in segs:
        d = consider(s, list(range(len(s.boxes))))
        # A doubtful glyph at either end is more often a picture or a sticker
        # beside the text than a character: also weigh the reading without it.
        if d is not None:
            keep = list(d.keep)
            tall = TALL_END * float(np.median([s.boxes[k][3] for k in keep]))
            for k in (keep[0], keep[-1]):
                if s.boxes[k][3] > tall:
                    frames.add(index[s.boxes[k]])
            if len(s.rows) < 2:
                row = [s.boxes[k] for k in keep]
                row_probs = uprobs[[index[b] for b in row]]
                frames |= {index[s.boxes[keep[i]]] for i in _picture_ends(row, row_probs)}
                inner = [keep[i] for i in _picture_between(row, row_probs)]
                if inner:
                    pictures |= {index[s.boxes[k]] for k in inner}
                    consider(s, [k for k in keep if k not in inner])

            def doubt(k: int) -> bool:  # called at once, within this iteration
                return _top(uprobs[index[s.boxes[k]]]) < END_DOUBT or index[s.boxes[k]] in frames  # noqa: B023

            while len(keep) > MIN_CHARS and doubt(keep[0]):
                keep = keep[1:]
            while len(keep) > MIN_CHARS and doubt(keep[-1]):
                keep = keep[:-1]
            if len(keep) < len(d.keep):
                consider(s, keep)
    # A reading that leaves out glyphs another hypothesis reads confidently is
    # missing characters, however sure it is of the rest. Hypotheses cut the same
    # glyph a pixel apart, so glyphs are matched by overlap, not by identity.
    same = _same_glyph(unique)
    # Another hypothesis cuts the same emblem or piece a few pixels apart: no glyph either.
    frames |= {int(j) for p in pictures for j in np.flatnonzero(same[p])}
    # The learned finder also marks crests and stickers between the groups as glyphs:
    # its readings are no evidence of a missing character.
    witnesses = [o for o in cands if o[1].polarity != LEARNED]
    for c in cands:
        for o in witnesses:
            extra = _extra_glyphs(c[3], o[3], same)
            if not extra or extra & frames:
                continue
            # A glyph the classifier is sure of (its top class alone: a bar split
            # between I and 1 may be the frame) may cost the row some regularity: an
            # end glyph is often taller or wider for the frame or a bolt touching it.
            sure = min(float(uprobs[e].max()) for e in extra) >= SURE_GLYPH
            ratio = SURE_MISSING_SCORE_RATIO if sure else MISSING_SCORE_RATIO
            if min(_top(uprobs[e]) for e in extra) >= END_DOUBT and o[1].score >= ratio * c[1].score:
                c[0] *= MISSING_FACTOR
                break
    if not cands:
        return None
    best = max(range(len(cands)), key=lambda i: cands[i][0])
    if len(cands) > 1 and (chooser is not False or trace is not None):
        from .choose import features, load_chooser

        x = features([c[0] for c in cands], [c[1].score for c in cands], [c[2].text for c in cands],
                     [c[2].probs for c in cands], [c[2].pattern is not None for c in cands],
                     [c[1].polarity == LEARNED for c in cands], [len(c[1].boxes) - len(c[2].keep) for c in cands],
                     region)
        if trace is not None:
            trace.append(([c[2].text for c in cands], x))
        if chooser is not False:
            best = (chooser if chooser is not None else load_chooser()).choose(x)
    conf, s, d, _ = cands[best]
    # The model cannot tell O from 0, or I from 1, in most fonts; the layouts of real plates can.
    probs = uprobs[[index[s.boxes[k]] for k in d.keep]].astype(np.float32)
    text = d.text if strict else settle_layout(d.text, probs, region)
    chars = []
    for ch, pr, k in zip(text, d.probs, d.keep):
        bx, by, bw, bh = s.boxes[k]
        if scale != 1.0:
            bx, by = int(np.floor(bx / scale)), int(np.floor(by / scale))
            bw, bh = int(np.ceil(bw / scale)), int(np.ceil(bh / scale))
        chars.append((ch, float(pr), (bx, by, bw, bh)))
    rows = [int(n) for n in _sub_rows(s.rows, list(d.keep))] or [len(d.keep)]
    return PlateText(text, float(conf), chars, probs, s.score, d.pattern, rows)

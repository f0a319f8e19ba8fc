"""Read the characters of one cropped, rectified plate.

`recognize_plate` is a chain of stages, each a function below:

1. `_segmentations`: hypotheses of where the glyphs are -- the connected components'
   (`anpr.segment.find_segmentations`), the learned glyph finder's, and ones that join
   two narrow bars into one broken glyph (`anpr.plate_ends.joined`).
2. `_classify_boxes`: every distinct glyph box of every hypothesis in one batched
   classifier call, and a doubtful glyph that something touches once more, cut free of
   it (`FREED_DOUBT`): `BoxReadings`.
3. `_all_readings`: each hypothesis decoded (a strict region's formats fit the reading;
   otherwise the formats of the region, or of all regions without one, settle
   digit/letter look-alikes only) into a `Candidate`, and also without glyphs that may
   be none: an end glyph that is doubtful, the plate's frame edge or a picture beside
   the text, and an emblem between two groups (the rules of `anpr.plate_ends`).
4. `_penalise_missing`: a reading that leaves out glyphs another hypothesis reads
   surely loses confidence (`MISSING_FACTOR`).
5. `_choose`: the reading chooser (`anpr.choose`) keeps one reading.
6. `_plate_text`: its text, digit/letter look-alikes settled by the layouts of real
   plates, and its boxes in the coordinates of the plate passed in: `PlateText`.
7. With the whole-plate reader (``ocr``), `anpr.read_whole.whole_choice` weighs that
   reading against the reader's own and keeps one (`_whole_plate_text`).

The confidence combines the classifier's character probabilities with the geometric
quality of the segmentation, so that a grille, a sign or a headlight -- which may
still yield a row of blobs -- scores low.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field, replace
from typing import Literal, cast

import numpy as np

from .decode import LOOKALIKE_LETTERS, Decoded, decode, decode_formats, load_region, settle_layout
from .geometry import box_iou_matrix, iou
from .normalize import CLASSES
from .numeric import median as _med
from .plate_ends import END_DOUBT, glyph_sureness, joined, picture_between, picture_ends, tall_ends, trim_ends
from .protocols import GlyphModel, GrayImage, ProbaClassifier, ReadingChooser, WholePlateReader
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

GROUP_GAP = 0.3
"""A gap wider than the row's median gap by this fraction of the glyph height (a dash,
a crest, a space) separates two groups of glyphs (`spacing_groups`)."""

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


def _extra_glyphs(mine: Set[int], other: Set[int], same: np.ndarray) -> set[int]:
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


@dataclass(frozen=True)
class BoxReadings:
    """What the classifier reads in each distinct glyph box of a plate's hypotheses.

    Hypotheses share most of their boxes, give or take a pixel: boxes overlapping by
    `SAME_BOX_IOU` are classified once (`_classify_boxes`).

    Attributes
    ----------
    boxes : list of (x, y, w, h)
        The distinct boxes.
    ids : dict
        Every box of every hypothesis -> the position of its distinct box in ``boxes``.
    probs : ndarray
        ``(len(boxes), 36)`` classifier probabilities of the distinct boxes.
    """

    boxes: list[Box]
    ids: dict[Box, int]
    probs: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Candidate:
    """One reading of one hypothesis: of all its glyphs, or with some left out.

    Attributes
    ----------
    confidence : float
        `plate_confidence` of the reading, with its factors (`UNMATCHED_FACTOR`,
        `MISSING_FACTOR`).
    segmentation : anpr.segment.Segmentation
        The hypothesis read.
    decoded : anpr.decode.Decoded
        The reading; its ``keep`` are positions in ``segmentation.boxes``.
    glyph_ids : frozenset of int
        The glyphs read, as positions in `BoxReadings.boxes`.
    """

    confidence: float
    segmentation: Segmentation
    decoded: Decoded
    glyph_ids: frozenset[int]


def _scaled_down(a: np.ndarray) -> tuple[np.ndarray, float]:
    """The plate no taller than `MAX_HEIGHT`, and the scale it was resized by."""
    import cv2

    if a.shape[0] <= MAX_HEIGHT:
        return a, 1.0
    scale = MAX_HEIGHT / a.shape[0]
    return cv2.resize(a, (max(4, round(a.shape[1] * scale)), MAX_HEIGHT), interpolation=cv2.INTER_AREA), scale


def _segmentations(a: np.ndarray, glyphs: GlyphModel | None) -> list[Segmentation]:
    """Segmentation hypotheses of the plate ``a`` worth classifying.

    The connected components' regular ones with a plausible number of glyphs, the
    learned glyph finder's, and each one-row hypothesis with two narrow bars joined
    into one broken glyph (`anpr.plate_ends.joined`).
    """
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
    return segs + [j for s in segs for j in joined(s, a.shape[0], MIN_CHARS)]


def _distinct_boxes(segs: list[Segmentation]) -> tuple[list[Box], list[Box], dict[Box, int]]:
    """The distinct boxes of all hypotheses (`SAME_BOX_IOU`), the glyph cut free within
    each (the part to classify, `anpr.segment.Segmentation.crops`), and each
    hypothesis box's position among them."""
    distinct: list[Box] = []
    cores: list[Box] = []
    ids: dict[Box, int] = {}
    for s in segs:
        for b, g in zip(s.boxes, s.crops or s.boxes):
            if b not in ids:
                ids[b] = next((i for i, u in enumerate(distinct) if iou(b, u) >= SAME_BOX_IOU), len(distinct))
                if ids[b] == len(distinct):
                    distinct.append(b)
                    cores.append(g)
    return distinct, cores, ids


def _classify_boxes(classifier: ProbaClassifier, a: np.ndarray, segs: list[Segmentation]) -> BoxReadings:
    """Classify each distinct box of the hypotheses ``segs`` once.

    A doubtful glyph (`FREED_DOUBT`) that a sticker, a picture or the frame touches is
    classified again, cut free within its text row (`FREED_IOU`); the surer reading
    counts (the cut may also clip a tail, as of a Q, that the box kept).
    """
    distinct, cores, ids = _distinct_boxes(segs)
    probs = _classify(classifier, a, distinct)
    alt = [i for i, (u, g) in enumerate(zip(distinct, cores)) if iou(u, g) < FREED_IOU and probs[i].max() < FREED_DOUBT]
    if alt:
        for i, p in zip(alt, _classify(classifier, a, [cores[i] for i in alt])):
            if p.max() > probs[i].max():
                probs[i] = p
    return BoxReadings(distinct, ids, probs)


def _read(s: Segmentation, sub: list[int], readings: BoxReadings, region: str | None,
          strict: bool) -> Candidate | None:
    """The reading of the glyphs ``sub`` (positions in ``s.boxes``) of hypothesis ``s``.

    None when it has fewer than `MIN_CHARS` or more than `MAX_CHARS` characters.
    """
    ids = [readings.ids[s.boxes[k]] for k in sub]
    if strict:
        d = decode(readings.probs[ids], region)
    else:
        groups = spacing_groups([s.boxes[k] for k in sub], _sub_rows(s.rows, sub))
        d = decode_formats(readings.probs[ids], groups, region)
    if not MIN_CHARS <= len(d.text) <= MAX_CHARS:
        return None
    conf = plate_confidence(_sure(readings.probs[[ids[k] for k in d.keep]], d.text, not strict), s.score)
    d = Decoded(d.text, d.probs, tuple(sub[k] for k in d.keep), d.pattern)
    if strict and d.pattern is None:
        conf *= UNMATCHED_FACTOR  # the region's formats are exhaustive: this is a misread
    return Candidate(conf, s, d, frozenset(readings.ids[s.boxes[k]] for k in d.keep))


def _hypothesis_readings(s: Segmentation, readings: BoxReadings, region: str | None, strict: bool,
                         frames: frozenset[int]) -> tuple[list[Candidate], frozenset[int], frozenset[int]]:
    """The readings of one hypothesis, and the boxes found to be no glyph.

    The reading of all its glyphs; on one text row, also without an emblem between two
    groups (`anpr.plate_ends.picture_between`); and without the glyphs at either end
    that may be none (`anpr.plate_ends.trim_ends`): doubtful ones (`END_DOUBT`), a frame
    edge (`anpr.plate_ends.tall_ends`) or a picture beside the text
    (`anpr.plate_ends.picture_ends`) -- of this hypothesis or of one read before it
    (``frames``: distinct boxes, `BoxReadings`).

    Returns the readings, ``frames`` with this hypothesis' end boxes that are no glyph
    added, and its inner boxes that are no glyph (pictures).
    """
    whole = _read(s, list(range(len(s.boxes))), readings, region, strict)
    if whole is None:
        return [], frames, frozenset()
    out = [whole]
    keep = list(whole.decoded.keep)
    row = [s.boxes[k] for k in keep]
    ids = [readings.ids[b] for b in row]
    frames = frames | {ids[i] for i in tall_ends(row)}
    pictures: frozenset[int] = frozenset()
    if len(s.rows) < 2:
        row_probs = readings.probs[ids]
        frames = frames | {ids[i] for i in picture_ends(row, row_probs, MIN_CHARS)}
        inner = picture_between(row, row_probs, MIN_CHARS)
        if inner:
            pictures = frozenset(ids[i] for i in inner)
            without = _read(s, [k for i, k in enumerate(keep) if i not in inner], readings, region, strict)
            out += [without] if without is not None else []
    # A doubtful glyph at either end is more often a picture or a sticker beside the
    # text than a character: also weigh the reading without it.
    doubtful = [glyph_sureness(readings.probs[i]) < END_DOUBT or i in frames for i in ids]
    trimmed = trim_ends(keep, doubtful, MIN_CHARS)
    if len(trimmed) < len(keep):
        shorter = _read(s, trimmed, readings, region, strict)
        out += [shorter] if shorter is not None else []
    return out, frames, pictures


def _all_readings(segs: list[Segmentation], readings: BoxReadings, region: str | None,
                  strict: bool) -> tuple[list[Candidate], frozenset[int], frozenset[int]]:
    """The readings of every hypothesis (`_hypothesis_readings`), in order, and the
    distinct boxes found to be no glyph: at the ends (frames) and inside (pictures)."""
    cands: list[Candidate] = []
    frames: frozenset[int] = frozenset()
    pictures: frozenset[int] = frozenset()
    for s in segs:
        found, frames, inner = _hypothesis_readings(s, readings, region, strict, frames)
        cands += found
        pictures |= inner
    return cands, frames, pictures


def _missing_penalised(c: Candidate, witnesses: list[Candidate], probs: np.ndarray, same: np.ndarray,
                       no_glyphs: frozenset[int]) -> Candidate:
    """``c``, its confidence times `MISSING_FACTOR` when a witness reads all its glyphs
    and more that are surely glyphs (none of ``no_glyphs``), its hypothesis about as
    regular (`MISSING_SCORE_RATIO`, `SURE_MISSING_SCORE_RATIO`)."""
    for o in witnesses:
        extra = _extra_glyphs(c.glyph_ids, o.glyph_ids, same)
        if not extra or extra & no_glyphs:
            continue
        # A glyph the classifier is sure of (its top class alone: a bar split
        # between I and 1 may be the frame) may cost the row some regularity: an
        # end glyph is often taller or wider for the frame or a bolt touching it.
        sure = min(float(probs[e].max()) for e in extra) >= SURE_GLYPH
        ratio = SURE_MISSING_SCORE_RATIO if sure else MISSING_SCORE_RATIO
        if (min(glyph_sureness(probs[e]) for e in extra) >= END_DOUBT
                and o.segmentation.score >= ratio * c.segmentation.score):
            return replace(c, confidence=c.confidence * MISSING_FACTOR)
    return c


def _penalise_missing(cands: list[Candidate], readings: BoxReadings, frames: frozenset[int],
                      pictures: frozenset[int]) -> list[Candidate]:
    """The readings, each that leaves out glyphs another hypothesis reads confidently
    penalised (`_missing_penalised`): it is missing characters, however sure it is of
    the rest.

    Hypotheses cut the same glyph a pixel apart, so glyphs are matched by overlap
    (`_same_glyph`), not by identity; a box that another hypothesis' box of the same
    emblem or piece (``pictures``) overlaps is no glyph either, like the ``frames``.
    """
    same = _same_glyph(readings.boxes)
    no_glyphs = frames | {int(j) for p in pictures for j in np.flatnonzero(same[p])}
    # The learned finder also marks crests and stickers between the groups as glyphs:
    # its readings are no evidence of a missing character.
    witnesses = [o for o in cands if o.segmentation.polarity != LEARNED]
    return [_missing_penalised(c, witnesses, readings.probs, same, no_glyphs) for c in cands]


def _choose(cands: list[Candidate], region: str | None, chooser: ReadingChooser | Literal[False] | None,
            trace: list | None) -> Candidate:
    """The reading kept: the chooser's (None: the shipped one), or with ``chooser``
    False the most confident; ``trace`` receives the texts and chooser features."""
    best = max(range(len(cands)), key=lambda i: cands[i].confidence)
    if len(cands) > 1 and (chooser is not False or trace is not None):
        from .choose import features, load_chooser

        segs, decs = [c.segmentation for c in cands], [c.decoded for c in cands]
        x = features([c.confidence for c in cands], [s.score for s in segs], [d.text for d in decs],
                     [d.probs for d in decs], [d.pattern is not None for d in decs],
                     [s.polarity == LEARNED for s in segs], [len(s.boxes) - len(d.keep) for s, d in zip(segs, decs)],
                     region)
        if trace is not None:
            trace.append(([d.text for d in decs], x))
        if chooser is not False:
            best = (chooser if chooser is not None else load_chooser()).choose(x)
    return cands[best]


def _unscaled(box: Box, scale: float) -> Box:
    """A box of the plate resized by ``scale`` in the coordinates of the plate passed in."""
    bx, by, bw, bh = box
    if scale != 1.0:
        bx, by = int(np.floor(bx / scale)), int(np.floor(by / scale))
        bw, bh = int(np.ceil(bw / scale)), int(np.ceil(bh / scale))
    return (bx, by, bw, bh)


def _plate_text(c: Candidate, readings: BoxReadings, region: str | None, strict: bool, scale: float) -> PlateText:
    """The `PlateText` of the reading kept; ``scale`` the plate was resized by."""
    s, d = c.segmentation, c.decoded
    probs = readings.probs[[readings.ids[s.boxes[k]] for k in d.keep]].astype(np.float32)
    # The model cannot tell O from 0, or I from 1, in most fonts; the layouts of real plates can.
    text = d.text if strict else settle_layout(d.text, probs, region)
    chars = [(ch, float(pr), _unscaled(s.boxes[k], scale)) for ch, pr, k in zip(text, d.probs, d.keep)]
    rows = [int(n) for n in _sub_rows(s.rows, list(d.keep))] or [len(d.keep)]
    return PlateText(text, float(c.confidence), chars, probs, s.score, d.pattern, rows)


def recognize_plate(plate: GrayImage, classifier: ProbaClassifier, region: str | None = None,
                    glyphs: GlyphModel | None = None, chooser: ReadingChooser | Literal[False] | None = None,
                    trace: list | None = None, ocr: WholePlateReader | None = None) -> PlateText | None:
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
    ocr : anpr.plate_ocr.PlateOCR, optional
        The whole-plate reader: its readings are weighed beside the segmenter's reading,
        when there is one, and the better kept (`anpr.read_whole`).

    Returns
    -------
    PlateText or None
        None when nothing that looks like a plate's text is found.
    """
    a, scale, strict = _prepared(plate, region)
    found = _candidates(a, classifier, region, glyphs, strict)
    segmented = None
    if found is not None:
        cands, readings = found
        segmented = _plate_text(_choose(cands, region, chooser, trace), readings, region, strict, scale)
    if ocr is None or trace is not None or segmented is None:
        return segmented
    from .read_whole import whole_choice

    kept = whole_choice(a, ocr, segmented.text, segmented.confidence, classifier, region, strict, glyphs)
    return segmented if kept == "segmenter" else _whole_plate_text(kept, a.shape[0], scale)


def _whole_plate_text(whole: tuple, height: int, scale: float) -> PlateText:
    """The `PlateText` of a reading kept whole (`anpr.read_whole.whole_reading`)."""
    text, char_p, boxes, probs, pattern = whole
    seg_score = score_boxes(boxes, height)
    chars = [(ch, float(p), _unscaled(b, scale)) for ch, p, b in zip(text, char_p, boxes)]
    return PlateText(text, plate_confidence(char_p, seg_score), chars, probs, seg_score, pattern, [len(text)])


def _prepared(plate: GrayImage, region: str | None) -> tuple[np.ndarray, float, bool]:
    """The plate validated and scaled down (`_scaled_down`), and whether ``region`` is
    strict; a bad plate or region is a ``ValueError`` before any work."""
    a: np.ndarray = np.asarray(plate)
    if a.ndim not in (2, 3) or a.shape[0] < 4 or a.shape[1] < 4:
        raise ValueError(f"plate must be a 2-D or 3-D image of at least 4x4 pixels, got shape {a.shape}")
    strict = region is not None and load_region(region).strict
    a, scale = _scaled_down(a)
    return a, scale, strict


def _candidates(a: np.ndarray, classifier: ProbaClassifier, region: str | None, glyphs: GlyphModel | None,
                strict: bool) -> tuple[list[Candidate], BoxReadings] | None:
    """Stages 1-4 on a plate already scaled down: every reading weighed, with the
    classified boxes; None when nothing reads as a plate's text."""
    segs = _segmentations(a, glyphs)
    if not segs:
        return None
    readings = _classify_boxes(classifier, a, segs)
    cands, frames, pictures = _all_readings(segs, readings, region, strict)
    if not cands:
        return None
    return _penalise_missing(cands, readings, frames, pictures), readings


def plate_readings(plate: GrayImage, classifier: ProbaClassifier, region: str | None = None,
                   glyphs: GlyphModel | None = None) -> list[tuple[str, list[Box]]]:
    """Every reading `recognize_plate` weighs for a plate, before one is chosen: its text
    (look-alikes not yet settled by the layouts) and its glyph boxes in the coordinates
    of the plate passed in, in the order the hypotheses are made.

    For studies and for labelling real plates (``anpr train-glyphs --scenes``): the
    reading that spells a plate's label gives that plate's glyph boxes.

    Examples
    --------
    >>> plate_readings(np.full((40, 120), 255, np.uint8), lambda crops: None)
    []
    """
    a, scale, strict = _prepared(plate, region)
    found = _candidates(a, classifier, region, glyphs, strict)
    if found is None:
        return []
    return [(c.decoded.text, [_unscaled(c.segmentation.boxes[k], scale) for k in c.decoded.keep]) for c in found[0]]

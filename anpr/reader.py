"""Read the number plates in a photo: the whole pipeline behind one class.

``PlateReader.read`` chains the stages::

    images.load_image -> localize.propose (up to MAX_SCORED candidates)
      -> verify.Verifier keeps the RANK_TOP most plate-like (learned: a small CNN)
      -> localize.score_candidates orders them (cheap score: a row of glyphs)
      -> best few -> localize.rectify (full resolution, upright)
      -> recognize.recognize_plate (segment, CNN, decode)
      -> report: overlap removal, the verifier's and the reading's thresholds
         (the verifier also judges each reading's own outline)
      -> nothing sure to report: the same once more at `FALLBACK_WIDTH` (close-ups)

Reading (segmentation and CNN) is the expensive step, so it only reads the
`MAX_READS` candidates that the cheap score puts first and that score at least
`READ_RATIO` of the best, and up to `VERIFIER_READS` more that the verifier finds
most plate-like; it skips those lying on a plate already read confidently, and
stops early once it holds a confident reading and the remaining candidates look much
worse. A weak reading gets a second chance from the same plate proposed as another
rectangle (`VARIANT_BELOW`). A confidently read plate of at most `WIDE_MAX_LEN`
characters is read a second time with wider margins, which wins when it finds more
characters (an end glyph the first crop cut off), and a third time wider still when
that crop's edge cuts through a glyph (`WIDER_PAD_X`, `EDGE_INK`). Of overlapping
readings the most confident whole one is kept (`LENGTH_PRIOR`: a piece of a plate
reads as confidently as the plate).

What is reported is decided by learned figures: a plate needs the verifier's plate
probability and the reading's confidence to pass the thresholds stored beside the
verifier (``models/verifier.json``), which ``anpr train-verifier`` chose by the best
detection F-beta (`anpr.train.verifier.BETA`: precision first) on the validation share
of its fit photos. The reading thresholds above were set by hand on the development
scenes (``../shared/data/scenes``) with `anpr.benchmark`.

Examples
--------
>>> from anpr.reader import PlateReader
>>> reader = PlateReader()                                  # doctest: +SKIP
>>> [(p.text, p.box) for p in reader.read("car.jpg")]      # doctest: +SKIP
[('7ABC123', (412, 310, 121, 62))]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .geometry import overlaps_smaller
from .protocols import Box, GlyphModel, GrayImage, ImageSource, PlateVerifier, Point, ProbaClassifier, WholePlateReader

if TYPE_CHECKING:
    from .calibrate import Calibration
    from .platemap import PlateMap

MIN_CONFIDENCE = 0.5
"""Without a verifier (``verifier=False``): readings below this confidence are not
reported as plates..."""

MIN_BEST = 0.15
"""... except the best reading of a photo, kept down to this confidence."""

MAX_READS = 4
"""Most candidates the cheap score chooses for reading per photo..."""

VERIFIER_READS = 2
"""... and how many more the candidates the verifier finds most plate-like may fill
(lying apart from those chosen; also the places the cheap score left empty): a small
plate whose glyph row the cheap score misses (a state emblem between the groups, a
dark plate) is still read."""

FALLBACK_WIDTH = 200
"""When nothing a photo's readings give would be reported, or only a plate the
verifier doubts (under its ``report_min``, let through as the photo's best reading),
its plates are looked for once more at this working width (`anpr.localize.propose`)
and the best of those read, apart from the plates reported: a close-up plate's
glyphs are too tall for the kernels at the usual widths (over about 60 px in a
640 px photo). Only then, since a plate found at the usual widths is found better
there, and every extra candidate is one more chance of a false plate (proposing at
200 px too on every photo found more plates and more false ones than it gained)."""

FALLBACK_READS = (2, 1)
"""Candidates the fallback pass reads, by cheap score and more by the verifier (see
`_pick`): on the fit photos of ``detect/openimages`` 2 + 1 found as many plates as
the first pass's 4 + 2 (1 + 1 one plate fewer), in about 14% less time."""

VARIANT_BELOW = 0.7
"""A candidate read with less confidence than this (or not at all) gets one more
reading, of the best overlapping candidate that `_pick` skipped as its duplicate..."""

VARIANT_RATIO = 0.5
"""... provided that candidate's cheap score is at least this fraction of its own."""

RANK_TOP = 15
"""Candidates (of up to `anpr.localize.MAX_SCORED` proposals) that the verifier keeps
for the cheap score to order: the cheap score also finds each one's row of glyphs,
which reading starts from, and costs as much as proposing."""

MIN_CHEAP = 0.05
"""Candidates whose cheap score is below this are never read."""

READ_RATIO = 0.4
"""Candidates whose cheap score is under this fraction of the photo's best are never
read: on the development scenes such a candidate never held a plate the better ones
missed, and each reading costs 10-20 ms."""

EARLY_EXIT = 0.8
"""Once a reading this confident is held, candidates scoring under `EARLY_RATIO`
times the best cheap score are skipped, unless the verifier finds them more
plate-like than the candidate of that reading..."""

EARLY_PLATE_P = 0.6
"""... provided the verifier finds the candidate read at least this plate-like:
lettering on a van reads as confidently as a plate."""

EARLY_RATIO = 0.7

OVERLAP = 0.5
"""Readings whose plate boxes share more than this fraction of the smaller box are
one plate."""

PAD_X, PAD_Y = 0.2, 0.25
"""Margin added around a candidate before reading, as fractions of its height: a row
of glyphs grows into the plate, short of its frame."""

OUTLINE_SCALE = (1.2, 1.2)
"""Width and height of a reported plate's outline as multiples of its characters'
outline with the reading margins (`PAD_X`, `PAD_Y`): a labelled plate box holds the
whole plate, its frame and the lines above and below the glyphs. Chosen on the fit
photos of ``scenes`` and ``detect/openimages``: the scale that most often makes a
reading lying on a labelled plate overlap its box with IoU > 0.4 (71.0% unscaled,
73.7% at this scale; 1.1-1.3 are within 0.3 points)."""

READ_MIN_ASPECT = 2.0
"""A candidate narrower than this (width / height, with the reading margins) is read
stretched to it (`anpr.localize.rectify`): no plate is seen that narrow unless the
photo was resized unevenly (phone exports stretched to a square squeeze a 2:1 plate
to 1:1) or the candidate is the plate's upper or lower part, and squeezed glyphs read
as others. Chosen on the fit photos of scenes and ``detect/*``: see
``docs/experiments.md`` (2026-12-05)."""

WIDE_PAD_X = 0.7
"""Side margin of the second, wider reading of a plate read confidently."""

WIDER_PAD_X = 1.0
"""Side margin of a third reading, made when the wider crop cuts through a glyph-like
stroke at either edge (`EDGE_INK`): the plate's end glyph lies beyond a crest, a dash
or a gap the candidate stopped at."""

EDGE_INK = 0.5
"""Contrast at a crop's side edge, as a fraction of the glyphs' (see
`anpr.plate_ends.ink_at_edges`), above which a glyph is taken to be cut there."""

WIDE_MIN = 0.5
"""Readings at least this confident get the second, wider reading..."""

WIDE_RATIO = 0.8
"""... which replaces the first when it has more characters and at least this
fraction of its rank (confidence times `LENGTH_PRIOR`)."""

WIDE_MAX_LEN = 6
"""Readings longer than this are not read again wider: on the development scenes a
wider reading never corrected a reading of 7 or more characters (most plates have 7),
and it costs as much as the first."""


@dataclass
class Char:
    """One character read: the character, its probability, and its box
    ``(x, y, w, h)`` in input-image pixels."""

    char: str
    probability: float
    box: Box

    def to_dict(self) -> dict:
        return {"char": self.char, "probability": float(self.probability), "box": [int(v) for v in self.box]}


@dataclass
class Plate:
    """One plate read from a photo.

    Attributes
    ----------
    text : str
        Characters, no separators.
    confidence : float
        In ``[0, 1]``: for a reported plate, the probability that ``text`` is exactly
        the plate's (`anpr.calibrate`; O and 0 counted alike); for the readings a
        reader weighs before reporting (`PlateReader.readings`), the reading's score.
    box : (x, y, w, h)
        Axis-aligned box around the plate, integer input-image pixels.
    corners : list of 4 (x, y)
        The plate's corners (top-left, top-right, bottom-right, bottom-left as read)
        in input-image pixels; differs from ``box`` for tilted plates.
    chars : list of Char
    region : str or None
        The region whose formats guided the reading, if any.
    """

    text: str
    confidence: float
    box: Box
    corners: list[Point]
    chars: list[Char] = field(default_factory=list)
    region: str | None = None
    plate_p: float | None = None
    """The plate verifier's probability that the region read is a plate (None when
    no verifier judged it)."""
    score: float | None = None
    """The reading's own score (`anpr.recognize.PlateText.confidence`), which ranks the
    readings of a photo and meets the reader's thresholds; None until the plate is
    reported (``confidence`` is the score until then)."""

    @property
    def format(self) -> tuple[str, str] | None:
        """The region format the text fits, ``(region key, pattern)`` (`anpr.decode.format_of`):
        the given region's, or without one the region where that layout is most
        frequent; None when the text fits no region's format.

        >>> Plate("PJU2853", 0.9, (0, 0, 70, 20), []).format
        ('br', 'LLLNNNN')
        """
        from .decode import format_of

        return format_of(self.text, self.region)

    def to_dict(self) -> dict:
        """JSON-ready dict: text, confidence, box, corners, chars, region, format
        (``{"region", "pattern"}`` or None), plate_p and score.

        >>> Plate("AB12", 0.9, (1, 2, 30, 10), [(1, 2), (31, 2), (31, 12), (1, 12)]).to_dict()["box"]
        [1, 2, 30, 10]
        """
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "box": [int(v) for v in self.box],
            "corners": [[int(round(x)), int(round(y))] for x, y in self.corners],
            "chars": [c.to_dict() for c in self.chars],
            "region": self.region,
            "format": None if (fmt := self.format) is None else {"region": fmt[0], "pattern": fmt[1]},
            "plate_p": None if self.plate_p is None else round(float(self.plate_p), 4),
            "score": None if self.score is None else round(float(self.score), 4),
        }


def _load_verifier(verifier: str | Path | PlateVerifier | Literal[False] | None) -> PlateVerifier | None:
    from .verify import load_verifier

    if verifier is False:
        return None
    if verifier is None or isinstance(verifier, (str, Path)):
        return load_verifier(verifier)
    if hasattr(verifier, "score") and hasattr(verifier, "info"):  # a Verifier, or one like it
        return verifier
    raise ValueError(f"verifier must be None, False, a path or a Verifier, got {type(verifier).__name__}")


def _load_optional(given: Any, name: str, kind: str, method: str, load: Callable[..., Any],
                   shipped: Callable[[], Path]) -> Any:
    """An optional side model from what the caller gave: False for none, None for the
    shipped one when it ships (``shipped()`` exists), a path to load, or a loaded model
    (anything with ``method``)."""
    if given is False:
        return None
    if given is None:
        return load() if shipped().is_file() else None
    if isinstance(given, (str, Path)):
        return load(given)
    if hasattr(given, method):  # the model class, or one like it
        return given
    raise ValueError(f"{name} must be None, False, a path or a {kind}, got {type(given).__name__}")


def _load_glyphs(glyphs: str | Path | GlyphModel | Literal[False] | None) -> GlyphModel | None:
    from .glyphs import default_glyphs_path, load_glyph_finder

    return _load_optional(glyphs, "glyphs", "GlyphFinder", "find", load_glyph_finder, default_glyphs_path)


def _load_ocr(ocr: str | Path | WholePlateReader | Literal[False] | None) -> WholePlateReader | None:
    from .plate_ocr import default_ocr_path, load_plate_ocr

    return _load_optional(ocr, "ocr", "PlateOCR", "log_probs", load_plate_ocr, default_ocr_path)


def _load_platemap(platemap: str | Path | PlateMap | Literal[False] | None) -> PlateMap | None:
    from .platemap import default_platemap_path, load_platemap

    return _load_optional(platemap, "platemap", "PlateMap", "propose", load_platemap, default_platemap_path)


def _load_calibration(calibration: str | Path | Calibration | Literal[False] | None) -> Calibration | None:
    from .calibrate import Calibration, load_calibration

    if calibration is False:
        return None
    if calibration is None or isinstance(calibration, (str, Path)):
        return load_calibration(calibration)
    if isinstance(calibration, Calibration):
        return calibration
    raise ValueError(f"calibration must be None, False, a path or a Calibration, got {type(calibration).__name__}")


def _load_classifier(model: str | Path | ProbaClassifier | None) -> ProbaClassifier:
    from .classify import CharClassifier

    if model is None or isinstance(model, (str, Path)):
        return CharClassifier(model)
    if hasattr(model, "predict_proba"):
        return model
    raise ValueError(f"model must be None, a path or a CharClassifier, got {type(model).__name__}")


class PlateReader:
    """Reads number plates from photos; loads the character model once.

    Parameters
    ----------
    model : None, str, Path or CharClassifier
        None for the shipped model, a path to an ONNX model, or a loaded classifier
        (anything with ``predict_proba(crops) -> (N, 36)``: `anpr.protocols.ProbaClassifier`).
    region : str or None
        Region key (``'us'``, ``'eu'``, ``'br'``, ``'ar'``) whose plate formats guide reading.
    min_confidence : float, optional
        Plates read with less confidence are dropped (default: the threshold chosen
        with the verifier, in its ``verifier.json``)...
    min_best : float, optional
        ... except the most confident reading of the photo, kept down to this
        (default: the verifier's choice; none when it made none).
    max_reads : int
        Most candidates per photo that the cheap score hands to the CNN; with a
        verifier, its most plate-like candidates fill the places left and
        `VERIFIER_READS` more.
    verifier : None, False, str, Path or anpr.verify.Verifier
        The learned plate verifier: None for the shipped one, a path to an ONNX
        verifier (its thresholds read from the JSON file beside it), a loaded
        `~anpr.verify.Verifier` (or any `~anpr.protocols.PlateVerifier`), or False for
        none: the cheap score alone then orders all candidates and `MIN_CONFIDENCE` and
        `MIN_BEST` decide what is reported.
    glyphs : None, False, str, Path or anpr.glyphs.GlyphFinder
        The learned glyph finder whose boxes are one more segmentation hypothesis:
        None for the shipped one (when it ships), a path to an ONNX model, a loaded
        `~anpr.glyphs.GlyphFinder` (or any `~anpr.protocols.GlyphModel`), or False for the
        connected-component segmenter alone.
    platemap : None, False, str, Path or anpr.platemap.PlateMap
        The learned plate map whose blobs are candidates beside the morphological
        proposer's: None for the shipped one (when it ships), a path to an ONNX model,
        a loaded `~anpr.platemap.PlateMap`, or False for the proposer alone.
    calibration : None, False, str, Path or anpr.calibrate.Calibration
        What turns a reported reading's score into its ``confidence``, the probability
        that its text is exactly right: None for the shipped one, a path to a
        ``calibration.json``, a loaded `~anpr.calibrate.Calibration`, or False to
        report the reading's score as its confidence.
    ocr : None, False, str, Path or anpr.plate_ocr.PlateOCR
        The whole-plate reader, whose readings are weighed beside the segmenter's
        (`anpr.read_whole`): None for
        the shipped one (when it ships), a path to an ONNX model, a loaded
        `~anpr.plate_ocr.PlateOCR`, or False to segment every plate.

    Notes
    -----
    A reader holds no state between photos: one reader may serve several threads at
    once (a gate controller answering cameras in parallel), with the shipped
    `~anpr.classify.CharClassifier` on either backend.
    """

    def __init__(
        self,
        model: str | Path | ProbaClassifier | None = None,
        region: str | None = None,
        *,
        min_confidence: float | None = None,
        max_reads: int = MAX_READS,
        min_best: float | None = None,
        verifier: str | Path | PlateVerifier | Literal[False] | None = None,
        glyphs: str | Path | GlyphModel | Literal[False] | None = None,
        platemap: str | Path | PlateMap | Literal[False] | None = None,
        calibration: str | Path | Calibration | Literal[False] | None = None,
        ocr: str | Path | WholePlateReader | Literal[False] | None = None,
    ):
        from .decode import load_region

        # Loading the region first fails early, naming an unknown one.
        self.strict = region is not None and load_region(region).strict
        for name, v in (("min_confidence", min_confidence), ("min_best", min_best)):
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if max_reads < 1:
            raise ValueError(f"max_reads must be >= 1, got {max_reads}")
        self.classifier = _load_classifier(model)
        self.verifier = _load_verifier(verifier)
        self.glyphs = _load_glyphs(glyphs)
        self.ocr = _load_ocr(ocr)
        self.platemap = _load_platemap(platemap)
        self.calibration = _load_calibration(calibration)
        # The shipped chooser is read here too: a broken chooser.json fails the reader's
        # construction, not its first read().
        from .choose import load_chooser

        self.chooser = load_chooser()
        if self.ocr is not None:  # and the choice beside the whole-plate reader
            from .read_whole import load_choice

            load_choice()
        self.region = region
        # The verifier's file says which thresholds were chosen with it.
        conf = (self.verifier.info if self.verifier is not None
                else {"min_confidence": MIN_CONFIDENCE, "min_best": MIN_BEST})
        if min_confidence is None:
            min_confidence = conf.get("min_confidence", MIN_CONFIDENCE)
        if min_best is None:
            min_best = conf.get("min_best")
        self.min_confidence = float(min_confidence)
        self.min_best = None if min_best is None else float(min_best)
        self._gate = None
        if self.verifier is not None:
            report_min = float(conf.get("report_min", 0.5))
            self._gate = (report_min, float(conf.get("best_report_min", report_min)))
        self.max_reads = int(max_reads)

    def __repr__(self) -> str:
        return f"PlateReader(region={self.region!r}, min_confidence={self.min_confidence})"

    # ------------------------------------------------------------------ public

    def read(self, image: ImageSource, *, debug: dict | None = None) -> list[Plate]:
        """Plates in a photo, most confident first.

        Parameters
        ----------
        image : str, Path, bytes or ndarray
            The photo (see `anpr.images.load_image`).
        debug : dict, optional
            Receives ``stage name -> BGR or gray image`` for each pipeline stage.

        Returns
        -------
        list of Plate
            Possibly empty. Boxes, corners and character boxes are in input pixels.
        """
        return self.report(self.readings(image, debug=debug))

    def report(self, readings: list[Plate]) -> list[Plate]:
        """The readings of one photo that `read` reports (`final_readings` with this
        reader's thresholds), each a new `Plate` whose ``confidence`` is calibrated
        (`calibrated`), most confident first: ``read(x) == report(readings(x))``."""
        kept = final_readings(readings, self.min_confidence, self.min_best, self._gate)
        return sorted((self.calibrated(p) for p in kept), key=lambda p: -p.confidence)

    def calibrated(self, plate: Plate) -> Plate:
        """A copy of a reading with its score kept as ``score`` and, as ``confidence``,
        the probability that its text is exactly right (`anpr.calibrate`); without a
        calibration (``calibration=False``) the score is the confidence."""
        from .calibrate import features

        score = plate.confidence if plate.score is None else plate.score
        if self.calibration is None:
            return replace(plate, confidence=score, score=score)
        x = features(plate.text, score, plate.plate_p, [c.probability for c in plate.chars], self.region)
        return replace(plate, confidence=self.calibration.probability(x), score=score)

    def readings(self, image: ImageSource, *, debug: dict | None = None) -> list[Plate]:
        """Every reading `read` weighs, before any is kept or dropped: overlapping
        ones, weak ones and pieces of plates included (for choosing thresholds). Their
        ``confidence`` is the reading's score; `report` calibrates the ones it keeps."""
        from . import localize as L
        from .images import load_image

        img = load_image(image)
        gray = L.to_gray(img)
        cands = self.rank_candidates(gray)
        chosen = _pick(cands, self.max_reads, VERIFIER_READS)
        if debug is not None:
            debug["1-gray"] = gray
            debug["2-candidates"] = _draw_candidates(img, cands, chosen)
        reads = self._read_chosen(gray, cands, chosen, debug)
        reported = final_readings(reads, self.min_confidence, self.min_best, self._gate)
        sure = [p for p in reported if self._gate is None or (p.plate_p or 0.0) >= self._gate[0]]
        if not sure and gray.shape[1] >= 1.15 * FALLBACK_WIDTH:
            close = self.rank_candidates(gray, widths=[FALLBACK_WIDTH])
            picked = _pick(close, *FALLBACK_READS)
            if debug is not None:
                debug["2f-candidates"] = _draw_candidates(img, close, picked)
            # A plate reported already is not read again as a close-up.
            reads += [m for m in self._read_chosen(gray, close, picked, debug, "f")
                      if not any(_overlap(m.box, p.box) for p in reported)]
        return reads

    def _read_chosen(self, gray: np.ndarray, cands: list, chosen: list, debug: dict | None,
                     tag: str = "") -> list[Plate]:
        """Read the ``chosen`` of the ranked ``cands`` (`_pick`), with their variants,
        and set each reading's plate probability; ``tag`` prefixes the debug images."""
        reads: list[Plate] = []
        best_cheap = chosen[0].score if chosen else 0.0
        held, held_p = 0.0, 0.0
        for k, cand in enumerate(chosen):
            if held >= EARLY_EXIT and cand.score < EARLY_RATIO * best_cheap and (cand.plate_p or 0.0) <= held_p:
                continue  # a confident reading is held; this one looks worse by both scores
            if any(p.confidence >= EARLY_EXIT and _overlap(cand.box, p.box) for p in reads):
                continue  # a piece or a variant of a plate already read confidently
            plate = self._read_candidate(gray, cand, debug, f"{tag}{k}")
            if plate is not None:
                reads.append(plate)
                if _holding(plate, cand) > held:
                    held, held_p = plate.confidence, cand.plate_p or 0.0
            if plate is None or plate.confidence < VARIANT_BELOW:
                # The same plate proposed as another rectangle (with its frame, or as
                # the glyph row alone) often reads better than a weak first reading.
                alt = _variant(cands, chosen, cand)
                if alt is not None:
                    other = self._read_candidate(gray, alt, debug, f"{tag}{k}v")
                    if other is not None:
                        reads.append(other)
                        if _holding(other, alt) > held:
                            held, held_p = other.confidence, alt.plate_p or 0.0
        if self.verifier is not None and reads:
            # A reading is judged by the surest of the verifier's verdicts on the place
            # read: the candidates lying there (a glyph row or a loose box may give the
            # better reading while the plate's own outline looks more a plate) and the
            # outline it would be reported with, which no proposal may match (a plate
            # proposed only as its glyph row, or as part of a larger box).
            outline_p = self.verifier.score(gray, [p.corners for p in reads])
            for p, q in zip(reads, outline_p):
                p.plate_p = max([c.plate_p for c in cands if _overlap(c.box, p.box)] + [float(q)])
        return reads

    def rank_candidates(self, gray: GrayImage, widths: list[int] | None = None) -> list:
        """Plate candidates of a gray photo, best cheap score first, each with its
        glyph ``row`` and (with a verifier) its ``plate_p``: the `RANK_TOP` the
        verifier finds most plate-like, or every proposal without one. ``widths``:
        the working widths to propose at (default `anpr.localize.default_widths`)."""
        from . import localize as L

        cands = L.propose(gray, widths=widths, max_candidates=L.MAX_SCORED)
        if self.platemap is not None and widths is None:
            cands += self.platemap.propose(gray)
        if self.verifier is not None and cands:
            p = self.verifier.score(gray, cands)
            keep = np.argsort(-p, kind="stable")[:RANK_TOP]
            cands = [cands[i] for i in keep]
            for c, i in zip(cands, keep):
                c.plate_p = float(p[i])
        return L.score_candidates(gray, cands)

    def read_crop(self, image: ImageSource) -> list[Plate]:
        """Read an image that is one tight plate crop; ``[]`` when nothing is read.

        The plate's box is the whole image; no confidence threshold is applied, since
        the caller says there is a plate.
        """
        from .images import load_image
        from .recognize import recognize_plate

        img = load_image(image)
        h, w = img.shape[:2]
        if h < 4 or w < 4:
            return []
        pt = recognize_plate(img, self.classifier, self.region, self.glyphs, self.chooser, ocr=self.ocr)
        if pt is None:
            return []
        chars = [Char(ch, p, (int(b[0]), int(b[1]), int(b[2]), int(b[3]))) for ch, p, b in pt.chars]
        corners = [(0, 0), (w, 0), (w, h), (0, h)]
        return [self.calibrated(Plate(pt.text, float(pt.confidence), (0, 0, w, h), corners, chars, self.region))]

    # ------------------------------------------------------------------ stages

    def _read_candidate(self, gray: np.ndarray, cand, debug: dict | None, k: int | str) -> Plate | None:
        from .decode import merge_o0

        head: dict = {}
        plate = self._read_quad(gray, cand, PAD_X, debug, k, head)
        # A strict region's formats are exhaustive: a reading that fits none of them
        # is as much a reason to look wider as a confident short one.
        wide_worthy = plate is not None and (plate.confidence >= WIDE_MIN or head.get("unmatched", False))
        if plate is not None and wide_worthy and len(plate.text) <= WIDE_MAX_LEN and WIDE_PAD_X > PAD_X:
            # A glyph at either end set apart from the rest (a bolt, a dash, a frame
            # touching it) is often left out of the row: read once more with wider
            # margins; that reading wins only when it finds more characters, nearly
            # as confidently (else the frame, now in view, is the likelier "more").
            first, info = plate, {}  # type: Plate, dict
            wide = self._read_quad(gray, cand, WIDE_PAD_X, debug, f"{k}w", info)
            if wide is not None and len(wide.text) > len(plate.text) and _rank(wide) >= WIDE_RATIO * _rank(plate):
                plate = wide
            if (
                len(plate.text) <= WIDE_MAX_LEN
                and max(info.get("edge_ink", (0.0, 0.0))) > EDGE_INK
                and WIDER_PAD_X > WIDE_PAD_X
            ):
                # Something like a glyph is cut by the wider crop's edge: a plate whose
                # end glyph lies past a crest or a dash. Read wider still; that
                # reading must hold the first one whole (no frame edge read instead).
                wider = self._read_quad(gray, cand, WIDER_PAD_X, debug, f"{k}ww")
                if (
                    wider is not None
                    and len(wider.text) > len(plate.text)
                    and merge_o0(first.text) in merge_o0(wider.text)
                    and _rank(wider) >= WIDE_RATIO * _rank(first)
                ):
                    plate = wider
        return plate

    def _read_quad(
        self, gray: np.ndarray, cand, pad_x: float, debug: dict | None, k, info: dict | None = None
    ) -> Plate | None:
        """Read one candidate with side margins ``pad_x`` (of its height); ``info``, when
        given, receives ``"edge_ink"``: `anpr.plate_ends.ink_at_edges` of the crop read."""
        from . import geometry as G
        from . import localize as L
        from .plate_ends import ink_at_edges
        from .recognize import recognize_plate

        quad = cand.row if cand.row is not None else cand.corners
        w, h = G.quad_size(quad)
        quad = G.expand_corners(quad, pad_x * h / max(w, 1.0), PAD_Y)
        try:
            plate_img, to_image = L.rectify(gray, quad, min_aspect=READ_MIN_ASPECT)
        except ValueError:
            return None
        if plate_img.shape[1] < 8:
            return None
        pt = recognize_plate(plate_img, self.classifier, self.region, self.glyphs, self.chooser, ocr=self.ocr)
        if debug is not None:
            debug[f"3-plate-{k}"] = plate_img
        if pt is None:
            return None
        if info is not None:
            info["edge_ink"] = ink_at_edges(plate_img, [b for _, _, b in pt.chars])
            info["unmatched"] = self.strict and pt.pattern is None
        chars = []
        for ch, p, (x, y, w, h) in pt.chars:
            pts = G.map_points(to_image, [[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
            chars.append(Char(ch, float(p), G.bounding_box(pts, gray.shape)))
        if debug is not None:
            debug[f"4-chars-{k}"] = _draw_chars(plate_img, pt)
        # The plate's outline is drawn around the characters read (with the reading
        # margins, grown to a whole plate's size: `OUTLINE_SCALE`), not around the
        # candidate: it is then the same whatever proposed it.
        xs = [b[0] for _, _, b in pt.chars] + [b[0] + b[2] for _, _, b in pt.chars]
        ys = [b[1] for _, _, b in pt.chars] + [b[1] + b[3] for _, _, b in pt.chars]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)  # type: float, float, float, float
        text_h = y1 - y0
        x0, x1 = x0 - PAD_X * text_h, x1 + PAD_X * text_h
        y0, y1 = y0 - PAD_Y * text_h, y1 + PAD_Y * text_h
        gx, gy = (OUTLINE_SCALE[0] - 1) / 2 * (x1 - x0), (OUTLINE_SCALE[1] - 1) / 2 * (y1 - y0)
        x0, x1, y0, y1 = x0 - gx, x1 + gx, y0 - gy, y1 + gy
        outline = G.map_points(to_image, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        box = G.bounding_box(outline, gray.shape)
        corners = [(float(x), float(y)) for x, y in outline]
        return Plate(pt.text, float(pt.confidence), box, corners, chars, self.region)


# ---------------------------------------------------------------------- helpers


def _pick(cands: list, n: int, n_verified: int = 0) -> list:
    """The best ``n`` candidates by cheap score, skipping ones overlapping a better one,
    then more by the verifier's ``plate_p``, each lying apart from all chosen before
    it, up to ``n + n_verified`` in all."""
    from .geometry import iou

    out: list = []
    for c in cands:  # already best first
        if c.score < MIN_CHEAP or len(out) >= n or (out and c.score < READ_RATIO * out[0].score):
            break
        if all(iou(c.box, o.box) <= 0.5 for o in out):
            out.append(c)
    limit = n + n_verified
    for c in sorted((c for c in cands if c.plate_p is not None), key=lambda c: -c.plate_p):
        if len(out) >= limit:
            break
        if all(iou(c.box, o.box) <= 0.5 for o in out):
            out.append(c)
    return out


def _holding(plate: Plate, cand) -> float:
    """How far a reading counts towards the early exit: its confidence, when its
    candidate is plate-like enough to the verifier (or no verifier judged it)."""
    if cand.plate_p is not None and cand.plate_p < EARLY_PLATE_P:
        return 0.0
    return plate.confidence


def _variant(cands: list, chosen: list, cand):
    """The best candidate that `_pick` left out as a duplicate of ``cand``, if any."""
    from .geometry import iou

    for c in cands:  # best first
        if c.score < max(MIN_CHEAP, VARIANT_RATIO * cand.score):
            return None
        if all(c is not o for o in chosen) and iou(c.box, cand.box) > 0.5:
            return c
    return None


LENGTH_PRIOR = {4: 0.75, 5: 0.85}
"""Weight of a reading by its length when overlapping readings compete: a piece of a
plate (the digits after a dash or an emblem) reads as confidently as the whole."""


def _rank(p: Plate) -> float:
    return p.confidence * LENGTH_PRIOR.get(len(p.text), 1.0)


def _overlap(a: tuple, b: tuple) -> bool:
    """Same plate: boxes overlap by more than `OVERLAP` of the smaller one."""
    return overlaps_smaller(a, b, OVERLAP)


def final_readings(reads: list[Plate], min_confidence: float, min_best: float | None = None,
                   gate: tuple | None = None) -> list[Plate]:
    """Confident readings, best first, one per plate.

    Every plate needs ``min_confidence``, except the photo's best reading, which is
    kept down to ``min_best``: a photo given to a plate reader usually shows one, and
    small or blurred plates read with middling confidence. With ``gate``, a pair
    ``(report_min, best_report_min)``, a plate also needs the verifier's plate
    probability to reach ``report_min``, the best reading only ``best_report_min``;
    a reading under both removes no reading it overlaps.
    """
    floor = min(min_confidence, min_best) if min_best is not None else min_confidence
    reads = sorted((p for p in reads if p.confidence >= floor), key=lambda p: -_rank(p))
    # A reading the verifier rules out at any rank (the state name above the serial)
    # hides no plate reading it lies on, however confidently it reads.
    lowest = min(gate) if gate is not None else None

    def hides(q: Plate) -> bool:
        return lowest is None or (q.plate_p is not None and q.plate_p >= lowest)

    out: list[Plate] = []
    for p in reads:
        if all(not _overlap(p.box, q.box) and p.text != q.text for q in out if hides(q)):
            out.append(p)
    out.sort(key=lambda p: -p.confidence)
    keep = []
    for k, p in enumerate(out):
        if k and p.confidence < min_confidence:
            continue
        if gate is not None and (p.plate_p is None or p.plate_p < (gate[1] if k == 0 else gate[0])):
            continue
        keep.append(p)
    return keep


def _draw_candidates(img: np.ndarray, cands: list, chosen: list) -> np.ndarray:
    import cv2

    out = img.copy()
    t = max(1, round(max(img.shape[:2]) / 800))
    for c in cands:
        cv2.polylines(out, [np.round(c.corners).astype(np.int32)], True, (128, 128, 128), 1)
    for k, c in enumerate(chosen):
        cv2.polylines(out, [np.round(c.corners).astype(np.int32)], True, (0, 255, 255), t + 1)
        x, y = np.round(c.corners[0]).astype(int)
        cv2.putText(out, f"{k}:{c.score:.2f}", (int(x), int(y) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t,
                    (0, 255, 255), t)
    return out


def _draw_chars(plate_img: np.ndarray, pt) -> np.ndarray:
    import cv2

    out = cv2.cvtColor(plate_img, cv2.COLOR_GRAY2BGR) if plate_img.ndim == 2 else plate_img.copy()
    for ch, _p, (x, y, w, h) in pt.chars:
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 255, 0), 1)
        cv2.putText(out, ch, (x, max(8, y - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 255), 1)
    return out

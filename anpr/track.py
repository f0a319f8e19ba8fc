"""Plates over time: group the readings of successive frames into one event per vehicle.

A camera sees the same car for dozens of frames, each read a little differently.
`PlateTracker` joins a frame's readings to the open tracks (the box follows the track's
last box, or the text is within a character or two of the track's), closes a track
when it has not been seen for ``gap_s`` seconds, and reports each closed track as one
`PlateEvent` whose text is voted character by character over its readings, weighted
by their confidence.

The tracker holds no model: feed it readings with `PlateTracker.observe` (from any
reader), or frames with `PlateTracker.update` and it reads them with its `PlateReader`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .decode import edit_distance
from .geometry import iou

GAP_S = 1.5
"""Seconds a track may go unseen before it closes (``--gap``)."""

MIN_FRAMES = 2
"""Readings a track needs to become an event: a plate glimpsed once is more often a
misread sign than a car."""

MIN_CONFIDENCE = 0.5
"""The voted confidence an event needs (see `vote`)."""

MAX_EDITS = 2
"""A reading joins a track whose text is at most this many edits away ..."""

FOLLOW_IOU = 0.3
"""... or whose last box it overlaps by this IoU, unless the texts share less than half
their characters (two cars at the same spot one after the other)."""


@dataclass
class Reading:
    """One plate read in one frame."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]
    time_s: float
    frame: int


@dataclass
class PlateEvent:
    """One vehicle: the voted reading of a closed track.

    Attributes
    ----------
    text : str
        Voted text.
    confidence : float
        Mean confidence of the readings that agree with ``text`` times the mean share of
        the vote each voted character won.
    first_time_s, last_time_s : float
        Times of the track's first and last reading, seconds from the start.
    frames : int
        Readings in the track.
    best_frame : int
        Frame index of the surest reading of ``text`` (or of any, if none agrees).
    box : (x, y, w, h)
        The plate's box in ``best_frame``.
    candidates : dict
        The other texts read in the track and their votes (summed confidence).
    source : str
        Where the frames came from.
    image : ndarray or None
        ``best_frame`` itself, when the tracker keeps frames (for snapshots); not in
        the JSON.
    """

    text: str
    confidence: float
    first_time_s: float
    last_time_s: float
    frames: int
    best_frame: int
    box: tuple[int, int, int, int]
    candidates: dict[str, float] = field(default_factory=dict)
    source: str = ""
    image: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The event as JSON-ready values (``image`` left out)."""
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "first_time_s": round(float(self.first_time_s), 3),
            "last_time_s": round(float(self.last_time_s), 3),
            "frames": int(self.frames),
            "best_frame": int(self.best_frame),
            "box": [int(v) for v in self.box],
            "candidates": {k: round(float(v), 4) for k, v in self.candidates.items()},
            "source": self.source,
        }


def vote(readings: Sequence[Reading]) -> tuple[str, float, dict[str, float]]:
    """``(text, confidence, candidates)`` voted over ``readings``.

    The length with the most summed confidence wins; among the readings of that length
    each position takes the character with the most summed confidence. ``candidates``
    maps every other text read to its summed confidence.

    >>> rs = [Reading(t, c, (0, 0, 1, 1), 0.0, 0) for t, c in
    ...       [("7ABC123", 0.9), ("7A8C123", 0.6), ("7ABC123", 0.8), ("ABC123", 0.5)]]
    >>> text, conf, cands = vote(rs)
    >>> text, round(conf, 3), cands
    ('7ABC123', 0.818, {'7A8C123': 0.6, 'ABC123': 0.5})
    """
    if not readings:
        raise ValueError("no readings to vote on")
    by_len: dict[int, float] = defaultdict(float)
    for r in readings:
        by_len[len(r.text)] += r.confidence
    n = max(by_len, key=lambda k: (by_len[k], k))
    same = [r for r in readings if len(r.text) == n]
    chars, shares = [], []
    for k in range(n):
        w: dict[str, float] = defaultdict(float)
        for r in same:
            w[r.text[k]] += r.confidence
        best = max(w, key=lambda c: (w[c], c))
        chars.append(best)
        total = sum(w.values())
        shares.append(w[best] / total if total > 0 else 0.0)
    text = "".join(chars)
    agree = [r.confidence for r in readings if r.text == text] or [r.confidence for r in same]
    confidence = float(np.mean(agree) * (np.mean(shares) if shares else 0.0))
    cands: dict[str, float] = defaultdict(float)
    for r in readings:
        if r.text != text:
            cands[r.text] += r.confidence
    return text, confidence, {k: round(v, 4) for k, v in sorted(cands.items(), key=lambda kv: -kv[1])}


class _Track:
    KEEP_IMAGES = 6  # frames kept per track, for the texts with the most votes

    def __init__(self, first: Reading, image: Any):
        self.readings: list[Reading] = []
        self.best: dict[str, Reading] = {}
        self.images: dict[str, Any] = {}
        self.votes: dict[str, float] = defaultdict(float)
        self.add(first, image)

    @property
    def last(self) -> Reading:
        return self.readings[-1]

    def add(self, r: Reading, image: Any) -> None:
        self.readings.append(r)
        self.votes[r.text] += r.confidence
        held = self.best.get(r.text)
        if held is None or r.confidence > held.confidence:
            self.best[r.text] = r
            if image is not None:
                self.images[r.text] = image
                if len(self.images) > self.KEEP_IMAGES:
                    del self.images[min(self.images, key=lambda t: self.votes[t])]


def _joins(r: Reading, track: _Track) -> float | None:
    """How well ``r`` continues ``track`` (higher is better), None when it does not."""
    last = track.last
    d = min(edit_distance(r.text, t.text) for t in track.readings[-5:])
    overlap = iou(tuple(r.box), tuple(last.box))
    if d <= MAX_EDITS:
        return 2.0 - d / 10 + overlap
    if overlap >= FOLLOW_IOU and d <= max(len(r.text), len(last.text)) / 2:
        return overlap
    return None


class PlateTracker:
    """Group plate readings over time into one `PlateEvent` per vehicle.

    Parameters
    ----------
    reader : PlateReader, optional
        Reads the frames given to `update` (the shipped one when None; not loaded
        until `update` is first called). Not needed for `observe`.
    gap_s : float
        A track closes after this many seconds unseen.
    min_frames : int
        Readings a track needs to become an event.
    min_confidence : float
        The voted confidence an event needs.
    keep_frames : bool
        Keep each track's best frame for `PlateEvent.image` (snapshots).
    source : str
        Written into each event.

    Examples
    --------
    >>> t = PlateTracker(gap_s=1.0)
    >>> for k in range(4):
    ...     _ = t.observe([("7ABC123" if k != 2 else "7A8C123", 0.9, (10 + k, 10, 50, 20))], k * 0.2, k)
    >>> t.observe([], 2.0, 10)[0].text
    '7ABC123'
    """

    def __init__(
        self,
        reader: Any = None,
        *,
        gap_s: float = GAP_S,
        min_frames: int = MIN_FRAMES,
        min_confidence: float = MIN_CONFIDENCE,
        keep_frames: bool = False,
        source: str = "",
    ):
        if gap_s <= 0:
            raise ValueError(f"gap_s must be > 0, got {gap_s}")
        if min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {min_frames}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        self.reader = reader
        self.gap_s = gap_s
        self.min_frames = min_frames
        self.min_confidence = min_confidence
        self.keep_frames = keep_frames
        self.source = source
        self._open: list[_Track] = []
        self._frame = 0
        self.last_plates: list = []
        """The plates read in the latest frame given to `update` (for drawing)."""

    @property
    def open_tracks(self) -> int:
        return len(self._open)

    def update(self, frame: np.ndarray, time_s: float, frame_index: int | None = None) -> list[PlateEvent]:
        """Read ``frame`` (BGR) taken at ``time_s`` and return the events that closed."""
        if self.reader is None:
            from .reader import PlateReader

            self.reader = PlateReader()
        plates = self.reader.read(frame)
        self.last_plates = plates
        return self.observe(plates, time_s, frame_index, frame if self.keep_frames else None)

    def observe(
        self, plates: Sequence[Any], time_s: float, frame_index: int | None = None, image: Any = None
    ) -> list[PlateEvent]:
        """Add one frame's readings and return the events that closed.

        ``plates`` holds `~anpr.reader.Plate` objects, dicts with ``text``,
        ``confidence`` and ``box``, or ``(text, confidence, box)`` tuples.
        """
        frame = self._frame if frame_index is None else int(frame_index)
        self._frame = frame + 1
        closed = self._close(lambda tr: time_s - tr.last.time_s > self.gap_s)
        readings = [_reading(p, time_s, frame) for p in plates]
        readings = [r for r in readings if r.text]
        # Best pairs first, each track and each reading used once.
        pairs = []
        for i, r in enumerate(readings):
            for j, tr in enumerate(self._open):
                s = _joins(r, tr)
                if s is not None:
                    pairs.append((s, i, j))
        used_r, used_t = set(), set()
        for _s, i, j in sorted(pairs, reverse=True):
            if i in used_r or j in used_t:
                continue
            used_r.add(i)
            used_t.add(j)
            self._open[j].add(readings[i], image)
        placed = [readings[i] for i in used_r]
        for i, r in enumerate(readings):
            if i in used_r:
                continue
            # A second, partial reading of a plate already read in this frame (the
            # reader may report "855AP" beside "RK855AP") is no second vehicle.
            if any(iou(tuple(r.box), tuple(q.box)) >= FOLLOW_IOU for q in placed):
                continue
            self._open.append(_Track(r, image))
            placed.append(r)
        return closed

    def close(self) -> list[PlateEvent]:
        """Close every open track (the source ended) and return their events."""
        return self._close(lambda tr: True)

    def _close(self, done) -> list[PlateEvent]:
        events: list = []
        still: list = []
        for tr in self._open:
            (events if done(tr) else still).append(tr)
        self._open = still
        everyone = events + still
        out = [e for e in (self._event(tr) for tr in events if not _part_of_another(tr, everyone)) if e is not None]
        return sorted(out, key=lambda e: e.first_time_s)

    def _event(self, tr: _Track) -> PlateEvent | None:
        if len(tr.readings) < self.min_frames:
            return None
        text, confidence, cands = vote(tr.readings)
        if confidence < self.min_confidence:
            return None
        best = tr.best.get(text) or max(tr.readings, key=lambda r: r.confidence)
        image = tr.images.get(best.text)
        return PlateEvent(
            text=text,
            confidence=confidence,
            first_time_s=tr.readings[0].time_s,
            last_time_s=tr.last.time_s,
            frames=len(tr.readings),
            best_frame=best.frame,
            box=_int_box(best.box),
            candidates=cands,
            source=self.source,
            image=image,
        )


def _part_of_another(tr: _Track, tracks: list[_Track]) -> bool:
    """Whether ``tr`` is a piece of a longer-seen vehicle: when the reader cuts one plate
    in two for a few frames ("RK85" + "855AP"), the pieces start tracks of their own,
    in the same place and time as the whole plate's, with texts inside its text."""
    text = max(tr.votes, key=lambda t: tr.votes[t])
    x0 = min(r.box[0] for r in tr.readings)
    x1 = max(r.box[0] + r.box[2] for r in tr.readings)
    for other in tracks:
        if other is tr or len(other.readings) <= len(tr.readings):
            continue
        if other.readings[0].time_s > tr.last.time_s or other.last.time_s < tr.readings[0].time_s:
            continue
        ox0 = min(r.box[0] for r in other.readings)
        ox1 = max(r.box[0] + r.box[2] for r in other.readings)
        if min(x1, ox1) - max(x0, ox0) < 0.5 * (x1 - x0):
            continue
        whole = max(other.votes, key=lambda t: other.votes[t])
        if text in whole or edit_distance(text, whole) <= MAX_EDITS:
            return True
    return False


def _reading(p: Any, time_s: float, frame: int) -> Reading:
    if isinstance(p, tuple):
        text, conf, box = p
    elif isinstance(p, dict):
        text, conf, box = p["text"], p["confidence"], p["box"]
    else:
        text, conf, box = p.text, p.confidence, p.box
    return Reading(str(text), float(conf), _int_box(box), float(time_s), int(frame))


def _int_box(box: Any) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return int(x), int(y), int(w), int(h)

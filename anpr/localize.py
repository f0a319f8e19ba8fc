"""Find number-plate candidates in a vehicle photo, and cut them out upright.

A plate is a row of high-contrast glyphs of one height on a flat panel. The proposer
looks for exactly that with morphology, which is cheap and needs no training:

1. on a gray copy at one or two widths (`default_widths`: plates span 4-60 % of a
   photo's width), CLAHE evens out the lighting;
2. a black-hat (dark glyphs on a light plate) and a top-hat (light glyphs on a dark
   plate, or a whole light plate) keep only strokes thinner than the kernel;
3. the hat image is thresholded at a few levels, a horizontal closing joins the
   glyphs of a row into a blob, and each blob's minimum-area rectangle that could be
   a plate (size, aspect, tilt up to `MAX_TILT`) is a candidate;
4. pieces of one text line (split by a dash, a crest, a wide gap) are joined
   (`merge_neighbours`).

Many candidates are not plates (lettering, grilles, lights, road texture).
`cheap_score` warps each into a small upright patch and looks for a row of glyph-like
blobs of one height on one straight line; the row it finds (``Candidate.row``) also
fixes the residual tilt and the ends of the plate's text. The reader spends the CNN
only on the best few, and `rectify` warps the chosen quadrilateral from the
full-resolution photo into an upright plate image.

Examples
--------
>>> import numpy as np, cv2
>>> from anpr.geometry import bounding_box
>>> img = np.full((240, 320), 90, np.uint8)
>>> _ = cv2.rectangle(img, (100, 100), (220, 130), 235, -1)       # a light plate
>>> _ = cv2.putText(img, "AB123", (106, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2)
>>> best = find_candidates(img)[0]
>>> x, y, w, h = bounding_box(best.row)
>>> 100 <= x + w / 2 <= 220 and 100 <= y + h / 2 <= 130
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .geometry import box_iou_matrix, expand_corners, map_points, quad_size
from .images import to_gray  # noqa: F401 - the proposer's and rectifier's input; imported from here too
from .numeric import fit_line, median

PLATE_ASPECT = (1.3, 9.0)
"""Width / height of what may be a plate (tilted, two-row and long EU plates included)."""

MAX_TILT = 40.0
"""Largest tilt, in degrees, of a plate's text line that is proposed."""

MIN_PLATE_W = 24
"""Narrowest plate, in input pixels, that is worth reading."""


@dataclass
class Candidate:
    """A possible plate: a rotated rectangle in input-image pixels.

    ``corners`` are 4 points (top-left, top-right, bottom-right, bottom-left) of the
    plate as seen upright; ``box`` is their axis-aligned bounding box ``(x, y, w, h)``.
    ``polarity`` is ``"dark"`` for dark glyphs on a light plate, ``"light"`` otherwise.
    ``score`` is the cheap plate-likeness used to decide which candidates to read.
    """

    corners: np.ndarray
    box: tuple
    polarity: str
    score: float = 0.0
    scale: float = 1.0
    features: dict = field(default_factory=dict)
    row: np.ndarray | None = None
    """Corners of the row of glyphs found inside, once scored (input pixels)."""
    plate_p: float | None = None
    """The plate verifier's probability (`anpr.verify`), once verified."""

    @property
    def size(self) -> tuple[float, float]:
        """Upright ``(width, height)`` of the candidate's rectangle."""
        # Cached: the proposer's sort and the cheap score ask for it again and again.
        # Keyed on the corners object, so assigning new corners recomputes it (changing
        # the array in place does not).
        cached = self.__dict__.get("_size")
        if cached is None or cached[0] is not self.corners:
            cached = self.__dict__["_size"] = (self.corners, quad_size(self.corners))
        return cached[1]

    @property
    def angle(self) -> float:
        """Tilt of the top edge in degrees (positive: clockwise in image coordinates)."""
        d = self.corners[1] - self.corners[0]
        return float(np.degrees(np.arctan2(d[1], d[0])))


# ----------------------------------------------------------------------------- geometry


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order the 4 corners of a rectangle as top-left, top-right, bottom-right,
    bottom-left of an upright reading: the top edge is a long side, pointing right.

    >>> order_corners(np.array([[10, 0], [0, 0], [0, 5], [10, 5]], float)).tolist()
    [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]]
    """
    # Called for every blob of every photo: index tables instead of np.roll.
    p = np.asarray(pts, np.float32).reshape(4, 2)
    d = p - p.mean(axis=0)
    p = p[np.argsort(np.arctan2(d[:, 1], d[:, 0]))]  # clockwise (y down)
    e = p[_NEXT] - p  # edge k runs from corner k to k+1
    length = np.hypot(e[:, 0], e[:, 1])
    longest = length >= length.max() * 0.999
    # Among the long edges, the one pointing most to the right is the top.
    k = int(np.argmax(np.where(longest, e[:, 0] / np.maximum(length, 1e-9), -np.inf)))
    return p[_FROM[k]]


_NEXT = np.array([1, 2, 3, 0])
_FROM = np.array([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]])
"""``_FROM[k]``: the 4 corners in order starting at corner ``k``."""


def _clockwise(p: np.ndarray) -> np.ndarray:
    """``(n, 4, 2)`` float32 corners sorted clockwise (y down) around their centre."""
    d = p - p.mean(axis=1, keepdims=True)
    idx = np.argsort(np.arctan2(d[..., 1], d[..., 0]), axis=1)
    return np.take_along_axis(p, idx[..., None], axis=1)


def order_corners_many(pts: np.ndarray) -> np.ndarray:
    """`order_corners` of ``(n, 4, 2)`` rectangles at once (the proposer makes ~100 a
    photo; one call each is mostly NumPy overhead). Same float32 operations, same result.

    >>> r = np.array([[[10, 0], [0, 0], [0, 5], [10, 5]], [[0, 0], [3, 9], [0, 10], [-3, 1]]], np.float32)
    >>> all(np.array_equal(o, order_corners(q)) for o, q in zip(order_corners_many(r), r))
    True
    """
    p = _clockwise(np.asarray(pts, np.float32).reshape(-1, 4, 2))
    e = p[:, _NEXT] - p
    length = np.hypot(e[..., 0], e[..., 1])
    longest = length >= length.max(axis=1, keepdims=True) * 0.999
    k = np.argmax(np.where(longest, e[..., 0] / np.maximum(length, 1e-9), -np.inf), axis=1)
    return np.take_along_axis(p, _FROM[k][..., None], axis=1)


def _upright_corners_many(pts: np.ndarray) -> np.ndarray:
    """Corners of ``(n, 4, 2)`` near-square boxes, each one's top edge the one closest
    to horizontal (pieces of a plate: no long side to go by)."""
    p = _clockwise(np.asarray(pts, np.float32).reshape(-1, 4, 2))
    e = p[:, _NEXT] - p
    k = np.argmax(e[..., 0] / np.maximum(np.hypot(e[..., 0], e[..., 1]), 1e-9), axis=1)
    return np.take_along_axis(p, _FROM[k][..., None], axis=1)


def _tilt_ok(c: np.ndarray) -> np.ndarray:
    """Which ``(n, 4, 2)`` ordered quadrilaterals have a top edge within `MAX_TILT`."""
    d = c[:, 1] - c[:, 0]
    return ~(np.abs(np.degrees(np.arctan2(d[:, 1], d[:, 0]))) > MAX_TILT)


def bounding_boxes_many(c: np.ndarray, shape: tuple) -> list[tuple[int, int, int, int]]:
    """`bounding_box` of each of ``(n, 4, 2)`` quadrilaterals, clipped to ``shape``
    (min, max, floor and ceil are exact, so the boxes are the same)."""
    c = np.asarray(c, np.float64)
    lo = np.maximum(np.floor(c.min(axis=1)), 0.0)
    hi = np.minimum(np.ceil(c.max(axis=1)), [float(shape[1]), float(shape[0])])
    size = np.maximum(hi - lo, 0.0)
    return [(int(x0), int(y0), int(w), int(h)) for (x0, y0), (w, h) in zip(lo.tolist(), size.tolist())]


def plate_like(w: float, h: float, image_w: int, image_h: int) -> bool:
    """Whether a ``w`` x ``h`` rectangle (upright size, input pixels) could be a plate."""
    if h <= 0 or w < MIN_PLATE_W or h < 7:
        return False
    aspect = w / h
    if not PLATE_ASPECT[0] <= aspect <= PLATE_ASPECT[1]:
        return False
    return w <= 0.8 * image_w and h <= 0.5 * image_h


# ----------------------------------------------------------------------------- proposal


def default_widths(image_w: int) -> list[int]:
    """Working widths for an image ``image_w`` pixels wide.

    The kernels suit glyphs about 6-30 px tall. At 800 px a plate 4.5 % of the
    photo's width (the smallest in the development scenes) is 36 px wide with glyphs
    about 10 px tall, still found; 400 px serves plates up to half the photo. Only
    finding happens at these widths: plates are read from the full-resolution photo.

    >>> default_widths(1920), default_widths(640), default_widths(300)
    ([400, 800], [400, 640], [300])
    """
    if image_w <= 0:
        raise ValueError(f"image width must be positive, got {image_w}")
    widths = sorted(_OPTS["widths"])
    out = [w for w in widths if w * 1.15 <= image_w]
    # The finest width is capped by the photo itself; keep it unless it is close
    # to a width already used.
    top = min(image_w, widths[-1])
    if not out or top > out[-1] * 1.3:
        out.append(top)
    return out


def _blobs(resp: np.ndarray, close_w: int, close_h: int, factors: Sequence[float]) -> list:
    """Rotated rectangles (cv2 box tuples) of glyph rows in a stroke-response image."""
    import cv2

    t, _ = cv2.threshold(resp, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ck = cv2.getStructuringElement(cv2.MORPH_RECT, (close_w, close_h))
    ok = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    rects = []
    # Closing and opening (max and min filters) commute with a threshold, so the gray
    # response is closed and opened once for all levels: the same masks as thresholding
    # first and closing and opening each.
    resp = cv2.morphologyEx(cv2.morphologyEx(resp, cv2.MORPH_CLOSE, ck), cv2.MORPH_OPEN, ok)
    # Several thresholds: one global level either swallows a faint plate in texture or
    # drops it; every level that isolates it yields the same box, removed by dedupe.
    area, min_rect, fill = cv2.contourArea, cv2.minAreaRect, _OPTS["fill"]  # ~800 contours a photo
    for f in factors:
        _, bw = cv2.threshold(resp, max(12.0, f * t), 255, cv2.THRESH_BINARY)
        contours, _ = cv2.findContours(bw, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            a = area(c)
            if a < 30:
                continue
            r = min_rect(c)
            # A closed row of glyphs fills most of its rectangle; texture does not.
            if a >= fill * r[1][0] * r[1][1]:
                rects.append(r)
    return rects


_DEDUPE = 0.7

_OPTS: dict[str, Any] = {
    "widths": (400, 800),  # working widths (see default_widths)
    "factors": (0.7, 1.4, 2.5),  # hat thresholds, as multiples of its Otsu level
    "cw": 9, "ch": 3,  # closing that joins the glyphs of a row (working pixels)
    "fill": 0.45,  # least area / rectangle area of a blob
    "h_lo": 8, "h_hi": 40,  # blob heights each working width is responsible for
    "side": 0.5,  # cheap score looks this many heights beyond each end
    "side_far": 2.0,  # ... and this far when the glyph row reaches an end
    "adaptive": True, "block": 15, "C": 8,  # glyph binarization in the cheap score
    "edge_pen": 0.5,  # score factor for text touching the top/bottom of the frame
}
"""Tuning of the proposer and the cheap score, measured on the development scenes
(candidate recall and rank of the labelled plate, all three countries at once)."""


def propose(
    image: np.ndarray,
    *,
    widths: Sequence[int] | None = None,
    polarities: Sequence[str] = ("dark", "light"),
    max_candidates: int = 400,
) -> list[Candidate]:
    """Plate candidates in a photo, in input-image pixels, unordered.

    Parameters
    ----------
    image : ndarray
        Gray ``(H, W)`` or BGR ``(H, W, 3)`` uint8 photo.
    widths : sequence of int, optional
        Widths to work at (default `default_widths`).
    polarities : sequence of {"dark", "light"}
        Glyph polarities to look for.
    max_candidates : int
        Keep at most this many (largest first) after merging duplicates.

    Returns
    -------
    list of Candidate
        ``score`` is 0; see `cheap_score`.
    """
    import cv2

    gray = to_gray(image)
    H, W = gray.shape
    if H < 8 or W < 8:
        return []
    for p in polarities:
        if p not in ("dark", "light"):
            raise ValueError(f"polarity must be 'dark' or 'light', got {p!r}")
    widths = list(widths) if widths is not None else default_widths(W)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    out: list[Candidate] = []
    pieces: list[Candidate] = []
    widths = sorted(widths)
    for wi, width in enumerate(widths):
        s = width / W
        # Each working width handles the blob heights its kernels suit; the others are
        # found (better) at a neighbouring width. Smallest width: no upper bound;
        # largest: no lower bound beyond the plate minimum.
        h_lo = _OPTS["h_lo"] if wi < len(widths) - 1 else 0.0
        h_hi = _OPTS["h_hi"] if wi > 0 else np.inf
        g = gray if abs(s - 1) < 1e-3 else cv2.resize(gray, (width, max(8, round(H * s))), interpolation=cv2.INTER_AREA)
        g = clahe.apply(g)
        kern = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 7))
        for pol in polarities:
            op = cv2.MORPH_BLACKHAT if pol == "dark" else cv2.MORPH_TOPHAT
            hat = cv2.morphologyEx(g, op, kern)
            wholes, parts = [], []
            for rect in _blobs(hat, _OPTS["cw"], _OPTS["ch"], _OPTS["factors"]):
                (rw, rh) = rect[1]
                if not h_lo <= min(rw, rh) <= h_hi:
                    continue
                long_, short = max(rw, rh) / s, min(rw, rh) / s
                if plate_like(long_, short, W, H):
                    wholes.append(cv2.boxPoints(rect))
                # Short blobs (two glyphs and a crest: "RK", "GWT") are kept aside as
                # pieces that merge_neighbours may join to the rest of their plate.
                elif 7 <= short and 0.6 * short <= long_ <= PLATE_ASPECT[0] * short:
                    parts.append(cv2.boxPoints(rect))
            # The corner maths of all blobs at once: per blob it is NumPy overhead.
            for boxes, arrange, dest in ((wholes, order_corners_many, out), (parts, _upright_corners_many, pieces)):
                if not boxes:
                    continue
                c = arrange(np.stack(boxes) / s)
                c = c[_tilt_ok(c)]
                dest += [Candidate(q, b, pol, scale=s) for q, b in zip(c, bounding_boxes_many(c, (H, W)))]
    out = dedupe(out)
    out = dedupe(out + merge_neighbours(out + dedupe(pieces), W, H))
    out.sort(key=lambda c: -(c.size[0] * c.size[1]))  # the value np.prod gives, cheaper
    return out[:max_candidates]


def merge_neighbours(cands: list[Candidate], image_w: int, image_h: int, passes: int = 2) -> list[Candidate]:
    """Candidates made of two neighbours on one text line.

    Emblems, dashes and wide gaps (``RK [crest] 291-AT``, ``GWT-2180``) split a plate
    into pieces; two pieces of equal height, tilt and baseline, a short gap apart,
    are joined. Two passes join three pieces.
    """
    import cv2

    if len(cands) < 2:
        return []
    made: list[Candidate] = []
    pool = list(cands)
    for _ in range(passes):
        c = np.array([k.corners for k in pool], np.float64)  # (n, 4, 2)
        ctr = c.mean(axis=1)
        u = (c[:, 1] - c[:, 0]) + (c[:, 2] - c[:, 3])
        w = np.linalg.norm(u, axis=1) / 2
        u /= np.maximum(2 * w, 1e-9)[:, None]
        h = (np.linalg.norm(c[:, 3] - c[:, 0], axis=1) + np.linalg.norm(c[:, 2] - c[:, 1], axis=1)) / 2
        d = ctr[None, :, :] - ctr[:, None, :]  # d[i, j] = centre j - centre i
        along = np.einsum("ijk,ik->ij", d, u)
        hm = (h[:, None] + h[None, :]) / 2
        gap = along - (w[:, None] + w[None, :]) / 2
        # Few pairs are in line and close: the other tests run on those only, element by
        # element the same operations as on the whole matrix.
        i, j = np.nonzero((along > 0) & (gap <= 1.5 * hm))
        hi, hj, hm, gap = h[i], h[j], hm[i, j], gap[i, j]
        across = np.abs(d[i, j, 0] * -u[i, 1] + d[i, j, 1] * u[i, 0])
        ok = (
            (np.maximum(hi, hj) <= 1.4 * np.minimum(hi, hj))
            & (np.abs(u @ u.T)[i, j] >= np.cos(np.radians(8)))
            & (across <= 0.35 * hm)
            & (gap >= -0.3 * hm)
        )
        pairs = list(zip(i[ok], j[ok]))
        if not pairs:
            break
        pts = np.stack([cv2.boxPoints(cv2.minAreaRect(np.vstack([c[i], c[j]]).astype(np.float32))) for i, j in pairs])
        corners = order_corners_many(pts)
        keep = [k for k, q in enumerate(corners) if plate_like(*quad_size(q), image_w, image_h)]
        new = []
        for k, box in zip(keep, bounding_boxes_many(corners[keep], (image_h, image_w))):
            first = pool[pairs[k][0]]
            new.append(Candidate(corners[k], box, first.polarity, scale=first.scale))
        if not new:
            break
        made += new
        pool = cands + new
    return made


def dedupe(cands: list[Candidate], thr: float = _DEDUPE) -> list[Candidate]:
    """Drop candidates whose box overlaps an earlier one by more than ``thr`` (IoU)."""
    if not cands:
        return []
    boxes = np.array([c.box for c in cands], np.float64)
    over = box_iou_matrix(boxes, boxes) > thr
    keep = np.ones(len(cands), bool)
    for i in range(len(cands)):
        if keep[i]:
            keep[i + 1 :] &= ~over[i, i + 1 :]
    return [c for c, k in zip(cands, keep) if k]


# ----------------------------------------------------------------------------- rectification


def rectify(
    image: np.ndarray,
    corners: np.ndarray,
    *,
    out_h: int | None = None,
    min_h: int = 40,
    max_h: int = 120,
    min_aspect: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral ``corners`` of ``image`` into an upright plate image.

    Parameters
    ----------
    image : ndarray
        Gray or BGR photo (full resolution: the crop keeps all its detail).
    corners : ndarray
        ``(4, 2)`` top-left, top-right, bottom-right, bottom-left, in image pixels.
    out_h : int, optional
        Height of the result; by default the quadrilateral's own height clamped to
        ``[min_h, max_h]`` (small plates are enlarged so strokes survive thresholding).
    min_aspect : float
        A quadrilateral narrower than this (width / height) is stretched to it.

    Returns
    -------
    plate : ndarray
        The upright plate, width kept in proportion.
    to_image : ndarray
        ``(3, 3)`` homography from plate pixels to image pixels (see `map_points`).

    Examples
    --------
    >>> img = np.zeros((100, 200), np.uint8)
    >>> plate, M = rectify(img, np.array([[50, 40], [150, 40], [150, 60], [50, 60]], float))
    >>> plate.shape
    (40, 200)
    >>> map_points(M, [[0, 0], [200, 40]]).round().tolist()
    [[50.0, 40.0], [150.0, 60.0]]
    >>> rectify(img, np.array([[50, 40], [90, 40], [90, 80], [50, 80]], float), min_aspect=2.0)[0].shape
    (40, 80)
    """
    import cv2

    c = np.asarray(corners, np.float32).reshape(4, 2)
    w = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2
    h = (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2
    if w < 1 or h < 1:
        raise ValueError(f"corners span {w:.1f} x {h:.1f} pixels; need at least 1 x 1")
    if out_h is None:
        out_h = int(round(min(max(h, min_h), max_h)))
    out_w = max(4, int(round(out_h * max(w / h, min_aspect))))
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    to_plate = cv2.getPerspectiveTransform(c, dst)
    interp = cv2.INTER_AREA if out_h < h * 0.8 else cv2.INTER_CUBIC
    plate = cv2.warpPerspective(image, to_plate, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return plate, np.linalg.inv(to_plate)


# ----------------------------------------------------------------------------- cheap score


SCORE_H = 32
"""Height of the small upright patch the cheap score looks at."""


def glyph_stats(patch: np.ndarray, polarity: str) -> dict:
    """Row-of-glyphs statistics of a small upright gray patch (see `cheap_score`)."""
    import cv2

    return _glyph_stats(patch, _binarize(patch, polarity), cv2.mean(patch)[0])


def _binarize(patch: np.ndarray, polarity: str) -> np.ndarray:
    """Glyph pixels (255) of ``polarity`` in a small gray patch."""
    import cv2

    flags = cv2.THRESH_BINARY_INV if polarity == "dark" else cv2.THRESH_BINARY
    if _OPTS["adaptive"]:
        # Local threshold: a global one joins dark glyphs to a dark car body around
        # the plate through its frame.
        return cv2.adaptiveThreshold(patch, 255, cv2.ADAPTIVE_THRESH_MEAN_C, flags, _OPTS["block"], _OPTS["C"])
    return cv2.threshold(patch, 0, 255, flags | cv2.THRESH_OTSU)[1]


def _glyph_stats(patch: np.ndarray, bw: np.ndarray, m_all: float) -> dict:
    """`glyph_stats` of a patch's glyph mask ``bw``; ``m_all`` is the patch's mean."""
    import cv2

    H, W = patch.shape
    # 16-bit labels (a patch has < 2**16 pixels) make the labelling ~40 % faster;
    # only the stats are used.
    n, _, st, _ = cv2.connectedComponentsWithStats(bw, connectivity=8, ltype=cv2.CV_16U)
    st = st[1:]
    nfg = cv2.countNonZero(bw)
    if 0 < nfg < bw.size:
        m_fg = cv2.mean(patch, mask=bw)[0]
        m_bg = (m_all * bw.size - m_fg * nfg) / (bw.size - nfg)
        contrast = abs(m_fg - m_bg) / 255.0
    else:
        contrast = 0.0
    if len(st) == 0:
        return {"n": 0, "contrast": contrast, "hstd": 1.0, "ystd": 1.0, "hfrac": 0.0, "cover": 0.0}
    heights = st[:, 3]
    tall = ((heights >= 0.3 * H) & (heights <= 0.92 * H)).nonzero()[0]
    # The few blobs of a glyph's height as plain ints: per blob, Python's float maths is
    # NumPy's (same IEEE operations, exact int-float comparisons) at a fraction of the
    # overhead on such tiny arrays. Solid bars are allowed only when thin (the I and 1
    # of some fonts).
    blobs = [(x, y, w, h, a) for x, y, w, h, a in st[tall].tolist()
             if w <= 1.2 * h and w >= 0.08 * h and a >= 0.12 * w * h and (a <= 0.9 * w * h or w <= 0.35 * h)]
    if len(blobs) >= 2:
        # Keep the largest group of similar heights: a plate's glyphs share one size.
        hm = median([b[3] for b in blobs])
        blobs = [b for b in blobs if abs(b[3] - hm) <= 0.25 * hm]
    k = len(blobs)
    if k == 0:
        return {"n": 0, "contrast": contrast, "hstd": 1.0, "ystd": 1.0, "hfrac": 0.0, "cover": 0.0}
    x, y, w, h = (np.array(v, np.float64) for v in list(zip(*blobs))[:4])
    # Sums of whole (and half) pixel counts are exact in float64, so these means are
    # those of np.mean, without its overhead.
    hm = float(h.sum()) / k
    xc, yc = x + w / 2, y + h / 2
    # The glyph row as a parallelogram along the fitted centre line: it fixes the
    # residual tilt of the candidate's rectangle and drops its frame and margins.
    slope, icpt = fit_line(xc, yc) if k >= 3 and xc.max() > xc.min() else (0.0, float(yc.sum()) / k)
    slope = min(max(float(slope), -0.3), 0.3)
    half = float(h.max()) / 2
    x0, x1 = float(x.min()), float((x + w).max())
    row = np.array([[x0, slope * x0 + icpt - half], [x1, slope * x1 + icpt - half],
                    [x1, slope * x1 + icpt + half], [x0, slope * x0 + icpt + half]])
    return {
        "row": row,
        "n": k,
        "contrast": contrast,
        "hstd": _std(h) / hm,
        "ystd": _std(yc) / hm if k > 1 else 1.0,
        "hfrac": hm / H,
        "cover": float(x1 - x0) / W,
    }


def _std(v: np.ndarray) -> float:
    """``np.std`` of a 1-D float64 array: the same operations in the same order
    (mean, squared deviations, their sum), without its overhead.

    >>> v = np.array([3.0, 1.5, 2.25, 7.0])
    >>> _std(v) == float(np.std(v))
    True
    """
    d = v - v.sum() / len(v)
    return math.sqrt(float(np.square(d).sum()) / len(v))


def cheap_score(gray: np.ndarray, cand: Candidate) -> float:
    """How plate-like a candidate looks, in ``[0, 1]``, without the CNN.

    Warps the candidate (with a margin) into a patch `SCORE_H` pixels high and counts
    glyph-like blobs of one height on one line: 4-9 of them spanning most of the width
    is a plate; a grille, a light or a shadow edge is not.
    """

    best, M = _score_patch(gray, cand, _OPTS["side"])
    row = best.get("row")
    if row is not None and best["n"] >= 3:
        # The row reaches an end of the patch: the plate's text may go on (a glyph
        # set apart by a crest or a dash); look further once, keep it if it finds more.
        gap = 0.3 * (row[3, 1] - row[0, 1])
        if row[0, 0] <= gap or row[1, 0] >= best["patch_w"] - gap:
            far, M2 = _score_patch(gray, cand, _OPTS["side_far"])
            if far["n"] > best["n"] and far["score"] >= 0.8 * best["score"]:
                best, M = far, M2
    cand.features = best
    cand.polarity = best["polarity"]
    if best.get("row") is not None and best["n"] >= 2:
        cand.row = map_points(np.linalg.inv(M), best["row"]).astype(np.float32)
    return best["score"]


def _score_patch(gray: np.ndarray, cand: Candidate, side_h: float) -> tuple[dict, np.ndarray]:
    """Glyph-row statistics of the candidate seen ``side_h`` heights beyond each end."""
    import cv2

    w, h = cand.size
    side = side_h * h / max(w, 1.0)
    c = expand_corners(cand.corners, side, 0.2)
    out_w = int(min(16 * SCORE_H, max(8, round(SCORE_H * w * (1 + 2 * side) / max(h * 1.4, 1)))))
    dst = np.array([[0, 0], [out_w, 0], [out_w, SCORE_H], [0, SCORE_H]], np.float32)
    M = cv2.getPerspectiveTransform(c.astype(np.float32), dst)
    patch = cv2.warpPerspective(gray, M, (out_w, SCORE_H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    # Both polarities: a whole light plate is proposed by the top-hat, yet its glyphs
    # are dark.
    best: dict = {}
    m_all = cv2.mean(patch)[0]
    bw = _binarize(patch, "dark")
    for pol in ("dark", "light"):
        # The light mask is the dark one inverted: both compare each pixel with the same
        # local (or Otsu) level, one with > and the other with <=.
        g = _glyph_stats(patch, bw if pol == "dark" else cv2.bitwise_not(bw), m_all)
        g["cover"] = min(1.0, g["cover"] * (1 + 2 * side))  # as a fraction of the blob
        f = _stats_score(g)
        if not best or f["score"] > best["score"]:
            best = dict(f, polarity=pol, patch_w=out_w)
        if best["score"] >= 0.5:
            break  # dark glyphs found: most plates; light ones are looked for otherwise
    return best, M


def _stats_score(f: dict) -> dict:
    n = f["n"]
    if n < 3:
        return dict(f, score=0.05 * n)
    count = {3: 0.5, 4: 0.7, 5: 0.85}.get(n, 1.0 if n <= 9 else 0.4)
    line = float(np.exp(-3 * f["ystd"]) * np.exp(-3 * f["hstd"]))
    fill = min(1.0, f["cover"] / 0.6)
    size = 1.0 if 0.35 <= f["hfrac"] <= 0.85 else 0.6
    return dict(f, score=float(count * line * fill * size * min(1.0, f["contrast"] / 0.25)))


MAX_SCORED = 60
"""Most candidates (the largest) that `find_candidates` scores. Scoring costs about
as much as proposing; busy photos yield 100+ candidates, and on the development
scenes the plate read was always among the 60 largest (fewer small texture blobs to
outscore it also read one more US plate)."""


def find_candidates(
    image: np.ndarray,
    *,
    widths: Sequence[int] | None = None,
    top: int | None = None,
    max_scored: int | None = MAX_SCORED,
) -> list[Candidate]:
    """`propose` then `cheap_score`: candidates best first.

    Parameters
    ----------
    image : ndarray
        Gray or BGR uint8 photo.
    widths : sequence of int, optional
        Passed to `propose`.
    top : int, optional
        Return only the best ``top``.
    max_scored : int or None
        Score only this many proposals, the largest (None: all, up to `propose`'s
        own limit).
    """
    if max_scored is not None and max_scored < 1:
        raise ValueError(f"max_scored must be >= 1 or None, got {max_scored}")
    gray = to_gray(image)
    cands = (propose(gray, widths=widths) if max_scored is None
             else propose(gray, widths=widths, max_candidates=max_scored))
    cands = score_candidates(gray, cands)
    return cands if top is None else cands[:top]


def score_candidates(gray: np.ndarray, cands: list[Candidate]) -> list[Candidate]:
    """Set each candidate's cheap score (`cheap_score`); return them best first.

    ``gray`` is the photo the candidates were proposed in (gray uint8). The sort is
    stable: ties keep the order given.
    """
    H = gray.shape[0]
    for c in cands:
        c.score = cheap_score(gray, c)
        x, y, w, h = c.box
        if _OPTS["edge_pen"] < 1 and (y <= 0.02 * H or y + h >= 0.98 * H):
            # Text touching the top or bottom of the frame is a camera's caption
            # (time stamps) far more often than a plate.
            c.score *= _OPTS["edge_pen"]
    return sorted(cands, key=lambda c: -c.score)

"""Turn per-character class probabilities into plate text.

Without a region the text is the per-character argmax. With a region, its plate
formats -- data in ``anpr/regions/<region>.json`` -- settle look-alike pairs
(O/0, I/1, B/8, S/5, Z/2, G/6, ...): every pattern is scored by the joint
probability of its best consistent reading, and a *strict* region (one whose
formats are exhaustive, like Brazil's) may also drop a few spurious characters
(a bolt, a logo) to fit a pattern. A non-strict region only overrides the
argmax when the pattern reading is nearly as likely.

Region file format::

    {"name": "Brazil",
     "classes": {"L": "ABC...Z", "N": "0123456789"},
     "patterns": ["LLLNNNN", "LLLNLNN"],
     "strict": true}

Each pattern character names a class; a character that is not a class name
stands for itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .normalize import CLASSES

REGIONS_DIR = Path(__file__).resolve().parent / "regions"

DROP_PROBABILITY = 0.02
"""Cost, as a probability factor, of dropping one segmented character to fit a pattern."""

MAX_DROPS = 2
"""Most characters a strict region may drop."""

LOOSE_RATIO = 0.01
"""A non-strict region's reading must be at least this fraction as likely as the argmax."""

_EPS = 1e-6


@dataclass(frozen=True)
class Region:
    """Plate formats of one region, loaded from ``regions/<key>.json``."""

    key: str
    name: str
    masks: tuple[np.ndarray, ...]  # per pattern: (len, 36) bool, allowed classes per position
    patterns: tuple[str, ...]
    strict: bool


@dataclass(frozen=True)
class Decoded:
    """A decoded plate text.

    Attributes
    ----------
    text : str
        The plate text.
    probs : ndarray
        ``(len(text),)`` probability of each chosen character.
    keep : tuple of int
        Indices of the input rows (characters) the text uses, in order.
    pattern : str or None
        The region pattern the text matches, if any.
    """

    text: str
    probs: np.ndarray
    keep: tuple[int, ...]
    pattern: str | None


def available_regions() -> list[str]:
    """Region keys that have a pattern file, e.g. ``['br', 'eu', 'us']``."""
    return sorted(p.stem for p in REGIONS_DIR.glob("*.json"))


@lru_cache(maxsize=None)
def load_region(key: str) -> Region:
    """Load and validate ``regions/<key>.json``.

    Examples
    --------
    >>> r = load_region("br")
    >>> r.strict, r.patterns
    (True, ('LLLNNNN', 'LLLNLNN'))
    """
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"region must be a short name like 'br', got {key!r}")
    path = REGIONS_DIR / f"{key.lower()}.json"
    if not path.is_file():
        raise ValueError(f"unknown region {key!r}; known regions: {', '.join(available_regions())}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read region file: {e}") from None
    classes = data.get("classes", {})
    patterns = data.get("patterns")
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ValueError(f"{path}: 'patterns' must be a non-empty list of strings")
    masks, seen = [], []
    for p in patterns:
        if p in seen:
            continue
        m = np.zeros((len(p), len(CLASSES)), bool)
        for j, sym in enumerate(p):
            allowed = classes.get(sym, sym)
            bad = set(allowed) - set(CLASSES)
            if bad:
                raise ValueError(f"{path}: pattern {p!r} allows unknown characters {sorted(bad)}")
            m[j, [CLASSES.index(c) for c in allowed]] = True
        masks.append(m)
        seen.append(p)
    return Region(key.lower(), str(data.get("name", key)), tuple(masks), tuple(seen), bool(data.get("strict", False)))


def _check(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(CLASSES):
        raise ValueError(f"probs must have shape (N, {len(CLASSES)}), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs contains NaN or infinity")
    return p


def decode_argmax(probs: np.ndarray) -> Decoded:
    """Most likely class of every character.

    Examples
    --------
    >>> p = np.full((2, 36), 0.01); p[0, CLASSES.index("A")] = 0.9; p[1, 7] = 0.8
    >>> decode_argmax(p).text
    'A7'
    """
    p = _check(probs)
    idx = p.argmax(axis=1)
    return Decoded("".join(CLASSES[i] for i in idx), p[np.arange(len(p)), idx], tuple(range(len(p))), None)


def _fit(logp: np.ndarray, mask: np.ndarray, max_drops: int) -> tuple[float, list[int], list[int]] | None:
    """Best alignment of ``n`` characters to one pattern, dropping up to ``max_drops``.

    Returns (log score, kept character indices, chosen class per kept character).
    """
    n, m = len(logp), len(mask)
    if m > n or n - m > max_drops:
        return None
    # Best class of each character at each pattern position.
    masked = np.where(mask[None, :, :], logp[:, None, :], -np.inf)  # (n, m, 36)
    best_cls = masked.argmax(axis=2)
    best = np.take_along_axis(masked, best_cls[:, :, None], axis=2)[:, :, 0]
    drop = np.log(DROP_PROBABILITY)
    # score[i, j]: first i characters matched to first j positions.
    score = np.full((n + 1, m + 1), -np.inf)
    score[0, 0] = 0.0
    for i in range(1, n + 1):
        score[i, 0] = score[i - 1, 0] + drop
        for j in range(1, min(i, m) + 1):
            score[i, j] = max(score[i - 1, j] + drop, score[i - 1, j - 1] + best[i - 1, j - 1])
    if not np.isfinite(score[n, m]):
        return None
    keep, cls = [], []
    i, j = n, m
    while i > 0:
        if j > 0 and np.isclose(score[i, j], score[i - 1, j - 1] + best[i - 1, j - 1]):
            keep.append(i - 1)
            cls.append(int(best_cls[i - 1, j - 1]))
            j -= 1
        i -= 1
    return float(score[n, m]), keep[::-1], cls[::-1]


def decode(probs: np.ndarray, region: str | None = None) -> Decoded:
    """Decode a plate from per-character class probabilities.

    Parameters
    ----------
    probs : ndarray
        ``(N, 36)`` probabilities in `anpr.normalize.CLASSES` order, one row per
        segmented character in reading order.
    region : str or None
        Region key with a pattern file (see `available_regions`); None for the
        plain argmax.

    Returns
    -------
    Decoded

    Examples
    --------
    >>> p = np.full((7, 36), 0.001)
    >>> for i, c in enumerate("ABC1234"): p[i, CLASSES.index(c)] = 0.9
    >>> p[1, CLASSES.index("8")] = 0.95               # a B that looks more like 8
    >>> decode(p).text, decode(p, "br").text
    ('A8C1234', 'ABC1234')
    """
    p = _check(probs)
    plain = decode_argmax(p)
    if region is None or len(p) == 0:
        return plain
    reg = load_region(region)
    logp = np.log(np.clip(p, _EPS, 1.0))
    drops = MAX_DROPS if reg.strict else 0
    best = None
    for pat, mask in zip(reg.patterns, reg.masks):
        fit = _fit(logp, mask, drops)
        if fit is not None and (best is None or fit[0] > best[0]):
            best = (fit[0], fit[1], fit[2], pat)
    if best is None:
        return plain
    score, keep, cls, pat = best
    if not reg.strict and score < float(np.log(np.clip(plain.probs, _EPS, 1)).sum()) + np.log(LOOSE_RATIO):
        return plain
    text = "".join(CLASSES[c] for c in cls)
    return Decoded(text, p[keep, cls], tuple(keep), pat)

"""Turn per-character class probabilities into plate text.

Without a region the text is the per-character argmax. With a region, its plate
formats -- data in ``anpr/regions/<region>.json`` -- settle look-alike pairs
(O/0, I/1, B/8, S/5, Z/2, G/6, ...): every pattern is scored by the joint
probability of its best consistent reading, and a *strict* region (one whose
formats are exhaustive, like Brazil's) may also drop a few spurious characters
(a bolt, a logo) to fit a pattern. A non-strict region only overrides the
argmax when the pattern reading is nearly as likely. Without a region,
`decode_formats` lets the formats of all regions settle only the digits read in
place of a look-alike letter (1/I, 8/B, ...), and only when the reading as is
fits no format at all; `settle_layout` then writes look-alike letters and digits
(O/0 above all, which most fonts draw alike) by the layouts real plates have
(counted from labelled data into ``anpr/layouts.json``) weighed against the
classifier's probabilities.

Region file format::

    {"name": "Brazil",
     "classes": {"L": "ABC...Z", "N": "0123456789"},
     "patterns": ["LLLNNNN", "LLLNLNN"],
     "strict": true}

Each pattern character names a class; a character that is not a class name
stands for itself.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache, lru_cache
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

LOOKALIKE_GROUPS = ("O0DQ", "I1", "B8", "S5", "Z2", "G6")
"""The glyphs the character classifier confuses, one group each: the one look-alike
table (`LOOKALIKE_LETTERS` is drawn from it; `anpr.recognize` counts a crop split
within a group as surely some glyph)."""

LOOKALIKE_LETTERS = {g[1]: g[0] for g in LOOKALIKE_GROUPS if len(g) == 2}
"""Letter that a digit read by the classifier may really be (`decode_formats`):
``{"1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}``. Only
this direction: letters like I and B are rare in the character data, so the
classifier's look-alike errors lean towards the digit (a plain bar reads about
``1: 0.72, I: 0.22`` whether it is an I or a 1 in a bar-shaped font)."""

LOOKALIKE_RATIO = 0.05
"""`decode_formats` considers the letter when its probability is at least this
fraction of the digit's..."""

BAR_RATIO = 0.15
"""... and this fraction for ``1``/``I``: a true ``1`` in a plain-bar font keeps ``I``
near a third of its probability, so the usual ratio would let the formats alone
decide every bar. An ``I`` on the development data never went under 0.13."""

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
    """Region keys that have a pattern file, e.g. ``['ar', 'br', 'eu', 'us']``."""
    return sorted(p.stem for p in REGIONS_DIR.glob("*.json"))


@cache
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


def merge_o0(text: str) -> str:
    """``text`` with every letter O written as the digit 0 (many plates and labels
    do not tell them apart).

    >>> merge_o0("rkO99an")
    'RK099AN'
    """
    return text.upper().replace("O", "0")


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


@cache
def _all_formats(region: str | None = None) -> tuple[tuple[str, np.ndarray], ...]:
    """Every pattern of one region (None: of every region file), once each."""
    out: dict[str, np.ndarray] = {}
    for key in available_regions() if region is None else [region]:
        reg = load_region(key)
        for pat, mask in zip(reg.patterns, reg.masks):
            out.setdefault(pat, mask)
    return tuple(out.items())


_OZ = np.array([CLASSES.index("O"), CLASSES.index("0")])


def decode_formats(probs: np.ndarray, groups: list[int] | None = None, region: str | None = None) -> Decoded:
    """Region-free decoding: the argmax, with digits read in place of a look-alike letter
    settled by the plate formats of all regions.

    A digit whose look-alike letter (`LOOKALIKE_LETTERS`) is a close enough second
    (`LOOKALIKE_RATIO`, `BAR_RATIO` for ``1``/``I``) may become that letter:

    * when the reading as is fits no known format (``O`` and ``0`` counted as one),
      the most probable reading that fits one wins;
    * with ``groups`` (one id per character: the runs of glyphs that the plate's
      spacing sets apart, see `anpr.recognize.spacing_groups`), a digit inside the
      text (not at either end, where bolts and frame edges read as ``1``) whose group
      holds letters only becomes a letter where the text then still fits a format
      (``NYI-3834``: both ``LLNNNNN`` and ``LLLNNNN`` are formats, the dash decides).

    Nothing else changes, so a plate in an unlisted format is read as before.
    ``region`` restricts the formats to that region's (for regions whose formats are
    not exhaustive, where `decode` would bend readings into them).

    Examples
    --------
    >>> p = np.full((7, 36), 0.001)
    >>> for i, c in enumerate("RK776AI"): p[i, CLASSES.index(c)] = 0.9
    >>> p[6, CLASSES.index("1")], p[6, CLASSES.index("I")] = 0.72, 0.22   # a bar
    >>> decode_argmax(p).text, decode_formats(p).text, decode_formats(p).pattern
    ('RK776A1', 'RK776AI', 'LLNNNLL')
    >>> p[6, CLASSES.index("I")] = 0.05             # a 1 with a flag stays a 1
    >>> decode_formats(p).text
    'RK776A1'
    >>> p = np.full((7, 36), 0.001)
    >>> for i, c in enumerate("NY13834"): p[i, CLASSES.index(c)] = 0.9
    >>> p[2, CLASSES.index("I")] = 0.25
    >>> decode_formats(p).text, decode_formats(p, [0, 0, 0, 1, 1, 1, 1]).text
    ('NY13834', 'NYI3834')
    """
    p = _check(probs)
    plain = decode_argmax(p)
    n = len(p)
    if groups is not None and len(groups) != n:
        raise ValueError(f"groups must give one id per character ({n}), got {len(groups)}")
    if n == 0:
        return plain
    top = p.argmax(axis=1)
    formats = [(pat, mask) for pat, mask in _all_formats(region) if len(pat) == n]
    if not formats:
        return plain
    letters = np.full(n, -1)
    for i, t in enumerate(top):
        letter = LOOKALIKE_LETTERS.get(CLASSES[t])
        if letter is not None:
            j = CLASSES.index(letter)
            if p[i, j] >= (BAR_RATIO if letter == "I" else LOOKALIKE_RATIO) * p[i, t]:
                letters[i] = j
    if not (letters >= 0).any():
        return plain
    if not _fits(top, formats, region):
        return _best_fit(p, top, letters, formats) or plain
    if groups is None:
        return plain
    cls = top.copy()
    for e in np.flatnonzero(letters[1:-1] >= 0) + 1:  # an end glyph may be a bolt or frame
        mates = [k for k in range(n) if groups[k] == groups[e] and k != e]
        if mates and all(CLASSES[cls[k]].isalpha() for k in mates):
            trial = cls.copy()
            trial[e] = letters[e]
            if _fits(trial, formats, region):
                cls = trial
    if (cls == top).all():
        return plain
    return Decoded("".join(CLASSES[c] for c in cls), p[np.arange(n), cls], tuple(range(n)), _fits(cls, formats, region))


def _fits(cls: np.ndarray, formats: list, region: str | None = None) -> str | None:
    """The first format that the classes fit (``O`` and ``0`` counted as one), or None."""
    if not formats:
        return None
    n = len(cls)
    stack = _stacked(n, region)  # (formats, n, 36), same order as `formats`
    ok = stack[:, np.arange(n), cls]
    oz = np.isin(cls, _OZ)
    if oz.any():
        ok[:, oz] |= stack[:, oz][:, :, _OZ].any(axis=2)
    hit = np.flatnonzero(ok.all(axis=1))
    return formats[hit[0]][0] if hit.size else None


@cache
def _stacked(n: int, region: str | None = None) -> np.ndarray:
    """Masks of the formats of length ``n`` as one array, in `_all_formats` order."""
    return np.stack([mask for pat, mask in _all_formats(region) if len(pat) == n])


def _best_fit(p: np.ndarray, top: np.ndarray, letters: np.ndarray, formats: list) -> Decoded | None:
    """Most probable reading that fits a format, changing only digits to their letters."""
    n = len(p)
    allowed = np.zeros((n, len(CLASSES)), bool)
    allowed[np.arange(n), top] = True
    allowed[np.ix_(np.isin(top, _OZ), _OZ)] = True
    swap = np.flatnonzero(letters >= 0)
    allowed[swap, letters[swap]] = True
    logp = np.log(np.clip(p, _EPS, 1.0))
    best = None
    for pat, mask in formats:
        ok = mask & allowed
        if not ok.any(axis=1).all():
            continue
        # The argmax where the format takes it (keeps O/0 as read), else the letter.
        cls = np.where(ok[np.arange(n), top], top, np.where(ok, logp, -np.inf).argmax(axis=1))
        score = float(logp[np.arange(n), cls].sum())
        if best is None or score > best[0]:
            best = (score, cls, pat)
    if best is None:
        return None
    _, cls, pat = best
    return Decoded("".join(CLASSES[c] for c in cls), p[np.arange(n), cls], tuple(range(n)), pat)


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


def layout_of(text: str) -> str:
    """``L`` for each letter, ``N`` for each digit.

    >>> layout_of("ABC1234")
    'LLLNNNN'
    """
    return "".join("N" if c.isdigit() else "L" for c in text)


LAYOUTS_FILE = Path(__file__).resolve().parent / "layouts.json"


@cache
def _layout_counts() -> dict[str, tuple[dict[str, int], int]]:
    """Per region: the layout counts and their total."""
    try:
        counts = json.loads(LAYOUTS_FILE.read_text(encoding="utf-8"))["counts"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r: (c, sum(c.values())) for r, c in counts.items() if c}


@lru_cache(maxsize=4096)
def layout_frequency(layout: str, region: str | None = None) -> float:
    """How often ``layout`` occurs among the labelled plates of ``region`` (averaged over
    the regions when None), each count plus one, so that a layout never seen is rare
    rather than impossible.

    >>> layout_frequency("LLLNNNN", "br") > 0.9 > 0.01 > layout_frequency("NLLNNNN", "br")
    True
    """
    counts = _layout_counts()
    tables = [counts[region]] if region in counts else list(counts.values())
    if not tables:
        return 0.0
    return float(np.mean([(t.get(layout, 0) + 1) / (total + 1) for t, total in tables]))


@cache
def _kind_model() -> tuple[float, dict[int, float]]:
    """The letter/digit run model of the labelled layouts, regions weighed alike: the
    chance that a character is of the other kind than the one before it, and the share
    of each text length."""
    counts = _layout_counts()
    switch, lengths = [], {}  # type: list[float], dict[int, float]
    for table, total in counts.values():
        steps = sum(n * (len(lay) - 1) for lay, n in table.items())
        changes = sum(n * sum(a != b for a, b in zip(lay, lay[1:])) for lay, n in table.items())
        switch.append(changes / max(steps, 1))
        for lay, n in table.items():
            lengths[len(lay)] = lengths.get(len(lay), 0.0) + n / total / len(counts)
    return (float(np.mean(switch)) if switch else 0.25), lengths


def _run_probability(layout: str) -> float:
    """How likely the run model (`_kind_model`) finds ``layout``: few changes between
    letters and digits, a usual length."""
    s, lengths = _kind_model()
    k = sum(a != b for a, b in zip(layout, layout[1:]))
    return 0.5 * s**k * (1 - s) ** (len(layout) - 1 - k) * max(lengths.get(len(layout), 0.0), 0.01)


@cache
def _format_layouts(region: str) -> frozenset[str]:
    """The letter/digit layouts that the formats of ``region`` allow."""
    digit = np.array([c.isdigit() for c in CLASSES])
    out: set[str] = set()
    for mask in load_region(region).masks:
        kinds = [("N" if m[digit].any() else "") + ("L" if m[~digit].any() else "") for m in mask]
        out |= {"".join(t) for t in itertools.product(*kinds)}
    return frozenset(out)


@lru_cache(maxsize=4096)
def layout_prior(layout: str, region: str | None = None) -> float:
    """The probability of ``layout`` on a plate of ``region`` (averaged over the regions
    when None) that `settle_layout` weighs readings by: its share of the region's
    labelled plates, smoothed towards the layouts of the region's formats
    (`PATTERN_WEIGHT`) and towards few changes between letters and digits
    (`LAYOUT_SMOOTHING`): a word (``KMBORAK``) is likelier than the same letters with a
    digit inside (``KMB0RAK``) wherever neither was seen.

    >>> layout_prior("LLLLLLL") > 5 * layout_prior("LLLNLLL")
    True
    >>> layout_prior("LLLNNNN", "br") > 0.9
    True
    """
    counts = _layout_counts()
    regions = [region] if region in counts else list(counts)
    if not regions:
        return 0.0
    out = []
    for r in regions:
        table, total = counts[r]
        formats = _format_layouts(r)
        from_formats = PATTERN_WEIGHT / max(len(load_region(r).patterns), 1) if layout in formats else 0.0
        smoothed = table.get(layout, 0) + LAYOUT_SMOOTHING * _run_probability(layout) + from_formats
        out.append(smoothed / (total + LAYOUT_SMOOTHING + PATTERN_WEIGHT))
    return float(np.mean(out))


LAYOUT_SMOOTHING = 0.3
"""Pseudo-count of a region's layout table that `layout_prior` spreads over every
layout by the letter/digit run model (`_kind_model`)..."""

PATTERN_WEIGHT = 3.0
"""... and the pseudo-count it spreads evenly over the layouts of the region's formats
(``anpr/regions/*.json``): a country whose plates no labelled photo shows (the UK
``LLNNLLL``) still has its layouts. The fit parts cannot choose it (no format they
lack is among them: 1, 3 and 10 read them alike); 3 is a few plates' worth."""

LAYOUT_EVIDENCE = 1.5
"""Power of the classifier's probabilities against the layout prior in
`settle_layout`: above 1 the glyph images count more than the layouts."""

LAYOUT_ALT_RATIO = 0.05
"""`settle_layout` weighs a letter in place of a digit read, or a digit in place of a
letter, when the classifier gives it at least this fraction of the probability of
the character read."""

LAYOUT_MARGIN = 5.0
"""`settle_layout` changes a reading only when its score (the probability of the
characters times the frequency of the layout) is this many times that of the reading
as is; for O and 0 alone, which most fonts draw alike, the layout must be this many
times as frequent. Chosen with `LAYOUT_SMOOTHING` and `LAYOUT_EVIDENCE` by 5-fold
cross-validation (grouped by plate) on the final readings of the fit parts of the
scenes and plate crops (``docs/experiments.md``, 2026-12-06): every fold chose 0.3,
1.5 and 5 of 0.3-100, 0.7-1.5 and 2-5."""

MAX_LAYOUT_ALTS = 8
"""Most characters of one reading that `settle_layout` weighs (2**8 variants)."""

_IS_DIGIT = np.array([c.isdigit() for c in CLASSES])
_OTHER_KIND = {kind: np.flatnonzero(_IS_DIGIT != kind) for kind in (False, True)}  # letters / digits


def settle_layout(text: str, probs: np.ndarray, region: str | None = None) -> str:
    """``text`` with look-alike letters and digits (``O``/``0``, ``I``/``1``, ``D``/``0``,
    ``A``/``4``, ...) written so that the reading is the most probable one given the
    layouts of real plates.

    Every character of ``text`` may become the letter or digit that the classifier
    rates next (`LAYOUT_ALT_RATIO`); each variant is scored by the product of its
    characters' probabilities, raised to `LAYOUT_EVIDENCE`, and its layout's prior
    (`layout_prior`: the labelled plates of ``region``, its formats and the run of
    letters and digits). ``O`` and ``0`` share one probability, so the layout alone
    settles them. The best variant replaces ``text`` when it scores `LAYOUT_MARGIN`
    times as high.

    Parameters
    ----------
    text : str
        The reading, one character per row of ``probs``.
    probs : ndarray
        ``(len(text), 36)`` class probabilities of its characters.
    region : str or None
        Region whose layout counts to use; None averages over the regions.

    Examples
    --------
    >>> p = np.full((6, 36), 0.001)
    >>> for i, c in enumerate("650VYM"): p[i, CLASSES.index(c)] = 0.9
    >>> p[2, CLASSES.index("D")], p[2, CLASSES.index("0")] = 0.6, 0.35
    >>> settle_layout("65DVYM", p, "us")      # NNNLLL is far more frequent than NNLLLL
    '650VYM'
    >>> settle_layout("0KM0944", np.full((7, 36), 1 / 36), "br")
    'OKM0944'
    """
    p = _check(probs)
    if len(text) != len(p) or any(c not in CLASSES for c in text):
        raise ValueError(f"text must be {len(p)} characters of 0-9A-Z, got {text!r}")
    if not text or not _layout_counts():
        return text
    p = p.copy()
    p[:, _OZ] = p[:, _OZ].sum(axis=1, keepdims=True)
    logp = LAYOUT_EVIDENCE * np.log(np.clip(p, _EPS, None))
    cls = np.array([CLASSES.index(c) for c in text])
    read = logp[np.arange(len(text)), cls]
    alts: list[tuple[int, int]] = []  # (position, class of the other kind)
    for i, c in enumerate(cls):
        other = _OTHER_KIND[bool(_IS_DIGIT[c])]
        j = int(other[p[i, other].argmax()])
        if p[i, j] >= LAYOUT_ALT_RATIO * p[i, c]:
            alts.append((i, j))
    if not alts:
        return text
    alts = sorted(alts, key=lambda a: read[a[0]] - logp[a])[:MAX_LAYOUT_ALTS]
    base = float(read.sum())
    as_read = base + np.log(layout_prior(layout_of(text), region))
    best, best_score = text, as_read
    chars = list(text)
    for bits in range(1, 1 << len(alts)):
        trial, score = chars.copy(), base
        for k, (i, j) in enumerate(alts):
            if bits >> k & 1:
                trial[i] = CLASSES[j]
                score += logp[i, j] - read[i]
        cand = "".join(trial)
        score += np.log(layout_prior(layout_of(cand), region))
        if score > best_score:
            best, best_score = cand, score
    return best if best_score >= as_read + np.log(LAYOUT_MARGIN) else text


def format_of(text: str, region: str | None = None) -> tuple[str, str] | None:
    """The region format ``text`` fits: ``(region key, pattern)``, or None.

    With ``region``, that region's first pattern that ``text`` fits. Without, among the
    regions with a pattern that fits, the one where the text's layout is most frequent
    among labelled plates (`layout_frequency`): ``LLLNNNN`` fits the Brazilian, US and
    European patterns but is nearly every Brazilian plate and a few of the others.

    >>> format_of("ABC1234"), format_of("AB123CD", "eu"), format_of("A1B2")
    (('br', 'LLLNNNN'), ('eu', 'LLNNNLL'), None)
    >>> format_of("ABC1234", "us"), format_of("AB1234C", "br")
    (('us', 'LLLNNNN'), None)
    """
    ids = [CLASSES.index(c) for c in text if c in CLASSES]
    if not ids or len(ids) != len(text):
        return None
    best = None
    for key in [region] if region is not None else available_regions():
        r = load_region(key)
        fit = next((p for p, m in zip(r.patterns, r.masks)
                    if len(m) == len(ids) and m[np.arange(len(ids)), ids].all()), None)
        if fit is None:
            continue
        f = layout_frequency(layout_of(text), key)
        if best is None or f > best[0]:
            best = (f, key, fit)
    return None if best is None else (best[1], best[2])


def edit_table(a: str, b: str) -> list[list[int]]:
    """The Levenshtein table of ``a`` against ``b``: entry ``[i][j]`` is the distance
    between ``a[:i]`` and ``b[:j]`` (for `edit_distance`, and for alignments read back
    from it, `anpr.benchmark.end_errors`).

    >>> edit_table("AB", "B")
    [[0, 1], [1, 1], [2, 1]]
    """
    table = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        prev, cur = table[-1], [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        table.append(cur)
    return table


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance.

    >>> edit_distance("7ABC123", "7A8C123"), edit_distance("ABC", "ABCD"), edit_distance("", "AB")
    (1, 1, 2)
    """
    return edit_table(a, b)[-1][-1]

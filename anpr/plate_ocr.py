"""Read a whole plate at once: a small CNN with a CTC output (the whole-plate reader).

A rectified plate crop is resized to `INPUT_H` x `INPUT_W` gray; the CNN gives, for each
of its `STEPS` columns (`STRIDE` input pixels each), probabilities over a blank and
`ALPHABET` (the letter O is read as the digit 0: plates and labels do not tell them
apart; the glyph CNN and the layout decide). Decoding keeps the best few readings
(`beam_readings`), each with its log-probability and the column span of each of its
characters (`align`), so that the 28x28 glyph CNN can read each character where this
reader places it.

The model (``models/plate_ocr.onnx``, trained by ``anpr train-ocr``; its card
``models/PLATE_OCR.md``) ships with the package. Reading needs numpy, OpenCV and
onnxruntime only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .images import to_gray

INPUT_H, INPUT_W = 40, 160
"""Size every plate crop is resized to, whatever its aspect (the CNN learns the squeeze)."""

STRIDE = 4
"""Input pixels per output column."""

STEPS = INPUT_W // STRIDE

ALPHABET = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
"""Output classes after the blank (class 0): `anpr.normalize.CLASSES` without ``O``."""

MODEL_NAME = "plate_ocr.onnx"


@dataclass(frozen=True)
class OcrReading:
    """One reading of a plate crop.

    Attributes
    ----------
    text : str
        Letters and digits, ``O`` written as ``0``.
    logp : float
        Natural log of the reading's CTC probability (all alignments summed).
    spans : tuple of (int, int)
        Each character's ``(x0, x1)`` in crop pixels: the columns its best alignment
        gives it, widened to the middle of the blank columns around it.
    """

    text: str
    logp: float
    spans: tuple[tuple[int, int], ...]


def encode(text: str) -> list[int]:
    """Class indices (1-based; 0 is the blank) of ``text``, ``O`` as ``0``.

    >>> encode("AO1")
    [11, 1, 2]
    """
    bad = sorted({c for c in text.upper() if not c.isalnum() or not c.isascii()})
    if bad:
        raise ValueError(f"text {text!r} has characters other than A-Z and 0-9: {bad}")
    return [ALPHABET.index(c) + 1 for c in text.upper().replace("O", "0")]


def to_input(crops: list[np.ndarray]) -> np.ndarray:
    """Crops (gray or BGR) as the CNN's float32 ``(N, INPUT_H, INPUT_W, 1)`` input: each
    resized and stretched so that its 2nd and 98th percentiles become 0 and 1.

    >>> to_input([np.zeros((30, 90, 3), np.uint8)]).shape
    (1, 40, 160, 1)
    """
    import cv2

    out = np.zeros((len(crops), INPUT_H, INPUT_W), np.float32)
    for i, c in enumerate(crops):
        g = np.asarray(to_gray(c))
        if g.ndim != 2 or g.shape[0] < 2 or g.shape[1] < 2:
            raise ValueError(f"plate crop {i} must be an image of at least 2x2 pixels, got shape {np.shape(c)}")
        shrink = g.shape[0] > INPUT_H or g.shape[1] > INPUT_W
        x = cv2.resize(g, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        x = x.astype(np.float32)
        lo, hi = np.percentile(x, (2, 98))
        out[i] = np.clip((x - lo) / max(float(hi - lo), 1.0), 0.0, 1.0)
    return out[..., None]


def greedy(probs: np.ndarray) -> str:
    """Best-path text of one crop's ``(STEPS, classes)`` probabilities (or log-probabilities).

    >>> p = np.full((4, 36), 0.01); p[[0, 1, 3], [11, 11, 2]] = 1; p[2, 0] = 1
    >>> greedy(p)
    'A1'
    """
    out, prev = [], 0
    for c in np.asarray(probs).argmax(axis=1):
        if c != prev and c != 0:
            out.append(ALPHABET[c - 1])
        prev = int(c)
    return "".join(out)


def _extended(text: str) -> np.ndarray:
    ext = [0]
    for c in encode(text):
        ext += [c, 0]
    return np.array(ext)


def log_likelihood(logp: np.ndarray, text: str) -> float:
    """``log P(text)`` under per-step log-probabilities ``logp`` ``(T, classes)`` (blank 0),
    summed over every alignment (the CTC forward algorithm).

    >>> lp = np.log(np.full((3, 36), 1 / 36))
    >>> bool(np.isclose(log_likelihood(lp, ""), 3 * np.log(1 / 36)))
    True
    """
    e = _extended(text)
    a = np.full(len(e), -np.inf)
    a[0] = logp[0, 0]
    if len(e) > 1:
        a[1] = logp[0, e[1]]
    skip = np.zeros(len(e), bool)
    skip[2:] = (e[2:] != 0) & (e[2:] != e[:-2])
    for t in range(1, logp.shape[0]):
        b = a.copy()
        b[1:] = np.logaddexp(b[1:], a[:-1])
        b[2:] = np.where(skip[2:], np.logaddexp(b[2:], a[:-2]), b[2:])
        a = b + logp[t, e]
    return float(np.logaddexp(a[-1], a[-2])) if len(e) > 1 else float(a[-1])


def align(logp: np.ndarray, text: str) -> list[tuple[int, int]]:
    """The steps ``[t0, t1)`` each character of ``text`` holds in the most probable
    alignment (Viterbi over the CTC lattice); a character's span is widened halfway
    into the blanks on either side.

    >>> lp = np.log(np.full((6, 36), 0.001)); lp[[1, 2], 11] = 0; lp[4, 2] = 0
    >>> lp[[0, 3, 5], 0] = 0
    >>> align(lp, "A1")
    [(0, 4), (4, 6)]
    """
    e = _extended(text)
    T, S = logp.shape[0], len(e)
    if not text:
        return []
    score = np.full(S, -np.inf)
    back = np.zeros((T, S), np.int64)
    score[0] = logp[0, 0]
    score[1] = logp[0, e[1]]
    skip = np.zeros(S, bool)
    skip[2:] = (e[2:] != 0) & (e[2:] != e[:-2])
    idx = np.arange(S)
    for t in range(1, T):
        stay, step = score, np.concatenate([[-np.inf], score[:-1]])
        jump = np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choices = np.stack([stay, step, jump])
        k = choices.argmax(axis=0)
        back[t] = idx - k
        score = choices[k, idx] + logp[t, e]
    s = S - 1 if score[S - 1] >= score[S - 2] else S - 2
    states = np.zeros(T, np.int64)
    for t in range(T - 1, -1, -1):
        states[t] = s
        s = back[t, s]
    n = len(text)
    first, last = [T] * n, [-1] * n
    for t, st in enumerate(states):
        if st % 2:
            c = st // 2
            first[c], last[c] = min(first[c], t), max(last[c], t)
    # Neighbours share the blanks between them; the end glyphs take half the blanks
    # (rounded up) between them and the crop's edges.
    cuts = [first[0] - (first[0] + 1) // 2]
    cuts += [(last[c] + first[c + 1] + 2) // 2 for c in range(n - 1)]
    cuts.append(last[-1] + 1 + (T - last[-1]) // 2)
    spans = [(cuts[c], max(cuts[c + 1], cuts[c] + 1)) for c in range(n)]
    return spans


PRUNE = 1e-4
"""Beam search extends a prefix only by the characters at least this probable at a step
(the rest cannot make one of the best few readings; the survivors are scored exactly)."""


def _lae(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` of two floats."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def beam_readings(logp: np.ndarray, k: int = 5, beam: int = 10) -> list[tuple[str, float]]:
    """The ``k`` most probable texts of one crop by CTC prefix beam search over
    ``logp`` ``(T, classes)``, each with its exact log-probability (`log_likelihood`),
    best first.

    >>> lp = np.log(np.full((4, 36), 0.001)); lp[[0, 1, 3], [11, 11, 2]] = np.log(0.9); lp[2, 0] = np.log(0.9)
    >>> beam_readings(lp, k=1)[0][0]
    'A1'
    """
    if k < 1 or beam < k:
        raise ValueError(f"need 1 <= k <= beam, got k={k}, beam={beam}")
    logp = np.asarray(logp, np.float64)
    likely = logp[:, 1:] >= math.log(PRUNE)
    blank = logp[:, 0].tolist()
    # prefix -> [log P ending in blank, log P ending in its last character]
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, -math.inf]}
    for t in range(logp.shape[0]):
        chars = [(int(c) + 1, float(logp[t, c + 1])) for c in np.flatnonzero(likely[t])]
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lae(pb, pnb)
            cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
            cur[0] = _lae(cur[0], total + blank[t])
            for c, lc in chars:
                if prefix and prefix[-1] == c:
                    cur[1] = _lae(cur[1], pnb + lc)  # the same character continued
                    ext = nxt.setdefault(prefix + (c,), [-math.inf, -math.inf])
                    ext[1] = _lae(ext[1], pb + lc)  # a repeat after a blank
                else:
                    ext = nxt.setdefault(prefix + (c,), [-math.inf, -math.inf])
                    ext[1] = _lae(ext[1], total + lc)
        if len(nxt) > beam:
            nxt = dict(sorted(nxt.items(), key=lambda kv: -_lae(kv[1][0], kv[1][1]))[:beam])
        beams = nxt
    # The search kept the likely characters of each step only: score the best survivors
    # exactly (a few more than asked for, as the exact order may differ a little).
    ranked = sorted(beams, key=lambda p: -_lae(*beams[p]))[:k + 2]
    texts = ["".join(ALPHABET[c - 1] for c in p) for p in ranked]
    return sorted(((t, log_likelihood(logp, t)) for t in texts), key=lambda ts: -ts[1])[:k]


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def default_ocr_path() -> Path:
    """Path of the shipped whole-plate reader (`anpr.classify.side_model_path`)."""
    from .classify import side_model_path

    return side_model_path(MODEL_NAME)


class PlateOCR:
    """Whole-plate readings of plate crops, from the CTC model in an ONNX file.

    Raises
    ------
    ModelError
        When the file is missing, unreadable or has the wrong output shape.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1):
        from .classify import open_side_model

        probe = np.zeros((1, INPUT_H, INPUT_W, 1), np.float32)
        self.path, self.backend, self.info = open_side_model(
            path, default_ocr_path(), "whole-plate reader", probe, STEPS * (len(ALPHABET) + 1),
            f"(N, {STEPS}, {len(ALPHABET) + 1})", threads)

    def log_probs(self, crops: list[np.ndarray]) -> np.ndarray:
        """Per-step log-probabilities ``(N, STEPS, 1 + len(ALPHABET))``."""
        if not crops:
            return np.zeros((0, STEPS, len(ALPHABET) + 1))
        x = np.ascontiguousarray(to_input(crops))
        p = np.asarray(self.backend.run(x), np.float64).reshape(len(crops), STEPS, len(ALPHABET) + 1)
        return np.log(np.maximum(p, 1e-12))

    def read(self, crop: np.ndarray, k: int = 5) -> tuple[OcrReading, ...]:
        """The ``k`` best readings of one plate crop, best first, each with its
        characters' spans in crop pixels."""
        lp = self.log_probs([crop])[0]
        width = np.asarray(crop).shape[1]
        out = []
        for text, score in beam_readings(lp, k=k, beam=max(10, k)):
            spans = tuple((int(round(a * STRIDE * width / INPUT_W)), int(round(b * STRIDE * width / INPUT_W)))
                          for a, b in align(lp, text))
            out.append(OcrReading(text, score, spans))
        return tuple(out)

    def __repr__(self) -> str:
        return f"PlateOCR({str(self.path)!r})"


@lru_cache(maxsize=4)
def load_plate_ocr(path: str | Path | None = None) -> PlateOCR:
    """A `PlateOCR`, loaded once per path (None: the shipped one)."""
    return PlateOCR(path)

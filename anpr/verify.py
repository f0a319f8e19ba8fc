"""Verify plate candidates with a small learned CNN, before any of them is read.

The proposer (`anpr.localize.propose`) returns every row of glyph-like strokes in a
photo: plates, but also shop lettering, signs, stickers, grilles and badges. This stage
looks at each candidate in its surroundings and says how plate-like it is, so that the
reader spends its reading time on plates and reports only what looks like one.

Each candidate is cut out of the photo as a `PATCH_H` x `PATCH_W` gray *context patch*:
a window turned with the candidate's tilt, centred on it, `CONTEXT` times as wide as
the candidate (and at least `ASPECT` times as wide as tall), so that the candidate's
true shape and the plate's frame, bumper or shop front around it stay in view. The CNN
(``models/verifier.onnx``, trained by ``anpr train-verifier``) maps a batch of patches
to plate probabilities. Reading needs only onnxruntime (or OpenCV's DNN module).

Examples
--------
>>> import numpy as np
>>> from anpr.localize import Candidate
>>> corners = np.array([[100, 100], [220, 100], [220, 130], [100, 130]], np.float32)
>>> cand = Candidate(corners, (100, 100, 120, 30), "dark")
>>> gray = np.full((240, 320), 128, np.uint8)
>>> context_patches(gray, [cand]).shape
(1, 32, 96)
>>> p = Verifier().score(gray, [cand])
>>> p.shape, bool(0.0 <= p[0] <= 1.0)
((1,), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

PATCH_H, PATCH_W = 32, 96
"""Size of the context patch the CNN sees."""

ASPECT = PATCH_W / PATCH_H
"""Width / height of the window cut around a candidate (the patch's own)."""

CONTEXT = 1.5
"""The window is this many times the candidate's width (or its height times `ASPECT`,
when that is more): the candidate fills the middle two thirds, its surroundings the
rest."""

MODEL_NAME = "verifier.onnx"


def context_windows(cands: Sequence) -> np.ndarray:
    """The ``(N, 4, 2)`` corners of each candidate's context window (input pixels);
    a candidate is a `~anpr.localize.Candidate` or its four corners (a reported plate's
    outline).

    >>> from anpr.localize import Candidate
    >>> c = Candidate(np.array([[0, 0], [60, 0], [60, 20], [0, 20]], float), (0, 0, 60, 20), "dark")
    >>> context_windows([c])[0].tolist()
    [[-15.0, -5.0], [75.0, -5.0], [75.0, 25.0], [-15.0, 25.0]]
    """
    out = np.zeros((len(cands), 4, 2), np.float64)
    for i, c in enumerate(cands):
        q = np.asarray(getattr(c, "corners", c), np.float64).reshape(4, 2)
        centre = q.mean(axis=0)
        u = ((q[1] - q[0]) + (q[2] - q[3])) / 2  # width vector
        v = ((q[3] - q[0]) + (q[2] - q[1])) / 2  # height vector
        w, h = float(np.hypot(*u)), float(np.hypot(*v))
        ux = u / max(w, 1e-6)
        vy = np.array([-ux[1], ux[0]])  # perpendicular to the text line, pointing down
        if vy.dot(v) < 0:
            vy = -vy
        W = max(CONTEXT * w, CONTEXT * ASPECT * h)
        H = W / ASPECT
        a, b = ux * W / 2, vy * H / 2
        out[i] = [centre - a - b, centre + a - b, centre + a + b, centre - a + b]
    return out


def context_patches(gray: np.ndarray, cands: Sequence) -> np.ndarray:
    """Gray ``(N, PATCH_H, PATCH_W)`` uint8 context patches of candidates in a photo."""
    import cv2

    g = np.asarray(gray)
    if g.ndim != 2:
        raise ValueError(f"gray must be a 2-D image, got shape {g.shape}")
    out = np.zeros((len(cands), PATCH_H, PATCH_W), np.uint8)
    dst = np.array([[0, 0], [PATCH_W, 0], [PATCH_W, PATCH_H], [0, PATCH_H]], np.float32)
    for i, q in enumerate(context_windows(cands)):
        src = g
        # A warp samples bilinearly whatever flag it gets: a window many times the
        # patch is first shrunk by its whole factor (a box mean) to keep thin strokes.
        f = int(np.hypot(*(q[1] - q[0])) // (2 * PATCH_W))
        if f >= 2:
            x0, y0 = np.maximum(np.floor(q.min(axis=0)).astype(int), 0)
            x1, y1 = np.ceil(q.max(axis=0)).astype(int)
            sub = g[y0:y1, x0:x1]
            if sub.shape[0] >= f and sub.shape[1] >= f:
                src = cv2.resize(sub, (sub.shape[1] // f, sub.shape[0] // f), interpolation=cv2.INTER_AREA)
                q = (q - [x0, y0]) / f
        M = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
        out[i] = cv2.warpPerspective(src, M, (PATCH_W, PATCH_H), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
    return out


def to_input(patches: np.ndarray) -> np.ndarray:
    """Patches as the CNN's float32 ``(N, PATCH_H, PATCH_W, 1)`` input: each patch
    scaled to zero mean and unit contrast, so exposure does not matter."""
    x = np.asarray(patches, np.float32).reshape(-1, PATCH_H, PATCH_W)
    m = x.mean(axis=(1, 2), keepdims=True)
    s = x.std(axis=(1, 2), keepdims=True)
    return ((x - m) / np.maximum(s, 8.0))[..., None]


def default_verifier_path() -> Path:
    """Path of the shipped verifier (`anpr.classify.side_model_path`)."""
    from .classify import side_model_path

    return side_model_path(MODEL_NAME)


class Verifier:
    """Plate probability of candidates, from the CNN in an ONNX file.

    Parameters
    ----------
    path : str or Path, optional
        An ONNX model reading ``(N, PATCH_H, PATCH_W, 1)`` float32 (`to_input`) and
        returning ``(N, 1)`` probabilities. Defaults to the shipped model.
    threads : int
        Intra-op threads for onnxruntime.

    Raises
    ------
    ModelError
        When the file is missing, unreadable or has the wrong input/output shape.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1):
        from .classify import open_side_model

        probe = np.zeros((1, PATCH_H, PATCH_W, 1), np.float32)
        self.path, self.backend, self.info = open_side_model(
            path, default_verifier_path(), "verifier", probe, 1, "(N, 1)", threads)

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Plate probability ``(N,)`` of gray context patches ``(N, PATCH_H, PATCH_W)``."""
        x = to_input(patches)
        if not len(x):
            return np.zeros(0, np.float32)
        return np.asarray(self.backend.run(np.ascontiguousarray(x)), np.float32).reshape(-1)

    def score(self, gray: np.ndarray, cands: Sequence) -> np.ndarray:
        """Plate probability ``(N,)`` of candidates proposed in a gray photo (or of
        quadrilaterals given by their corners: `context_windows`)."""
        if not len(cands):
            return np.zeros(0, np.float32)
        return self.predict(context_patches(gray, cands))

    def __repr__(self) -> str:
        return f"Verifier({str(self.path)!r})"


@lru_cache(maxsize=8)
def load_verifier(path: str | Path | None = None) -> Verifier:
    """A `Verifier`, loaded once per path (None: the shipped one)."""
    return Verifier(path)

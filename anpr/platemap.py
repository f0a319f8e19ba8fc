"""Where the plates of a photo lie, from a small learned map; contours turn it into
candidates.

The morphological proposer (`anpr.localize.propose`) finds rows of glyphs with kernels
of a few fixed sizes: a close-up's glyphs are too tall for them, and every line of
lettering is a row of glyphs too. This stage learns what a plate looks like instead:
a small fully convolutional CNN looks at the whole photo, downscaled so that its
longer side is `INPUT` pixels, and says for each cell of `STRIDE` x `STRIDE` pixels
how likely it lies on a plate. The map is thresholded and the same contour machinery
as the proposer's runs on it (``findContours``, ``minAreaRect``): each blob's rotated
rectangle is a candidate quadrilateral for the verifier and the reader.

The model (``models/platemap.onnx``, trained by ``anpr train-platemap`` on the boxed
photo folders and synthetic plates pasted into them) and its threshold
(``models/platemap.json``) ship with the package.

Examples
--------
>>> import numpy as np
>>> x, scale = to_input(np.zeros((300, 600), np.uint8))
>>> x.shape, scale
((1, 384, 384, 1), 0.64)
>>> heat = np.zeros((INPUT // STRIDE, INPUT // STRIDE), np.float32)
>>> heat[40:44, 20:40] = 0.9                                 # one plate-like blob
>>> gray = np.zeros((300, 600), np.uint8)
>>> [tuple(int(v) for v in c.box) for c in blobs_to_candidates(heat, scale, gray, 0.5)]
[(125, 250, 125, 25)]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

INPUT = 384
"""Side of the square the photo is fitted into (longer side scaled to it, the rest
padded): a 0.55 G multiply-add pass, about 20 ms on one core."""

STRIDE = 4
"""Input pixels per map cell."""

THRESHOLD = 0.5
"""Default map level that counts as plate (the model's JSON file sets the one chosen
on its validation photos)."""

MIN_CELLS = 2
"""Blobs of fewer map cells are dropped: too small to read at any rate."""

MODEL_NAME = "platemap.onnx"


def to_input(gray: np.ndarray, side: int = INPUT) -> tuple[np.ndarray, float]:
    """A gray photo as the CNN's float32 ``(1, side, side, 1)`` input and the scale
    applied to it: longer side resized to ``side``, the rest padded with mid-gray,
    values scaled to [-1, 1]."""
    import cv2

    a = np.asarray(gray)
    if a.ndim != 2:
        raise ValueError(f"gray image must be 2-D, got shape {a.shape}")
    h, w = a.shape
    if h < 1 or w < 1:
        raise ValueError(f"image is empty: shape {a.shape}")
    scale = side / max(h, w)
    nh, nw = max(1, min(side, round(h * scale))), max(1, min(side, round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(a.astype(np.uint8), (nw, nh), interpolation=interp)
    out = np.full((side, side), 127.5, np.float32)
    out[:nh, :nw] = small
    return (out / 127.5 - 1.0)[None, :, :, None], scale


def blobs_to_candidates(heat: np.ndarray, scale: float, gray: np.ndarray, threshold: float,
                        min_cells: int = MIN_CELLS) -> list:
    """Candidates (`anpr.localize.Candidate`, pixels of the gray photo ``gray``) of the
    blobs where ``heat`` (a map of ``STRIDE``-pixel cells over the photo scaled by
    ``scale``) is at least ``threshold``: each blob's minimum-area rectangle, its
    ``plate_p`` the blob's peak and its polarity guessed from the pixels (`_polarity`)."""
    import cv2

    from .localize import Candidate, bounding_boxes_many, order_corners_many

    mask = (np.asarray(heat) >= threshold).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    quads, peaks = [], []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if w * h < min_cells and len(c) < min_cells:
            continue
        # A cell is STRIDE pixels wide: its rectangle spans the cells' outer edges.
        (cx, cy), (rw, rh), ang = cv2.minAreaRect(c.astype(np.float32))
        rect = ((cx + 0.5, cy + 0.5), (rw + 1.0, rh + 1.0), ang)
        quads.append(cv2.boxPoints(rect) * (STRIDE / scale))
        peaks.append(float(heat[y:y + h, x:x + w].max()))
    if not quads:
        return []
    H, W = gray.shape[:2]
    corners = order_corners_many(np.stack(quads).astype(np.float64))
    corners[..., 0] = np.clip(corners[..., 0], 0, W)
    corners[..., 1] = np.clip(corners[..., 1], 0, H)
    boxes = bounding_boxes_many(corners, (H, W))
    return [Candidate(q, b, _polarity(gray, b), scale=scale, plate_p=p) for q, b, p in zip(corners, boxes, peaks)]


def _polarity(gray: np.ndarray, box: Sequence[int]) -> str:
    """``"dark"`` (dark glyphs on a light plate) when most of the box is lighter than
    its mean, as a light panel with thin dark strokes is; else ``"light"``."""
    x, y, w, h = (int(v) for v in box)
    patch = gray[y:y + h, x:x + w]
    if patch.size == 0:
        return "dark"
    return "dark" if float(np.median(patch)) >= float(patch.mean()) else "light"


def default_platemap_path() -> Path:
    """Path of the shipped plate map (`anpr.classify.side_model_path`)."""
    from .classify import side_model_path

    return side_model_path(MODEL_NAME)


class PlateMap:
    """The learned plate map of a photo, and the candidates its blobs give.

    Parameters
    ----------
    path : str or Path, optional
        An ONNX model reading ``(1, INPUT, INPUT, 1)`` float32 (`to_input`) and
        returning ``(1, INPUT / STRIDE, INPUT / STRIDE, 1)`` plate probabilities.
        Defaults to the shipped model.
    threads : int
        Intra-op threads for onnxruntime.

    Raises
    ------
    ModelError
        When the file is missing, unreadable or has the wrong input/output shape.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1):
        from .classify import open_side_model

        probe = np.zeros((1, INPUT, INPUT, 1), np.float32)
        cells = (INPUT // STRIDE) ** 2
        self.path, self.backend, self.info = open_side_model(
            path, default_platemap_path(), "plate map", probe, cells, f"(1, {INPUT // STRIDE}, {INPUT // STRIDE}, 1)",
            threads)
        self.threshold = float(self.info.get("threshold", THRESHOLD))

    def heat(self, gray: np.ndarray) -> tuple[np.ndarray, float]:
        """The plate map of a gray photo, ``(INPUT / STRIDE, INPUT / STRIDE)`` float32,
        and the scale the photo was fitted with."""
        x, scale = to_input(gray)
        out = np.asarray(self.backend.run(x), np.float32)
        return out.reshape(INPUT // STRIDE, INPUT // STRIDE), scale

    def propose(self, gray: np.ndarray, threshold: float | None = None) -> list:
        """Candidates of a gray photo's plate map, most plate-like first."""
        heat, scale = self.heat(gray)
        cands = blobs_to_candidates(heat, scale, gray, self.threshold if threshold is None else threshold)
        return sorted(cands, key=lambda c: -(c.plate_p or 0.0))

    def __repr__(self) -> str:
        return f"PlateMap({str(self.path)!r})"


@lru_cache(maxsize=8)
def load_platemap(path: str | Path | None = None) -> PlateMap:
    """A `PlateMap`, loaded once per path (None: the shipped one)."""
    return PlateMap(path)

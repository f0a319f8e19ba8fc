"""Find the serial's glyphs in a rectified plate with a small learned CNN.

The connected-component segmenter (`anpr.segment`) finds ink blobs and decides with
hand-set rules which of them are glyphs; stickers, frames, pictures and small county
letters are where its rules fail. This stage learns it instead: a fully convolutional
CNN looks at the whole plate, `INPUT_H` x `INPUT_W` gray, and for each of its
`INPUT_W` / `STRIDE` columns says how likely a serial glyph's centre lies there, and
where that glyph's box is (centre offset, width, top and bottom). The peaks are the
glyphs. Its boxes are one more segmentation hypothesis for `anpr.recognize`, read by
the same 28x28 normalization and character CNN as the others.

The model (``models/glyphs.onnx``, trained by ``anpr train-glyphs`` on synthetic plates
with exact glyph boxes and on real plates labelled automatically) and its threshold
(``models/glyphs.json``) ship with the package.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .images import to_gray
from .protocols import Box

INPUT_H, INPUT_W = 48, 144
"""Size every plate is resized to (whatever its aspect: the CNN learns the squeeze)."""

STRIDE = 4
"""Input pixels per output column."""

COLUMNS = INPUT_W // STRIDE

THRESHOLD = 0.4
"""Default peak height that counts as a glyph (the model's JSON file may set another,
chosen on validation plates)."""

OVERLAP = 0.4
"""Glyph boxes overlapping by more than this share of the narrower width are one glyph."""

MODEL_NAME = "glyphs.onnx"


def to_input(plates: list[np.ndarray]) -> np.ndarray:
    """Plates (gray or BGR) as the CNN's float32 ``(N, INPUT_H, INPUT_W, 1)`` input, each
    resized and scaled to zero mean and unit contrast.

    >>> to_input([np.zeros((30, 90, 3), np.uint8)]).shape
    (1, 48, 144, 1)
    """
    import cv2

    out = np.zeros((len(plates), INPUT_H, INPUT_W), np.float32)
    for i, p in enumerate(plates):
        out[i] = cv2.resize(to_gray(p), (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA)
    m = out.mean(axis=(1, 2), keepdims=True)
    s = out.std(axis=(1, 2), keepdims=True)
    return ((out - m) / np.maximum(s, 8.0))[..., None]


def encode_boxes(boxes: list[Box], width: int, height: int) -> np.ndarray:
    """Training target ``(COLUMNS, 5)`` for glyph boxes of a ``width`` x ``height`` plate:
    per column the centre heat (1 at each glyph's column, a Gaussian around it) and,
    at the glyph's column, its centre offset within the column, width, top and bottom
    as fractions (of a column, of `INPUT_H`).

    >>> t = encode_boxes([(10, 5, 8, 20), (30, 5, 8, 20)], 72, 30)
    >>> t.shape, int(t[:, 0].argmax()), round(float(t[:, 0].sum()), 2) > 2
    ((36, 5), 7, True)
    """
    sx, sy = INPUT_W / width, INPUT_H / height
    t = np.zeros((COLUMNS, 5), np.float32)
    cols = np.arange(COLUMNS) + 0.5
    for x, y, w, h in boxes:
        cx = (x + w / 2) * sx / STRIDE
        c = min(COLUMNS - 1, max(0, int(cx)))
        sigma = max(0.6, w * sx / STRIDE / 4)
        t[:, 0] = np.maximum(t[:, 0], np.exp(-((cols - cx) ** 2) / (2 * sigma**2)))
        t[c, 0] = 1.0
        t[c, 1] = cx - c
        t[c, 2] = w * sx / INPUT_H
        t[c, 3] = y * sy / INPUT_H
        t[c, 4] = (y + h) * sy / INPUT_H
    return t


def decode_columns(out: np.ndarray, width: int, height: int, threshold: float = THRESHOLD
                   ) -> tuple[list[Box], np.ndarray]:
    """Boxes (plate pixels, reading order) and peak heights from one output ``(COLUMNS, 5)``.

    >>> t = encode_boxes([(10, 5, 8, 20), (30, 5, 8, 20)], 72, 30)
    >>> decode_columns(t, 72, 30)[0]
    [(10, 5, 8, 20), (30, 5, 8, 20)]
    """
    heat = out[:, 0]
    sx, sy = width / INPUT_W, height / INPUT_H
    boxes, peaks = [], []
    for c in range(len(heat)):
        left = heat[c - 1] if c > 0 else -1.0
        right = heat[c + 1] if c + 1 < len(heat) else -1.0
        if heat[c] < threshold or heat[c] < left or heat[c] <= right:
            continue
        cx = (c + float(np.clip(out[c, 1], 0, 1))) * STRIDE * sx
        w = max(1.0, float(out[c, 2]) * INPUT_H * sx)
        y0 = float(np.clip(out[c, 3], 0, 1)) * INPUT_H * sy
        y1 = float(np.clip(out[c, 4], 0, 1)) * INPUT_H * sy
        if y1 - y0 < 2:
            continue
        x0 = max(0, int(round(cx - w / 2)))
        boxes.append((x0, max(0, int(round(y0))), min(width - x0, max(1, int(round(w)))),
                      min(height, int(round(y1))) - max(0, int(round(y0)))))
        peaks.append(float(heat[c]))
    # Two peaks on one wide glyph: keep the higher where boxes overlap by over
    # `OVERLAP` of the narrower one's width.
    keep: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda k: -peaks[k]):
        xi, _, wi, _ = boxes[i]
        if all(min(xi + wi, boxes[j][0] + boxes[j][2]) - max(xi, boxes[j][0]) <= OVERLAP * min(wi, boxes[j][2])
               for j in keep):
            keep.append(i)
    keep.sort()
    return [boxes[i] for i in keep], np.asarray([peaks[i] for i in keep], np.float32)


def default_glyphs_path() -> Path:
    """Path of the shipped glyph finder (`anpr.classify.side_model_path`)."""
    from .classify import side_model_path

    return side_model_path(MODEL_NAME)


class GlyphFinder:
    """Glyph boxes of rectified plates, from the CNN in an ONNX file.

    Raises
    ------
    ModelError
        When the file is missing, unreadable or has the wrong output shape.
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1):
        from .classify import open_side_model

        probe = np.zeros((1, INPUT_H, INPUT_W, 1), np.float32)
        self.path, self.backend, self.info = open_side_model(
            path, default_glyphs_path(), "glyph", probe, COLUMNS * 5, f"(N, {COLUMNS}, 5)", threads)
        self.threshold = float(self.info.get("threshold", THRESHOLD))

    def columns(self, plates: list[np.ndarray]) -> np.ndarray:
        """Raw outputs ``(N, COLUMNS, 5)``."""
        if not plates:
            return np.zeros((0, COLUMNS, 5), np.float32)
        x = np.ascontiguousarray(to_input(plates))
        return np.asarray(self.backend.run(x), np.float32).reshape(len(plates), COLUMNS, 5)

    def find(self, plate: np.ndarray) -> tuple[list[Box], np.ndarray]:
        """Glyph boxes of one plate (plate pixels, reading order) and their peak heights."""
        h, w = np.asarray(plate).shape[:2]
        return decode_columns(self.columns([plate])[0], w, h, self.threshold)

    def __repr__(self) -> str:
        return f"GlyphFinder({str(self.path)!r})"


@lru_cache(maxsize=4)
def load_glyph_finder(path: str | Path | None = None) -> GlyphFinder:
    """A `GlyphFinder`, loaded once per path (None: the shipped one)."""
    return GlyphFinder(path)

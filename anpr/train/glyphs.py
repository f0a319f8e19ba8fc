"""Training the glyph finder (`anpr.glyphs`): data, model, fit, threshold, export.

Examples are plates with one box per serial glyph:

* synthetic US and European plates (`anpr.train.plates`): exact boxes, with the
  stickers, frames, pictures, hyphens and small county letters that are no glyphs;
* real plates of labelled folders (plate crops ``image,plate`` or scenes
  ``image,x,y,w,h,plate``, see `anpr.train.datasets.labelled_plates`), *fit* part only
  (`anpr.split`), labelled automatically: the connected-component segmenter's boxes
  where it finds exactly as many as the label has characters. Each is used in a few
  copies cut a little wider or tighter, as the reader's rectified plates come.

A grouped share of the real plates (by plate text) is held out for validation: early
stopping, the seed and the peak threshold are chosen there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..glyphs import COLUMNS, INPUT_H, INPUT_W, decode_columns, encode_boxes, to_input
from ..split import hash_percent
from .datasets import plate_source, segmented_plates

VAL_PERCENT = 15
JITTERS = 2
"""Copies of each real plate, each cut with different margins."""


@dataclass
class GlyphSet:
    x: list = field(default_factory=list)       # to_input rows (INPUT_H, INPUT_W, 1)
    y: list = field(default_factory=list)       # encode_boxes targets (COLUMNS, 5)
    boxes: list = field(default_factory=list)   # (boxes, width, height) in input-plate pixels
    groups: list = field(default_factory=list)
    sources: list = field(default_factory=list)

    def add(self, plate: np.ndarray, boxes, group: str, source: str) -> None:
        h, w = plate.shape[:2]
        self.x.append(to_input([plate])[0])
        self.y.append(encode_boxes(list(boxes), w, h))
        self.boxes.append((list(boxes), w, h))
        self.groups.append(group)
        self.sources.append(source)

    def __len__(self) -> int:
        return len(self.x)

    def arrays(self, idx=None) -> tuple[np.ndarray, np.ndarray]:
        idx = range(len(self)) if idx is None else idx
        return (np.stack([self.x[i] for i in idx]).astype(np.float32),
                np.stack([self.y[i] for i in idx]).astype(np.float32))


def jitter(plate: np.ndarray, boxes, rng: np.random.Generator, amount: float = 0.06):
    """The plate cut with margins moved by up to ``amount`` of its size on each side
    (padding with the edge where it grows); boxes follow."""
    import cv2

    h, w = plate.shape[:2]
    d = (rng.uniform(-amount, amount, 4) * [w, h, w, h]).round().astype(int)
    x0, y0, x1, y1 = -d[0], -d[1], w + d[2], h + d[3]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    big = cv2.copyMakeBorder(plate, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    out = big[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
    moved = []
    for bx, by, bw, bh in boxes:
        nx, ny = bx - x0, by - y0
        cx0, cy0 = max(0, nx), max(0, ny)
        cx1, cy1 = min(out.shape[1], nx + bw), min(out.shape[0], ny + bh)
        if cx1 - cx0 < 1 or cy1 - cy0 < 1:
            return None  # a glyph cut off: not a usable example
        moved.append((cx0, cy0, cx1 - cx0, cy1 - cy0))
    return out, moved


def add_real(data: GlyphSet, folder: Path, rng: np.random.Generator, progress=None) -> dict:
    """Auto-labelled real plates of ``folder``'s fit part (`segmented_plates`); returns counts."""
    stats = {"plates": 0, "kept": 0}
    for _, img, text, boxes in segmented_plates(folder, part="fit"):
        stats["plates"] += 1
        if progress:
            progress(1)
        if boxes is None:
            continue
        stats["kept"] += 1
        for _ in range(JITTERS):
            j = jitter(img, boxes, rng)
            if j is not None:
                data.add(j[0], j[1], f"real:{text}", plate_source(folder))
    return stats


def reader_crops(folder: str | Path, reader, part: str | None = "fit", progress=None):
    """``(path, crop, text, boxes)``: the plates of a scene folder as the reader itself
    crops them, boxed by its own reading.

    Each labelled photo of ``part`` is read (`anpr.reader.PlateReader.readings`); every
    rectified crop it reads in which one of the hypotheses spells the label (O and 0
    alike; `anpr.recognize.plate_readings`) gives that crop with that hypothesis' glyph
    boxes; ``progress`` is called with 1 after each photo. Unlike `add_real`'s labels,
    these are the reader's true inputs -- candidate rows with their margins, wider
    re-reads with the frame in view -- and include plates the connected-component
    segmenter alone cuts wrong (a glyph touching the frame, one split in two) when
    another hypothesis reads them right.
    """
    from ..decode import merge_o0
    from ..recognize import plate_readings
    from .datasets import plate_rows

    for path, text, box in plate_rows(folder, part):
        if box is None:
            raise ValueError(f"{folder}: not a scene folder (labels.csv needs image,x,y,w,h,plate)")
        if progress:
            progress(1)
        if not text:
            continue
        debug: dict = {}
        try:
            reader.readings(path, debug=debug)
        except ValueError:
            continue  # an unreadable photo labels nothing
        for key, crop in debug.items():
            if not key.startswith("3-plate-"):
                continue
            for read, boxes in plate_readings(crop, reader.classifier, reader.region, reader.glyphs):
                if merge_o0(read) == merge_o0(text):
                    yield path, crop, text, boxes
                    break


def add_reader_crops(data: GlyphSet, folder: Path, reader, rng: np.random.Generator, progress=None) -> dict:
    """The fit part of a scene folder labelled by `reader_crops`, each crop in `JITTERS`
    copies; returns counts (photos read, crops kept)."""
    photos: set = set()
    crops = 0
    source = plate_source(folder) + "/reader"
    for path, crop, text, boxes in reader_crops(folder, reader, progress=progress):
        photos.add(path)
        crops += 1
        for _ in range(JITTERS):
            j = jitter(crop, boxes, rng)
            if j is not None:
                data.add(j[0], j[1], f"real:{text}", source)
    return {"photos_labelled": len(photos), "crops": crops}


def add_synthetic(data: GlyphSet, n: int, seed: int, templates, progress=None, eu_share: float = 0.3,
                  south_share: float = 0.0) -> None:
    from .plates import synth_plates

    for k, p in enumerate(synth_plates(n, seed, templates, eu_share, south_share)):
        if progress:
            progress(1)
        data.add(p.image, p.boxes, f"synthetic:{k}", "synthetic")


def is_val(group: str) -> bool:
    return group.startswith("real:") and hash_percent(group[5:], "glyph-val:") < VAL_PERCENT


def build_model(dropout: float = 0.1):
    """Fully convolutional: two conv + pool blocks, two conv layers, a column head that
    sees the whole height, and per column a sigmoid heat and four sigmoid box values.
    About 25 million multiply-adds per plate."""
    from ..errors import require

    keras = require("keras", "train")
    layers = keras.layers
    inputs = keras.Input((INPUT_H, INPUT_W, 1), name="plate")
    x = inputs
    for i, f in enumerate((16, 32, 48, 48)):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.LeakyReLU(0.1, name=f"act{i}")(x)
        if i < 2:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Dropout(dropout, name="drop")(x)
    x = layers.Conv2D(64, (INPUT_H // 4, 1), padding="valid", use_bias=False, name="column")(x)
    x = layers.BatchNormalization(name="bn_col")(x)
    x = layers.LeakyReLU(0.1, name="act_col")(x)
    heat = layers.Conv2D(1, 1, activation="sigmoid", name="heat")(x)
    geo = layers.Conv2D(4, 1, activation="sigmoid", name="geometry")(x)
    out = layers.Concatenate(name="columns_5")([heat, geo])
    out = layers.Reshape((COLUMNS, 5), name="columns")(out)
    return keras.Model(inputs, out, name="anpr_glyphs")


def loss_fn(y_true, y_pred):
    """Heat: binary cross-entropy, glyph columns weighted up; box values: L1 at the
    glyph columns only."""
    from keras import ops

    t, p = y_true[..., 0], ops.clip(y_pred[..., 0], 1e-6, 1 - 1e-6)
    bce = -(t * ops.log(p) + (1 - t) * ops.log(1 - p))
    centre = ops.cast(ops.equal(t, 1.0), "float32")
    heat = ops.mean(bce * (1.0 + 4.0 * centre))
    l1 = ops.sum(ops.abs(y_true[..., 1:] - y_pred[..., 1:]), axis=-1)
    box = ops.sum(l1 * centre) / ops.maximum(ops.sum(centre), 1.0)
    return heat + 2.0 * box


def plate_match(found, truth, iou_min: float = 0.5) -> bool:
    """Whether ``found`` boxes are exactly the ``truth`` boxes (one-to-one, IoU > iou_min)."""
    from ..geometry import iou

    if len(found) != len(truth):
        return False
    return all(iou(a, b) > iou_min for a, b in zip(found, truth))


def evaluate(outputs: np.ndarray, data: GlyphSet, idx, threshold: float) -> dict:
    """Share of plates whose glyphs are all found and nothing else, and box recall."""
    from ..geometry import iou

    exact, hit, total = 0, 0, 0
    for out, i in zip(outputs, idx):
        truth, w, h = data.boxes[i]
        found, _ = decode_columns(out, w, h, threshold)
        exact += plate_match(found, truth)
        total += len(truth)
        hit += sum(any(iou(f, t) > 0.5 for f in found) for t in truth)
    n = max(1, len(idx))
    return {"plates": len(idx), "exact": exact / n, "box_recall": hit / max(1, total)}


def choose_threshold(outputs: np.ndarray, data: GlyphSet, idx) -> tuple[float, dict]:
    best: tuple[float, dict] | None = None
    for th in np.round(np.arange(0.2, 0.81, 0.05), 2):
        r = evaluate(outputs, data, idx, float(th))
        if best is None or r["exact"] > best[1]["exact"]:
            best = (float(th), r)
    assert best is not None  # the grid is not empty
    return best


def fit(x_tr, y_tr, x_va, y_va, *, epochs: int, seed: int, batch_size: int = 64, patience: int = 3,
        on_epoch=None):
    """Train one seed; returns (model, history, seconds, best_epoch)."""
    import time

    from ..errors import require

    keras = require("keras", "train")
    keras.utils.set_random_seed(seed)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=loss_fn)
    cbs = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    if on_epoch is not None:
        cbs.append(keras.callbacks.LambdaCallback(on_epoch_end=on_epoch))
    t0 = time.perf_counter()
    hist = model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=batch_size,
                     shuffle=True, verbose=0, callbacks=cbs)
    losses = hist.history["val_loss"]
    return model, hist.history, time.perf_counter() - t0, int(np.argmin(losses)) + 1

"""Training the whole-plate reader (`anpr.plate_ocr`): data, model, fit, export.

Data: synthetic plates of many countries (`anpr.train.wholeplate`, drawn in parallel
worker processes) and every real labelled plate of the *fit* part of the given folders
(plate crops as they are, scene plates cut at their labelled boxes plus a margin),
each real crop also in jittered copies (margins, blur, contrast). ``holdout`` leaves
one of ``folds`` groups of real plates out (grouped by plate text), so that
cross-validation reads plates the model never saw.

Model: four convolution blocks (batch norm, LeakyReLU, pooling to `STEPS` columns),
two 1-D convolutions along the plate and a dense layer to blank + `ALPHABET`; trained
with CTC loss. TensorFlow/Keras is imported inside the functions only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..plate_ocr import ALPHABET, INPUT_H, INPUT_W, STEPS, encode, to_input

MAX_LEN = 10
"""Longest plate text trained on (longer labels are skipped)."""

CV_SALT = "ocr-cv:"
"""Salt of the hash that puts a real plate into one of the cross-validation folds."""


def fold_of(text: str, folds: int) -> int:
    """The cross-validation fold of a plate text (`anpr.split.hash_percent`).

    >>> fold_of("7ABC123", 2) in (0, 1)
    True
    """
    from ..split import hash_percent

    return hash_percent(text, CV_SALT) % folds


@dataclass
class OcrSet:
    """Inputs ``x`` (uint8, ``(N, INPUT_H, INPUT_W)``, the reader's input times 255),
    texts and the source of each example."""

    x: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, crop: np.ndarray, text: str, source: str) -> None:
        if not text or len(text) > MAX_LEN:
            return
        self.x.append(np.round(to_input([crop])[0, :, :, 0] * 255).astype(np.uint8))
        self.texts.append(text.upper())
        self.sources.append(source)

    def extend(self, other: OcrSet) -> None:
        self.x += other.x
        self.texts += other.texts
        self.sources += other.sources

    def __len__(self) -> int:
        return len(self.texts)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Float inputs ``(N, INPUT_H, INPUT_W, 1)`` and labels ``(N, MAX_LEN)`` (0-padded)."""
        x = np.stack(self.x).astype(np.float32)[..., None] / 255.0
        y = np.zeros((len(self.texts), MAX_LEN), np.int32)
        for i, t in enumerate(self.texts):
            y[i, :len(t)] = encode(t)
        return x, y


def jitter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real crop cut again a little differently: margins from 6% inside to 12% outside
    (edges repeated), sometimes blurred, darker or lighter."""
    import cv2

    h, w = img.shape[:2]
    b = int(0.2 * max(h, w)) + 4
    big = cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_REPLICATE)
    dx0, dx1 = (int(v * w) for v in rng.uniform(-0.12, 0.06, 2))
    dy0, dy1 = (int(v * h) for v in rng.uniform(-0.15, 0.1, 2))
    out = big[b + dy0:b + h - dy1, b + dx0:b + w - dx1]
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.3))
    if rng.random() < 0.3:  # smaller, as far plates are
        s = rng.uniform(0.3, 0.7)
        small = cv2.resize(out, (max(8, int(out.shape[1] * s)), max(6, int(out.shape[0] * s))),
                           interpolation=cv2.INTER_AREA)
        out = small
    out = out.astype(np.float32) * rng.uniform(0.7, 1.15) + rng.uniform(-20, 20)
    return np.clip(out + rng.normal(0, rng.uniform(0, 6), out.shape), 0, 255).astype(np.uint8)


def real_set(folders: Sequence[str | Path], *, copies: int = 3, holdout: int | None = None, folds: int = 2,
             seed: int = 0, progress: Callable[[int], None] | None = None) -> tuple[OcrSet, dict]:
    """Every fit plate of ``folders`` (`anpr.train.datasets.labelled_plates`), as it is
    and in ``copies`` jittered copies; with ``holdout``, the plates of that fold are left
    out. Returns the set and per-folder counts."""
    from .datasets import labelled_plates, plate_source

    rng = np.random.default_rng(seed)
    data, counts = OcrSet(), {}
    for folder in folders:
        src = plate_source(folder)
        n = 0
        for _path, img, text in labelled_plates(folder, part="fit"):
            if holdout is not None and fold_of(text, folds) == holdout:
                continue
            data.add(img, text, src)
            for _ in range(copies):
                data.add(jitter(img, rng), text, src)
            n += 1
            if progress:
                progress(1)
        counts[src] = n
    return data, counts


def _synth_chunk(args) -> tuple[list[np.ndarray], list[str], list[str]]:
    n, seed, templates_dir = args
    from .plates import load_templates
    from .wholeplate import synth_crops

    templates = load_templates(templates_dir) if templates_dir else None
    xs, texts, styles = [], [], []
    for crop, text, style in synth_crops(n, seed=seed, templates=templates):
        if len(text) <= MAX_LEN:
            xs.append(np.round(to_input([crop])[0, :, :, 0] * 255).astype(np.uint8))
            texts.append(text)
            styles.append("synthetic/" + style)
    return xs, texts, styles


def synthetic_set(n: int, seed: int = 0, templates: str | Path | None = None, workers: int | None = None,
                  progress: Callable[[int], None] | None = None, chunk: int = 500) -> OcrSet:
    """``n`` synthetic plate crops (`anpr.train.wholeplate.synth_crops`), drawn in
    ``workers`` processes (default: one per CPU) in chunks of ``chunk`` with seeds
    ``seed * 100000 + k``: the same arguments give the same set."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(min(chunk, n - i), seed * 100000 + k, str(templates) if templates else None)
            for k, i in enumerate(range(0, n, chunk))]
    data = OcrSet()
    workers = workers or os.cpu_count() or 1
    def collect(results) -> OcrSet:
        for xs, texts, styles in results:
            data.extend(OcrSet(xs, texts, styles))
            if progress:
                progress(len(texts))
        return data

    if workers == 1 or len(jobs) == 1:
        return collect(map(_synth_chunk, jobs))
    with ProcessPoolExecutor(workers) as pool:
        return collect(pool.map(_synth_chunk, jobs))


def build_model(dropout: float = 0.2):
    """The CTC reader: ``(INPUT_H, INPUT_W, 1)`` -> logits ``(STEPS, 1 + len(ALPHABET))``."""
    import keras
    from keras import layers

    inp = keras.Input((INPUT_H, INPUT_W, 1))
    z = inp
    for filters, pool in ((32, (2, 2)), (64, (2, 2)), (96, (2, 1)), (128, None)):
        z = layers.Conv2D(filters, 3, padding="same", use_bias=False)(z)
        z = layers.LeakyReLU(0.1)(layers.BatchNormalization()(z))
        if pool:
            z = layers.MaxPooling2D(pool)(z)
    h = INPUT_H // 8
    z = layers.Reshape((STEPS, h * 128))(layers.Permute((2, 1, 3))(z))
    z = layers.Conv1D(192, 3, padding="same", activation="relu")(layers.Dropout(dropout)(z))
    z = layers.Conv1D(192, 3, padding="same", activation="relu")(layers.Dropout(dropout)(z))
    out = layers.Dense(len(ALPHABET) + 1)(layers.Dropout(dropout)(z))
    return keras.Model(inp, out, name="plate_ocr")


def with_softmax(model):
    """``model`` with a softmax on its logits: the file the reader loads."""
    import keras
    from keras import layers

    return keras.Model(model.input, layers.Softmax()(model.output), name="plate_ocr_probs")


def fit(train: OcrSet, val: OcrSet, out: Path, *, epochs: int, seed: int = 0, batch_size: int = 64,
        resume: bool = False, lr: float = 2e-3, log: Callable[[str], None] = print) -> dict:
    """Fit (or, with ``resume``, go on fitting) the reader; after every epoch the model is
    saved to ``out/ocr_last.keras`` and, when its validation loss is the best so far, to
    ``out/ocr_best.keras``; ``out/ocr_state.json`` records the epochs done. Returns the
    state."""
    import keras

    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "ocr_state.json"
    state: dict[str, Any] = {"epoch": 0, "best": float("inf"), "history": []}
    keras.utils.set_random_seed(seed)
    if resume and (out / "ocr_last.keras").is_file() and state_path.is_file():
        state = json.loads(state_path.read_text())
        model = keras.saving.load_model(out / "ocr_last.keras", compile=False)
        log(f"resuming after epoch {state['epoch']}")
    else:
        model = build_model()
    x_tr, y_tr = train.arrays()
    x_va, y_va = val.arrays()
    steps = int(np.ceil(len(x_tr) / batch_size)) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=keras.losses.CTC())
    model.optimizer.iterations.assign(int(np.ceil(len(x_tr) / batch_size)) * state["epoch"])
    rng = np.random.default_rng(seed + state["epoch"])
    from .export import save_keras

    for epoch in range(state["epoch"], epochs):
        perm = rng.permutation(len(x_tr))
        h = model.fit(x_tr[perm], y_tr[perm], batch_size=batch_size, epochs=1, verbose=0,
                      validation_data=(x_va, y_va))
        loss, vloss = float(h.history["loss"][0]), float(h.history["val_loss"][0])
        state["epoch"] = epoch + 1
        state["history"].append({"epoch": epoch + 1, "loss": loss, "val_loss": vloss})
        save_keras(model, out / "ocr_last.keras")
        if vloss < state["best"]:
            state["best"] = vloss
            save_keras(model, out / "ocr_best.keras")
        state_path.write_text(json.dumps(state, indent=1))
        log(f"epoch {epoch + 1}/{epochs}: loss {loss:.3f}, val_loss {vloss:.3f}")
    return state


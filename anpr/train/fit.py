"""Fitting the CNN: seeded, class-weighted, early-stopped on a grouped validation split."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..normalize import CLASSES


@dataclass
class FitResult:
    model: Any  # a Keras model
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    epochs_run: int = 0
    best_epoch: int = 0


def set_seed(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)


def class_weights(y: np.ndarray, num_classes: int = len(CLASSES), cap: float = 5.0) -> dict[int, float]:
    """Inverse-frequency weights, capped so rare classes are not over-fitted.

    >>> w = class_weights(np.array([0, 0, 0, 1]), num_classes=2)
    >>> round(w[1] / w[0], 2)
    3.0
    """
    counts = np.bincount(y, minlength=num_classes).astype(float)
    present = counts > 0
    w = np.ones(num_classes)
    w[present] = counts[present].mean() / counts[present]
    w = np.clip(w, 1.0 / cap, cap)
    return {i: float(v) for i, v in enumerate(w)}


LOOKALIKES = (("0", "O"), ("1", "I"))
"""Class pairs that some plate fonts draw identically (Brazil's, for both pairs)."""


def pair_weights(y: np.ndarray, pairs=LOOKALIKES, num_classes: int = len(CLASSES), cap: float = 5.0) -> np.ndarray:
    """Per-class weights that give both members of each look-alike pair equal total weight.

    Other classes keep weight 1. For a glyph that a font draws the same for both
    classes, the CNN then spreads its probability about evenly over the pair instead
    of almost all on the commoner class, so the plate-format decoder (which knows
    whether a position holds a letter or a digit) can still pick the rarer one.

    >>> w = pair_weights(np.array([0] * 30 + [24] * 10))
    >>> float(w[0]), float(w[24]), float(w[5])
    (0.6666666666666666, 2.0, 1.0)
    """
    counts = np.bincount(y, minlength=num_classes).astype(float)
    w = np.ones(num_classes)
    for a, b in pairs:
        i, j = CLASSES.index(a), CLASSES.index(b)
        if counts[i] and counts[j]:
            total = counts[i] + counts[j]
            w[i] = np.clip(total / (2 * counts[i]), 1 / cap, cap)
            w[j] = np.clip(total / (2 * counts[j]), 1 / cap, cap)
    return w


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    seed: int = 0,
    patience: int = 5,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
    model=None,
    weighting: str = "half-pairs",
) -> FitResult:
    """Train the CNN; return the weights of the best validation epoch.

    Parameters
    ----------
    x_train, x_val : ndarray
        ``(N, 28, 28, 1)`` float32 batches from `anpr.normalize.normalize_batch`.
    y_train, y_val : ndarray
        Class indices.
    augment : callable
        ``augment(batch, rng) -> batch`` applied to each training batch (on normalized
        crops), or None.
    on_epoch : callable
        Called with ``(epoch, logs)`` after each epoch (progress display).
    weighting : {"pairs", "half-pairs", "none", "balanced"}
        Class weights: ``pairs`` balances the look-alike pairs only (see
        `pair_weights`); ``half-pairs`` (default) uses the square root of those
        weights, which read the most plates end to end here: full balancing made the
        Brazilian decoder pick Mercosur readings (``ABC1I23``) of old plates, no
        balancing left so little probability on ``O``/``I`` that the decoder dropped
        those characters;
        ``balanced`` weights every class by inverse frequency (capped);
        ``none`` keeps the data's class frequencies.
    """
    import keras

    from .model import build_model

    set_seed(seed)
    if model is None:
        model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    if weighting == "pairs":
        sw_table = pair_weights(y_train).astype(np.float32)
    elif weighting == "half-pairs":
        sw_table = np.sqrt(pair_weights(y_train)).astype(np.float32)
    elif weighting == "balanced":
        weights = class_weights(y_train)
        sw_table = np.array([weights[i] for i in range(len(CLASSES))], np.float32)
    elif weighting == "none":
        sw_table = np.ones(len(CLASSES), np.float32)
    else:
        raise ValueError(f"weighting must be 'pairs', 'half-pairs', 'none' or 'balanced', got {weighting!r}")

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch, dict(logs or {}))

    if len(x_train) == 0:
        raise ValueError("no training crops")
    batch_size = max(1, min(batch_size, len(x_train)))

    def batches():
        n = len(x_train)
        while True:
            order = rng.permutation(n)
            for s in range(0, n - batch_size + 1, batch_size):
                idx = order[s : s + batch_size]
                xb = x_train[idx]
                if augment is not None:
                    xb = augment(xb, rng)
                yb = y_train[idx]
                yield xb.astype(np.float32), yb, sw_table[yb]

    steps = max(1, len(x_train) // batch_size)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=2, min_lr=1e-5)
    t0 = time.perf_counter()
    hist = model.fit(
        batches(),
        steps_per_epoch=steps,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[stop, lr, Progress()],
        verbose=0,
    )
    seconds = time.perf_counter() - t0
    h = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    best = int(np.argmin(h["val_loss"])) + 1 if h.get("val_loss") else len(h.get("loss", []))
    return FitResult(model, h, seconds, len(h.get("loss", [])), best)

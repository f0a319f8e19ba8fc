"""The 36-class character CNN (Keras 3)."""

from __future__ import annotations

from ..normalize import CLASSES, SIZE


def build_model(
    num_classes: int = len(CLASSES),
    size: int = SIZE,
    filters: tuple[int, ...] = (32, 64, 128),
    dense: int = 256,
    dropout: float = 0.25,
    head_dropout: float = 0.4,
    convs_per_block: int = 1,
):
    """Conv blocks (3x3 conv, BatchNorm, LeakyReLU, 2x2 max-pool, dropout), dense head.

    The model reads ``(N, size, size, 1)`` float32 from `anpr.normalize.normalize_batch`
    and returns class probabilities in `CLASSES` order.
    """
    from ..errors import require

    keras = require("keras", "train")
    layers = keras.layers

    inputs = keras.Input((size, size, 1), name="chars")
    x = inputs
    for i, f in enumerate(filters):
        # One convolution per block by default: a second one tripled the time per epoch
        # (56 s vs 18 s on the shared 2-core machine), more than the 20-minute training
        # budget allows for a full run.
        for j in range(convs_per_block):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i}_{j}")(x)
            x = layers.BatchNormalization(name=f"bn{i}_{j}")(x)
            x = layers.LeakyReLU(0.1, name=f"act{i}_{j}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = layers.Dropout(dropout, name=f"drop{i}")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(dense, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="bn_fc")(x)
    x = layers.LeakyReLU(0.1, name="act_fc")(x)
    x = layers.Dropout(head_dropout, name="drop_fc")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="anpr_chars")

"""Averaging character CNNs trained with different seeds into one model file.

Single training runs of the character CNN differ by several plates read on the
development scenes; the mean of the class probabilities of a few seeds is steadier
than any one of them and better calibrated, which the decoder's choices between
hypotheses and formats rely on. The members keep the thesis architecture; the
averaged model is one ONNX file, read exactly as a single CNN.
"""

from __future__ import annotations

from collections.abc import Sequence


def average_models(members: Sequence, name: str = "anpr_chars_mean"):
    """One Keras model whose output is the mean of the members' class probabilities.

    Parameters
    ----------
    members : sequence of keras.Model
        Two or more models with the same input shape and output size (the character
        CNN of `anpr.train.model.build_model`, trained with different seeds).

    Raises
    ------
    ValueError
        When fewer than two members are given or their input or output shapes differ.
    """
    import keras

    members = list(members)
    if len(members) < 2:
        raise ValueError(f"average_models needs at least two models, got {len(members)}")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"members differ in input/output shape: {sorted(shapes)}")
    (in_shape, _), = shapes
    inputs = keras.Input(in_shape, name="chars")
    # Each member becomes one named layer of the mean model (they share layer names).
    outs = [keras.Model(m.input, m.output, name=f"member{k}")(inputs) for k, m in enumerate(members)]
    return keras.Model(inputs, keras.layers.Average(name="probs_mean")(outs), name=name)


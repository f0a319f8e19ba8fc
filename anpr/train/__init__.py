"""Training and evaluating the character CNN (needs the ``train`` extra).

Modules: `datasets` (class folders, plate crops, grouped split), `synth` (font glyphs),
`augment` (batch distortions), `model` (the Keras CNN), `fit` (training), `export`
(Keras + ONNX with a parity check), `evaluate` (scores, figures), `cli` (``anpr train``,
``anpr evaluate``). Nothing here is imported when reading plates.
"""

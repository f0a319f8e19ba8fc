"""The learned glyph finder: target encoding, the shipped model, training end to end."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from anpr.glyphs import COLUMNS, GlyphFinder, decode_columns, default_glyphs_path, encode_boxes, to_input


@settings(max_examples=50, deadline=None)
@given(st.integers(4, 8), st.integers(60, 400), st.integers(20, 200), st.data())
def test_encoded_boxes_decode_back(n, width, height, data):
    # glyphs spread over the plate, at least two output columns apart
    step = width / n
    if step * 144 / width < 8:
        return
    boxes = []
    for k in range(n):
        w = data.draw(st.integers(max(2, int(step * 0.3)), max(2, int(step * 0.8))))
        x = int(k * step + (step - w) / 2)
        y = data.draw(st.integers(0, height // 4))
        h = data.draw(st.integers(height // 3, height - y))
        boxes.append((x, y, w, h))
    found, peaks = decode_columns(encode_boxes(boxes, width, height), width, height)
    assert len(found) == n and np.all(peaks == 1.0)
    from anpr.geometry import iou

    assert all(iou(a, b) > 0.7 for a, b in zip(found, boxes))


def test_input_is_standardized():
    x = to_input([np.random.default_rng(0).integers(0, 255, (40, 100, 3), np.uint8)])
    assert x.shape == (1, 48, 144, 1) and abs(float(x.mean())) < 1e-3


@pytest.mark.skipif(not default_glyphs_path().is_file(), reason="no shipped glyph model")
def test_shipped_model_finds_the_glyphs_of_synthetic_plates():
    from anpr.geometry import iou
    from anpr.train.plates import synth_plates

    finder = GlyphFinder()
    assert 0.0 < finder.threshold < 1.0
    plates = list(synth_plates(40, seed=123, eu_share=0.3))
    hit = total = exact = 0
    for p in plates:
        found, _ = finder.find(p.image)
        matched = [any(iou(f, t) > 0.5 for f in found) for t in p.boxes]
        hit += sum(matched)
        total += len(p.boxes)
        exact += len(found) == len(p.boxes) and all(matched)
    assert hit / total > 0.9 and exact / len(plates) > 0.6
    assert finder.columns([]).shape == (0, COLUMNS, 5)


def test_bad_model_file_is_a_model_error(tmp_path):
    from anpr.errors import ModelError

    bad = tmp_path / "glyphs.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="not a usable glyph model"):
        GlyphFinder(bad)
    with pytest.raises(ModelError, match="not found"):
        GlyphFinder(tmp_path / "missing.onnx")


@pytest.mark.slow
def test_train_glyphs_end_to_end(tmp_path):
    pytest.importorskip("keras")
    from click.testing import CliRunner

    from anpr.cli import main

    plates = tmp_path / "plates"
    r = CliRunner().invoke(main, ["synth-plates", "--out", str(plates), "-n", "80", "--seed", "5", "--sheet-size", "0"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "model"
    r = CliRunner().invoke(main, ["train-glyphs", str(plates), "--out", str(out), "--synthetic", "60",
                                  "--epochs", "1", "--seeds", "1"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "glyphs.json").read_text())
    assert info["onnx_parity_max_abs"] < 1e-4 and 0.2 <= info["threshold"] <= 0.8
    assert (out / "GLYPHS.md").read_text().startswith("# Glyph finder")
    GlyphFinder(out / "glyphs.onnx").find(np.zeros((40, 100, 3), np.uint8))


def test_reader_takes_a_glyph_finder_or_none():
    from anpr.reader import PlateReader

    assert PlateReader(glyphs=False).glyphs is None
    with pytest.raises(ValueError, match="glyphs must be"):
        PlateReader(glyphs=123)
    if default_glyphs_path().is_file():
        assert isinstance(PlateReader().glyphs, GlyphFinder)

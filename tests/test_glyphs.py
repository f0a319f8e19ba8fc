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
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parents[1] / "samples" / "eu-test_021.jpg", scenes / "car.jpg")
    (scenes / "labels.csv").write_text("image,x,y,w,h,plate\ncar.jpg,150,225,150,45,RK855AP\n")
    out = tmp_path / "model"
    r = CliRunner().invoke(main, ["train-glyphs", str(plates), "--out", str(out), "--synthetic", "60",
                                  "--scenes", str(scenes), "--epochs", "1", "--seeds", "1"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "glyphs.json").read_text())
    assert info["onnx_parity_max_abs"] < 1e-4 and 0.2 <= info["threshold"] <= 0.8
    assert info["examples"]["real"]["plates/scenes/reader"]["photos_labelled"] == 1
    assert "--scenes" in info["command"] and info["reader_sources"] == ["plates/scenes"]
    card = (out / "GLYPHS.md").read_text()
    assert card.startswith("# Glyph finder") and "as the reader crops them" in card
    GlyphFinder(out / "glyphs.onnx").find(np.zeros((40, 100, 3), np.uint8))


def test_reader_takes_a_glyph_finder_or_none():
    from anpr.reader import PlateReader

    assert PlateReader(glyphs=False).glyphs is None
    with pytest.raises(ValueError, match="glyphs must be"):
        PlateReader(glyphs=123)
    if default_glyphs_path().is_file():
        assert isinstance(PlateReader().glyphs, GlyphFinder)


def test_reader_crops_label_the_readers_own_crops(tmp_path):
    import shutil
    from pathlib import Path

    from anpr.reader import PlateReader
    from anpr.train.glyphs import GlyphSet, add_reader_crops, reader_crops

    sample = Path(__file__).resolve().parents[1] / "samples" / "eu-test_021.jpg"
    shutil.copy(sample, tmp_path / "car.jpg")
    reader = PlateReader()
    (tmp_path / "labels.csv").write_text("image,x,y,w,h,plate\ncar.jpg,150,225,150,45,RK855AP\n")
    crops = list(reader_crops(tmp_path, reader, part=None))
    assert crops
    for path, crop, text, boxes in crops:
        assert path.name == "car.jpg" and text == "RK855AP" and len(boxes) == 7 and crop.ndim == 2
        xs = [b[0] for b in boxes]
        assert xs == sorted(xs) and max(x + w for x, _, w, _ in boxes) <= crop.shape[1] + 3
    # a label no hypothesis spells labels nothing
    (tmp_path / "labels.csv").write_text("image,x,y,w,h,plate\ncar.jpg,150,225,150,45,ZZ999ZZ\n")
    assert list(reader_crops(tmp_path, reader, part=None)) == []
    # the fit part only, by default (this label is in the fit part)
    from anpr.split import part_of

    (tmp_path / "labels.csv").write_text("image,x,y,w,h,plate\ncar.jpg,150,225,150,45,RK855AP\n")
    data = GlyphSet()
    stats = add_reader_crops(data, tmp_path, reader, np.random.default_rng(0))
    assert stats["photos_labelled"] == (1 if part_of("RK855AP") == "fit" else 0)
    assert 1 <= len(data) <= 2 * stats["crops"] and set(data.sources) <= {f"plates/{tmp_path.name}/reader"}
    with pytest.raises(ValueError, match="not a scene folder"):
        (tmp_path / "labels.csv").write_text("image,plate\ncar.jpg,RK855AP\n")
        list(reader_crops(tmp_path, reader, part=None))

"""The whole-plate reader: its data engine, CTC decoding, the shipped model, training end to end."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anpr.plate_ocr import (
    ALPHABET,
    INPUT_H,
    INPUT_W,
    STEPS,
    PlateOCR,
    align,
    beam_readings,
    default_ocr_path,
    encode,
    greedy,
    log_likelihood,
    to_input,
)
from anpr.train.wholeplate import STYLES, draw_plate, reader_crop, synth_crops

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _peaked(text: str, steps: int = STEPS, seed: int = 0) -> np.ndarray:
    """Log-probabilities that spell ``text`` (one or two steps a character, blanks between)."""
    rng = np.random.default_rng(seed)
    p = np.full((steps, len(ALPHABET) + 1), 1e-3)
    t = 1
    for c in encode(text):
        for _ in range(int(rng.integers(1, 3))):
            p[t, c] = 1.0
            t += 1
        p[t, 0] = 1.0
        t += 1
    p[np.flatnonzero(p.max(axis=1) < 1), 0] = 1.0
    return np.log(p / p.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_draws_its_text_in_its_boxes(style):
    rng = np.random.default_rng(7)
    for _ in range(3):
        p = draw_plate(style, rng)
        assert p.text.isalnum() and 1 <= len(p.text) <= 10
        assert len(p.boxes) == len(p.text)
        h, w = p.image.shape[:2]
        xs = [b[0] for b in p.boxes]
        assert xs == sorted(xs), "boxes in reading order"
        for x, y, bw, bh in p.boxes:
            assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h and bw >= 1 and bh >= 2
            # a glyph's box holds ink: darker or lighter than the plate around it
            cell = p.image[y:y + bh, x:x + bw].astype(float)
            assert cell.std() > 5


def test_labels_match_what_is_drawn_vanity_and_hyphens():
    rng = np.random.default_rng(3)
    for style in ("fr", "nl", "us_vanity"):
        for _ in range(5):
            p = draw_plate(style, rng)
            assert "-" not in p.text and " " not in p.text
            assert len(p.boxes) == len(p.text)


def test_reader_crop_keeps_every_glyph():
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = draw_plate("de", rng)
        c = reader_crop(p, rng)
        assert c.ndim == 3 and c.shape[0] >= 8 and c.shape[1] >= 8


def test_synthetic_crops_are_reproducible_and_mixed():
    a = [(c.shape, t, s) for c, t, s in synth_crops(12, seed=5)]
    b = [(c.shape, t, s) for c, t, s in synth_crops(12, seed=5)]
    assert a == b
    assert len({s for _, _, s in a}) >= 4
    with pytest.raises(ValueError, match="unknown styles"):
        list(synth_crops(1, weights={"atlantis": 1.0}))


def test_input_shape_and_range():
    x = to_input([np.random.default_rng(0).integers(0, 255, (30, 120, 3), np.uint8), np.zeros((200, 600), np.uint8)])
    assert x.shape == (2, INPUT_H, INPUT_W, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    with pytest.raises(ValueError, match="at least 2x2"):
        to_input([np.zeros((1, 5), np.uint8)])


def test_encode_rejects_separators():
    with pytest.raises(ValueError, match="other than A-Z"):
        encode("AB-12")


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=9), st.integers(0, 100))
def test_decoders_read_back_a_peaked_sequence(text, seed):
    lp = _peaked(text, seed=seed)
    assert greedy(np.exp(lp)) == text
    best, score = beam_readings(lp, k=3)[0]
    assert best == text
    assert score == pytest.approx(log_likelihood(lp, text), abs=1e-6)
    spans = align(lp, text)
    assert len(spans) == len(text)
    assert spans[0][0] >= 0 and spans[-1][1] <= STEPS
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "spans do not overlap"
    assert all(a < b for a, b in spans)


def test_forward_algorithm_sums_every_alignment():
    # brute force over all paths of a short sequence
    rng = np.random.default_rng(1)
    T, C = 5, 4
    z = rng.normal(size=(T, C))
    lp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = {}
    for path in itertools.product(range(C), repeat=T):
        out, prev = [], 0
        for c in path:
            if c != prev and c != 0:
                out.append(c)
            prev = c
        key = tuple(out)
        want[key] = np.logaddexp(want.get(key, -np.inf), sum(lp[t, c] for t, c in enumerate(path)))
    text = "01"  # classes 1 and 2
    assert log_likelihood(lp, text) == pytest.approx(want[(1, 2)], abs=1e-9)
    best = max(want, key=want.get)
    text, score = beam_readings(lp, k=1, beam=40)[0]
    assert tuple("012".index(c) + 1 for c in text) == best and score == pytest.approx(want[best], abs=1e-9)


def test_beam_search_rejects_bad_sizes():
    with pytest.raises(ValueError):
        beam_readings(np.zeros((3, 36)), k=0)


@pytest.mark.skipif(not default_ocr_path().is_file(), reason="no shipped whole-plate reader")
def test_shipped_model_reads_synthetic_plates():
    reader = PlateOCR()
    rng = np.random.default_rng(2024)
    right = 0
    n = 40
    for crop, text, _ in synth_crops(n, seed=9999):
        got = reader.read(crop, k=3)
        assert got and all(len(r.spans) == len(r.text) for r in got)
        assert got[0].logp >= got[-1].logp
        w = crop.shape[1]
        assert all(0 <= a < b <= w + 1 for r in got for a, b in r.spans)
        right += got[0].text == text.replace("O", "0")
    assert right >= 0.7 * n, f"read {right} of {n} synthetic plates"
    del rng


@pytest.mark.skipif(not default_ocr_path().is_file(), reason="no shipped whole-plate reader")
def test_shipped_model_card_and_parity():
    info = json.loads(default_ocr_path().with_suffix(".json").read_text())
    assert info["onnx_max_abs_diff"] < 1e-3
    assert "command" in info and "train-ocr" in info["command"]


@pytest.mark.skipif(not (DATA / "plates" / "ar").is_dir(), reason="shared data absent")
def test_training_end_to_end_writes_a_model_that_loads(tmp_path):
    from click.testing import CliRunner

    from anpr.train.ocr_cli import train_ocr

    res = CliRunner().invoke(train_ocr, [str(DATA / "plates" / "ar"), "--out", str(tmp_path), "--synthetic", "300",
                                         "--copies", "0", "--epochs", "1", "--holdout", "1"])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "plate_ocr.json").read_text())
    assert info["holdout"] == {"fold": 1, "folds": 2} and info["epochs"] == 1
    assert info["onnx_max_abs_diff"] < 1e-3
    reader = PlateOCR(tmp_path / "plate_ocr.onnx")
    assert reader.log_probs([np.zeros((30, 90), np.uint8)]).shape == (1, STEPS, len(ALPHABET) + 1)
    # --resume goes on from the checkpoint: one more epoch
    res = CliRunner().invoke(train_ocr, [str(DATA / "plates" / "ar"), "--out", str(tmp_path), "--synthetic", "300",
                                         "--copies", "0", "--epochs", "2", "--holdout", "1", "--resume"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "plate_ocr.json").read_text())["epochs"] == 2


def test_bad_holdout_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from anpr.train.ocr_cli import train_ocr

    res = CliRunner().invoke(train_ocr, [str(tmp_path), "--holdout", "3", "--folds", "2"])
    assert res.exit_code != 0 and "--holdout must be below --folds" in res.output

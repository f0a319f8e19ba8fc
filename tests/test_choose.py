"""The reading chooser (anpr.choose) and its training (anpr train-chooser)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from anpr.choose import FEATURES, Chooser, features, load_chooser
from anpr.errors import ModelError

from conftest import subset_folder


def _x(n: int = 3) -> np.ndarray:
    return features([0.9, 0.5, 0.2][:n], [0.8, 0.6, 0.5][:n], ["ABC123", "ABC1234", "A8C123"][:n],
                    [np.full(6, 0.9), np.full(7, 0.6), np.full(6, 0.3)][:n], [True, False, True][:n],
                    [False, False, True][:n], [0, 1, 2][:n])


def test_features_describe_each_hypothesis():
    x = _x()
    assert x.shape == (3, len(FEATURES))
    col = dict(zip(FEATURES, x.T))
    assert col["log_confidence_ratio"][0] == 0.0 and (col["log_confidence_ratio"][1:] < 0).all()
    np.testing.assert_array_equal(col["length"], [6, 7, 6])
    np.testing.assert_array_equal(col["boxes_left_out"], [0, 1, 2])
    np.testing.assert_allclose(col["min_char_p"], [0.9, 0.6, 0.3])
    # A8C123 is another text than ABC123 (only O and 0 are merged): each agrees with itself alone.
    np.testing.assert_allclose(col["agreement"], [1 / 3] * 3)


def test_features_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="confidences has 1 entries for 2 texts"):
        features([0.5], [0.5, 0.5], ["AB12", "AB13"], [np.ones(4)] * 2, [True] * 2, [False] * 2, [0, 0])
    assert features([], [], [], [], [], [], []).shape == (0, len(FEATURES))


def test_chooser_keeps_the_best_score_and_validates_its_weights():
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("boxes_left_out")] = 1.0
    assert Chooser(w).choose(_x()) == 2
    assert Chooser(-w).choose(_x()) == 0
    with pytest.raises(ValueError, match="need 12 weights"):
        Chooser([1.0, 2.0])


def test_chooser_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "chooser.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="chooser.json: not a usable chooser"):
        Chooser.from_file(bad)
    bad.write_text(json.dumps({"features": ["x"], "weights": [1.0], "bias": 0.0}))
    with pytest.raises(ModelError, match="not anpr.choose.FEATURES"):
        Chooser.from_file(bad)


def test_shipped_chooser_loads_with_its_card():
    c = load_chooser()
    assert c.weights.shape == (len(FEATURES),) and c.info["features"] == list(FEATURES)
    assert c.info["plates"] > 0 and "train-chooser" in c.info["command"]
    # More probable characters make a reading likelier right: the sign a fit must find.
    assert c.weights[FEATURES.index("mean_char_p")] > 0


def test_recognize_traces_hypotheses_and_the_chooser_can_be_switched_off(samples_dir, monkeypatch):
    from anpr.images import load_image
    from anpr.reader import PlateReader
    from anpr.recognize import recognize_plate

    from anpr import localize as L

    reader = PlateReader()
    gray = L.to_gray(load_image(samples_dir / "eu-test_021.jpg"))
    cand = reader.rank_candidates(gray)[0]
    img, _ = L.rectify(gray, cand.row if cand.row is not None else cand.corners)
    # Count the chooser's decisions: both readings give RK855AP, so only the calls tell
    # whether chooser=False is honoured.
    calls: list = []
    choose = Chooser.choose
    monkeypatch.setattr(Chooser, "choose", lambda self, x: calls.append(len(x)) or choose(self, x))
    trace: list = []
    chosen = recognize_plate(img, reader.classifier, None, reader.glyphs, trace=trace)
    assert len(calls) == 1
    plain = recognize_plate(img, reader.classifier, None, reader.glyphs, chooser=False, trace=trace)
    assert len(calls) == 1, "chooser=False still asked the chooser"
    assert chosen is not None and plain is not None
    texts, x = trace[0]
    assert len(texts) >= 2 and x.shape == (len(texts), len(FEATURES))
    assert trace[1][0] == texts  # the same hypotheses, traced without choosing
    assert chosen.text == "RK855AP" == plain.text
    # The reader passes its own chooser, loaded when it was built.
    assert reader.chooser is load_chooser()
    reader.read(samples_dir / "eu-test_021.jpg")
    assert len(calls) > 1


def test_a_broken_chooser_fails_when_the_reader_is_built(tmp_path, monkeypatch):
    from anpr import choose
    from anpr.reader import PlateReader

    bad = tmp_path / "chooser.json"
    bad.write_text("{not json")
    monkeypatch.setattr(choose, "default_chooser_path", lambda: bad)
    load_chooser.cache_clear()
    try:
        with pytest.raises(ModelError, match="chooser.json: not a usable chooser"):
            PlateReader()
    finally:
        load_chooser.cache_clear()


def test_fit_learns_which_hypotheses_are_right():
    from anpr.train.chooser import Hypotheses, accuracy, fit

    rng = np.random.default_rng(0)
    plates = []
    for i in range(200):
        x = rng.normal(size=(3, len(FEATURES)))
        right = int(np.argmax(x[:, FEATURES.index("mean_char_p")]))
        # The most confident hypothesis is the right one only a third of the time.
        texts = ["WRONG1", "WRONG2", "WRONG3"]
        texts[right] = "AB123"
        plates.append(Hypotheses("plates/xx", "fit", "AB123", texts, x))
    w, b = fit(plates)
    assert w[FEATURES.index("mean_char_p")] > 0
    assert accuracy(plates, Chooser(w, b)) > 0.8 and accuracy(plates) < 0.5
    with pytest.raises(ValueError, match="no plate hypotheses"):
        fit([])


def test_train_chooser_writes_weights_and_card(data_dir, tmp_path):
    from anpr.cli import main

    folder = tmp_path / "plates" / "ar"
    subset_folder(data_dir / "plates" / "ar", folder, 40)
    out = tmp_path / "models"
    res = CliRunner().invoke(main, ["train-chooser", str(folder), "--out", str(out)])
    assert res.exit_code == 0, res.output
    c = Chooser.from_file(out / "chooser.json")
    assert c.info["plates"] > 0
    assert {r["source"] for r in c.info["results"]} == {"plates/ar", "plates/ar:ar"}
    card = (out / "CHOOSER.md").read_text()
    assert "anpr train-chooser" in card and "| plates/ar | fit |" in card

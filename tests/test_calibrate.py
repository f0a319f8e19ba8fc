"""The confidence calibration (anpr.calibrate), its fitting (anpr train-calibration) and
the benchmark's risk-coverage table and reliability diagram."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import subset_folder

from anpr.calibrate import FEATURES, Calibration, features, load_calibration
from anpr.errors import ModelError


def test_features_of_a_reading():
    f = dict(zip(FEATURES, features("ABC1234", 0.9, 0.99, [0.99, 0.5, 0.99, 0.99, 0.99, 0.99, 0.99])))
    assert f["judged"] == 1.0 and f["logit_plate_p"] == pytest.approx(np.log(99))
    assert f["logit_min_char_p"] == pytest.approx(0.0)
    assert f["fits_format"] == 1.0
    crop = dict(zip(FEATURES, features("A1B2", 0.9, None, [0.9] * 4)))
    assert crop["judged"] == 0.0 and crop["logit_plate_p"] == 0.0 and crop["fits_format"] == 0.0
    with pytest.raises(ValueError, match="score must be in"):
        features("ABC", 1.5, None, [0.9] * 3)


def test_calibration_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "calibration.json"
    bad.write_text("[1, 2")
    with pytest.raises(ModelError, match="calibration.json: not a usable calibration"):
        Calibration.from_file(bad)
    bad.write_text(json.dumps({"features": ["x"], "weights": [1.0], "bias": 0.0}))
    with pytest.raises(ModelError, match="not anpr.calibrate.FEATURES"):
        Calibration.from_file(bad)
    with pytest.raises(ValueError, match="need 7 weights"):
        Calibration([1.0])


def test_shipped_calibration_is_monotone_in_the_score():
    cal = load_calibration()
    assert "train-calibration" in cal.info["command"] and 0.9 < cal.threshold_99 < 1.0
    probs = [cal.probability(features("7ABC123", s, 0.99, [0.99] * 7)) for s in (0.3, 0.6, 0.9, 0.99)]
    assert probs == sorted(probs) and probs[0] < 0.6 < probs[-1]


def test_reported_plates_carry_calibrated_confidence_and_their_score(samples_dir):
    from anpr.reader import PlateReader

    photo = samples_dir / "br-PJU2853.jpg"
    on, off = PlateReader().read(photo), PlateReader(calibration=False).read(photo)
    assert [p.text for p in on] == [p.text for p in off] and on
    cal = load_calibration()
    for p, q in zip(on, off):
        assert p.score == q.score == q.confidence
        x = features(p.text, p.score, p.plate_p, [c.probability for c in p.chars])
        assert p.confidence == pytest.approx(cal.probability(x))
        assert p.to_dict()["score"] == round(p.score, 4)
    readings = PlateReader().readings(photo)
    assert all(r.score is None for r in readings)  # the readings weighed: still scores
    crop = PlateReader().read_crop(photo)
    assert crop and crop[0].score is not None
    with pytest.raises(ValueError, match="calibration must be"):
        PlateReader(calibration=3)


def test_risk_coverage_and_reliability():
    from anpr.benchmark import draw_reliability, format_risk_coverage, reliability, risk_coverage

    conf = [0.2, 0.6, 0.8, 0.95, 0.99, 0.999]
    exact = [False, False, True, True, True, True]
    rows = risk_coverage(conf, exact, labelled=8, thresholds=(0.5, 0.9, 0.9999))
    assert [r["n_kept"] for r in rows] == [5, 3, 0]
    assert rows[0]["exact"] == pytest.approx(0.8) and rows[1]["exact"] == 1.0 and np.isnan(rows[2]["exact"])
    assert rows[1]["plates_read"] == pytest.approx(3 / 8)
    rel = reliability(conf, exact, bins=5)
    assert sum(b["n"] for b in rel["bins"]) == 6 and 0 < rel["ece"] < 1
    assert draw_reliability(rel).shape == (400, 400, 3)
    text = format_risk_coverage(rows, rel["ece"])
    assert "0.90" in text and "expected calibration error" in text
    with pytest.raises(ValueError, match="differ in length"):
        risk_coverage([0.5], [True, False])


def test_train_calibration_writes_a_model_the_reader_uses(data_dir, tmp_path):
    from anpr.cli import main
    from anpr.reader import PlateReader

    crops = tmp_path / "us"
    rows = subset_folder(data_dir / "plates" / "us", crops, 60)
    scenes = tmp_path / "eu"
    subset_folder(data_dir / "scenes" / "eu", scenes, 12)
    out = tmp_path / "models"
    res = CliRunner().invoke(main, ["train-calibration", str(crops), str(scenes), "--out", str(out)])
    assert res.exit_code == 0, res.output
    info = json.loads((out / "calibration.json").read_text())
    assert info["features"] == list(FEATURES) and info["readings"] > 0
    assert {r["source"] for r in info["results"]} == {str(crops), str(scenes)}
    assert "threshold for 99% exact" in (out / "CALIBRATION.md").read_text()
    cal = Calibration.from_file(out / "calibration.json")
    plates = PlateReader(calibration=cal).read_crop(crops / rows[0]["image"])
    assert plates and all(0.0 <= p.confidence <= 1.0 and p.score is not None for p in plates)
    bad = CliRunner().invoke(main, ["train-calibration", str(tmp_path / "nowhere")])
    assert bad.exit_code != 0 and "no labels.csv" in bad.output


def test_benchmark_prints_risk_coverage_and_draws_reliability(data_dir, tmp_path):
    from anpr.benchmark import format_summary, run_benchmark

    crops = tmp_path / "us"
    subset_folder(data_dir / "plates" / "us", crops, 25)
    summary = run_benchmark([crops], crop=True, out_dir=tmp_path / "out")
    thresholds = [r["threshold"] for r in summary["risk_coverage"]]
    assert {0.5, 0.99, round(load_calibration().threshold_99, 3)} <= set(thresholds) and summary["reliability"]["n"] > 0
    assert (tmp_path / "out" / "reliability.png").is_file()
    assert "plates read" in format_summary(summary) and "ends -/+" in format_summary(summary)
    s = summary["sets"]["us"]
    assert s["end_dropped"] >= 0 and s["end_added"] >= 0

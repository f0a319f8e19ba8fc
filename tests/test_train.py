"""`anpr train` / `anpr evaluate` end to end on a tiny folder, and their errors."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

cv2 = pytest.importorskip("cv2")

from anpr.cli import main  # noqa: E402
from anpr.normalize import CLASSES  # noqa: E402


def _tiny_tree(root, classes="AB017", per_class=8, spacing=1):
    """A few dozen Hershey-font crops in class folders, two 'sources'."""
    rng = np.random.default_rng(0)
    for src in ("s1", "s2"):
        for ch in classes:
            d = root / src / ch
            d.mkdir(parents=True)
            for k in range(per_class):
                img = np.full((44, 30), int(rng.integers(180, 255)), np.uint8)
                cv2.putText(img, ch, (3, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.1, int(rng.integers(0, 60)), 2)
                cv2.imwrite(str(d / f"{src}-{k * spacing:05d}.png"), img)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("keras")
    pytest.importorskip("onnxruntime")
    root = tmp_path_factory.mktemp("train")
    data = _tiny_tree(root / "data")
    out = root / "model"
    r = CliRunner().invoke(
        main, ["train", str(data), "--out", str(out), "--epochs", "1", "--test-fraction", "0.3", "--seed", "1"]
    )
    assert r.exit_code == 0, r.output
    return data, out, r.output


@pytest.mark.slow
def test_train_writes_model_figures_and_card(trained):
    data, out, output = trained
    for name in ("chars.keras", "chars.onnx", "curves.png", "confusion.png", "predictions.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0, name
    card = (out / "MODEL_CARD.md").read_text()
    assert "anpr train" in card and "--epochs 1" in card and "O/0 merged" in card
    assert "x (" in output and "s1" in output and "s2" in output  # shapes and per-source counts shown
    meta = json.loads((out / "chars.json").read_text())
    assert meta["epochs_run"] == 1 and meta["test"]["n"] > 0


@pytest.mark.slow
def test_onnx_matches_keras(trained):
    import keras

    from anpr import CharClassifier
    from anpr.train.datasets import load_class_folders, to_arrays

    _, out, _ = trained
    x, _ = to_arrays(load_class_folders(trained[0]))
    want = keras.saving.load_model(out / "chars.keras").predict(x, verbose=0)
    got = CharClassifier(out / "chars.onnx").predict_normalized(x)
    assert got.shape == (len(x), len(CLASSES))
    assert np.abs(got - want).max() < 1e-4


@pytest.mark.slow
def test_evaluate_writes_report(trained, tmp_path):
    data, out, _ = trained
    r = CliRunner().invoke(
        main, ["evaluate", str(data), "--model", str(out / "chars.onnx"), "--split", "all", "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    assert "precision" in r.output and "accuracy (O/0 merged)" in r.output
    for name in ("confusion.png", "predictions.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["n"] == 80


def test_evaluate_bad_model_is_one_line(tmp_path):
    data = _tiny_tree(tmp_path / "d", classes="A", per_class=2)
    r = CliRunner().invoke(main, ["evaluate", str(data), "--model", str(tmp_path / "no.onnx")])
    assert r.exit_code != 0
    assert "no.onnx" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_missing_extra_is_one_line(tmp_path, monkeypatch):
    data = _tiny_tree(tmp_path / "d", classes="A", per_class=2)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import now fails
    monkeypatch.setitem(sys.modules, "sklearn.metrics", None)
    for cmd in (["evaluate", str(data)], ["train", str(data), "--out", str(tmp_path / "m")]):
        r = CliRunner().invoke(main, cmd)
        assert r.exit_code != 0
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and "anpr[train]" in lines[0], r.output


def test_train_needs_data():
    r = CliRunner().invoke(main, ["train", "--epochs", "1"])
    assert r.exit_code != 0 and "DATA" in r.output


@pytest.mark.slow
def test_evaluate_pairs_reports_separability(trained, tmp_path):
    pytest.importorskip("sklearn")
    _, out, _ = trained
    data = _tiny_tree(tmp_path / "d", classes="A0", per_class=12, spacing=25)  # one sheet group per crop
    r = CliRunner().invoke(main, ["evaluate", str(data), "--model", str(out / "chars.onnx"), "--split", "all",
                                  "--out", str(tmp_path / "ev"), "--pairs", "A0"])
    assert r.exit_code == 0, r.output
    # Hershey "A" and "0" differ: each source's crops separate them (12+12 crops each, 5 folds).
    lines = [ln for ln in r.output.splitlines() if "A vs 0" in ln]
    assert len(lines) == 2
    assert all(float(ln.split(":")[1].split()[0]) >= 0.9 for ln in lines), lines


def test_evaluate_bad_pairs_is_a_usage_error(tmp_path):
    data = _tiny_tree(tmp_path / "d", classes="A", per_class=2)
    r = CliRunner().invoke(main, ["evaluate", str(data), "--pairs", "O0,X"])
    assert r.exit_code == 2
    assert "'X'" in r.output and "Traceback" not in r.output


def test_separability_of_identical_glyphs_is_chance():
    pytest.importorskip("sklearn")
    from anpr.train.evaluate import separability

    rng = np.random.default_rng(1)
    x = rng.random((120, 28, 28, 1)).astype(np.float32)  # both classes from one distribution
    y = np.repeat([CLASSES.index("I"), CLASSES.index("1")], 60)
    acc, n = separability(x, y, [str(i) for i in range(120)], ("I", "1"))
    assert n == 60 and 0.3 <= acc <= 0.7
    with pytest.raises(ValueError, match="unknown class"):
        separability(x, y, [str(i) for i in range(120)], ("I", "?"))


@pytest.mark.slow
def test_train_seeds_writes_the_mean_of_its_members(tmp_path):
    keras = pytest.importorskip("keras")
    pytest.importorskip("onnxruntime")
    from anpr import CharClassifier
    from anpr.train.datasets import load_class_folders, to_arrays

    data = _tiny_tree(tmp_path / "data")
    out = tmp_path / "model"
    r = CliRunner().invoke(main, ["train", str(data), "--out", str(out), "--epochs", "1", "--test-fraction", "0.3",
                                  "--seed", "3", "--seeds", "2"])
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "chars.json").read_text())
    assert meta["seeds"] == 2 and [m["seed"] for m in meta["members"]] == [3, 4]
    assert "--seed 3 --seeds 2" in meta["command"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "mean of the class probabilities of 2" in card and "seed 4" in card
    x, _ = to_arrays(load_class_folders(data))
    mean = keras.saving.load_model(out / "chars.keras")
    members = [mean.get_layer(f"member{k}") for k in range(2)]
    each = [m.predict(x, verbose=0) for m in members]
    assert np.abs(each[0] - each[1]).max() > 1e-3  # two seeds, two different models
    got = CharClassifier(out / "chars.onnx").predict_normalized(x)
    assert np.abs(got - (each[0] + each[1]) / 2).max() < 1e-4


def test_train_far_needs_the_folder_among_plates(tmp_path):
    pytest.importorskip("keras")
    data = _tiny_tree(tmp_path / "data")
    plates = tmp_path / "plates"
    plates.mkdir()
    r = CliRunner().invoke(main, ["train", str(data), "--out", str(tmp_path / "m"), "--far", str(plates)])
    assert r.exit_code == 2 and "give the folder to --plates as well" in r.output
    assert "Traceback" not in r.output

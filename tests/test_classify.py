"""CharClassifier: the shipped model on real crops, its API, and its errors."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from anpr import CharClassifier, ModelError
from anpr.classify import default_model_path
from anpr.normalize import CLASSES, normalize_batch


@pytest.fixture(scope="module")
def clf():
    return CharClassifier()


def test_default_model_is_shipped():
    assert default_model_path().name == "chars.onnx"
    assert default_model_path().is_file()


def test_loading_does_not_import_the_training_stack():
    import subprocess

    code = (
        "import sys, anpr; anpr.CharClassifier().classify([__import__('numpy').zeros((9,5),'uint8')]);"
        "bad=[m for m in ('tensorflow','keras','matplotlib','sklearn') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_output_shapes_and_types(clf):
    crops = [np.full((40, 20), 255, np.uint8), np.zeros((30, 30, 3), np.uint8), np.full((9, 4), 7, np.float32)]
    crops[0][5:35, 8:12] = 0
    p = clf.predict_proba(crops)
    assert p.shape == (3, 36) and p.dtype == np.float32
    assert np.allclose(p.sum(1), 1.0, atol=1e-4)
    out = clf.classify(crops)
    assert len(out) == 3
    for (ch, prob), row in zip(out, p):
        assert ch in CLASSES and isinstance(prob, float)
        assert ch == CLASSES[int(row.argmax())] and prob == pytest.approx(float(row.max()))
    assert clf.classify([]) == []
    assert clf.predict_proba([]).shape == (0, 36)


def test_predict_normalized_matches_predict_proba(clf):
    crops = [np.random.default_rng(i).integers(0, 255, (30, 18), dtype=np.uint8) for i in range(4)]
    a = clf.predict_proba(crops)
    b = clf.predict_normalized(normalize_batch(crops))
    assert np.abs(a - b).max() < 1e-6
    with pytest.raises(ValueError, match="shape"):
        clf.predict_normalized(np.zeros((2, 20, 20, 1), np.float32))


def test_cv2_backend_agrees_with_onnxruntime(clf):
    crops = [np.random.default_rng(i).integers(0, 255, (30, 18), dtype=np.uint8) for i in range(5)]
    other = CharClassifier(backend="cv2")
    assert np.abs(other.predict_proba(crops) - clf.predict_proba(crops)).max() < 1e-4


def _sample(data_dir, per_class=6):
    rows = list(csv.DictReader(open(data_dir / "chars" / "labels.csv", newline="")))
    rng = np.random.default_rng(0)
    picked = []
    for c in CLASSES:
        rs = [r for r in rows if r["label"] == c]
        picked += [rs[i] for i in rng.choice(len(rs), min(per_class, len(rs)), replace=False)]
    return picked


def test_real_crops_are_recognized(clf, data_dir):
    import cv2

    rows = _sample(data_dir)
    crops, labels = [], []
    for i, r in enumerate(rows):
        img = cv2.imread(str(data_dir / "chars" / r["path"]), cv2.IMREAD_GRAYSCALE)
        if i % 3 == 1:  # BGR input works the same
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        crops.append(img)
        labels.append(r["label"])
    got = [ch for ch, _ in clf.classify(crops)]
    # O/0 and I/1 look identical in some of these fonts; count them as one here.
    same = str.maketrans("OI", "01")
    ok = np.mean([g.translate(same) == t.translate(same) for g, t in zip(got, labels)])
    assert ok >= 0.95, f"only {ok:.1%} of {len(labels)} real crops right"


def test_missing_model_raises_one_line_modelerror(tmp_path):
    path = tmp_path / "nope.onnx"
    with pytest.raises(ModelError) as e:
        CharClassifier(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    assert "not found" in msg and "git checkout models/" in msg


@pytest.mark.parametrize("content", [b"", b"this is not an onnx file", b"\x08\x07" * 50])
def test_corrupt_model_raises_modelerror(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError) as e:
        CharClassifier(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg and "reinstall anpr" in msg


def test_directory_instead_of_model(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        CharClassifier(tmp_path)


def test_bad_backend_name():
    with pytest.raises(ValueError, match="backend"):
        CharClassifier(backend="tpu")


@pytest.mark.slow
def test_shipped_onnx_is_the_shipped_keras_model(clf):
    """The ONNX file the reader runs is an export of ``models/chars.keras`` (the file
    training and fine-tuning start from), on crops of every kind."""
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    x = rng.random((48, 28, 28, 1), dtype=np.float32)
    x[:16] = (x[:16] > 0.7).astype(np.float32)  # bilevel, like the scanned sheets
    model = keras.saving.load_model(default_model_path().with_suffix(".keras"), compile=False)
    want = model.predict(x, verbose=0)
    got = clf.predict_normalized(x)
    assert np.abs(got - want).max() < 1e-4

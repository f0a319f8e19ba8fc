"""The learned candidate ranker: features, the shipped weights, loading errors, training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

cv2 = pytest.importorskip("cv2")

from anpr import rank  # noqa: E402
from anpr.errors import ModelError  # noqa: E402
from anpr.localize import Candidate, propose, to_gray  # noqa: E402


def _cand(x, y, w, h):
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
    return Candidate(corners, (x, y, w, h), "dark")


def test_hog_rejects_bad_patches():
    with pytest.raises(ValueError, match="multiples of 8"):
        rank.hog(np.zeros((30, 96), np.uint8))
    with pytest.raises(ValueError, match="gray images"):
        rank.hog(np.zeros((32, 96, 3), np.uint8))


def test_hog_sees_orientation():
    vertical = np.zeros((32, 96), np.uint8)
    vertical[:, ::8] = 255
    horizontal = np.zeros((32, 96), np.uint8)
    horizontal[::8, :] = 255
    hv, hh = rank.hog(vertical), rank.hog(horizontal)
    assert hv.shape == hh.shape == (rank.N_HOG,)
    assert np.abs(hv - hh).sum() > 10  # the two stripe directions fill different bins


def test_ranker_json_round_trip_and_shape_check():
    rng = np.random.default_rng(0)
    r = rank.Ranker(rng.random(rank.N_FEATURES), rng.random(rank.N_FEATURES) + 0.5,
                    rng.normal(size=rank.N_FEATURES), 0.3, {"note": "test"})
    back = rank.Ranker.from_json(json.loads(json.dumps(r.to_json())))
    X = rng.random((4, rank.N_FEATURES))
    assert np.allclose(back.score(X), r.score(X)) and back.info == {"note": "test"}
    assert ((r.score(X) > 0) & (r.score(X) < 1)).all()
    with pytest.raises(ValueError, match="must have"):
        rank.Ranker(np.zeros(3), np.ones(3), np.zeros(3), 0.0, {})


def test_load_ranker_errors_name_the_file(tmp_path):
    with pytest.raises(ModelError, match="nope.json: ranker file not found"):
        rank.load_ranker(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"mean": [1, 2]}')
    with pytest.raises(ModelError, match="bad.json: not a valid ranker file"):
        rank.load_ranker(bad)


def test_shipped_ranker_prefers_the_plate(samples_dir):
    """On each sample photo, the candidate on the plate outranks most others."""
    from conftest import read_labels
    from anpr.images import load_image
    from anpr.reader import PlateReader

    reader = PlateReader(ranker=False)
    ranker = rank.load_ranker()
    assert ranker.info.get("photos", 0) > 100  # trained on the development scenes
    for row in read_labels(samples_dir / "labels.csv"):
        gray = to_gray(load_image(samples_dir / row["image"]))
        cands = propose(gray)
        scores = ranker.score(rank.candidate_features(gray, cands))
        best = cands[int(np.argmax(scores))]
        # The best-ranked candidate reads as the labelled plate.
        plates = reader._read_candidate(gray, best, None, 0)
        assert plates is not None and plates.text.replace("O", "0") == row["plate"].replace("O", "0"), row


def test_reader_ranker_argument():
    from anpr.reader import PlateReader

    assert PlateReader(ranker=False).ranker is None
    assert isinstance(PlateReader().ranker, rank.Ranker)
    with pytest.raises(ValueError, match="ranker must be"):
        PlateReader(ranker=3)


def _scene_folder(root, n=6):
    """Photos of a light plate with dark text on a textured background, labelled."""
    rng = np.random.default_rng(0)
    root.mkdir()
    rows = ["image,x,y,w,h,plate"]
    for i in range(n):
        img = rng.integers(60, 120, (360, 480), dtype=np.uint8)
        x, y = int(rng.integers(40, 280)), int(rng.integers(90, 260))
        cv2.rectangle(img, (x, y), (x + 150, y + 40), 230, -1)
        text = f"AB{i}{i + 1}CD"
        cv2.putText(img, text, (x + 8, y + 31), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 20, 2)
        for k, word in enumerate(("SALE", "OPEN 24H", "NO PARKING")):  # lettering that is not a plate
            cv2.putText(img, word, (20 + 150 * k, 345), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 220, 2)
        for gx in range(300, 460, 12):  # a grille
            cv2.line(img, (gx, 20), (gx, 70), 10, 3)
        cv2.imwrite(str(root / f"p{i}.png"), img)
        rows.append(f"p{i}.png,{x},{y},150,40,{text}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def test_train_ranker_command(tmp_path):
    pytest.importorskip("sklearn")
    from anpr.cli import main

    scenes = _scene_folder(tmp_path / "scenes")
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train-ranker", str(scenes), "--out", str(out), "--folds", "2", "--no-cv-read"])
    assert r.exit_code == 0, r.output
    assert "6 photos" in r.output and "top-1" in r.output
    ranker = rank.load_ranker(out / "ranker.json")
    assert ranker.info["photos"] == 6 and "train-ranker" in ranker.info["command"]
    assert "Candidate ranker" in (out / "RANKER.md").read_text()


def test_train_ranker_needs_labelled_scenes(tmp_path):
    pytest.importorskip("sklearn")
    from anpr.cli import main

    (tmp_path / "labels.csv").write_text("image,plate\na.png,AB1\n")
    r = CliRunner().invoke(main, ["train-ranker", str(tmp_path), "--out", str(tmp_path / "m")])
    assert r.exit_code != 0 and "needs columns" in r.output and "Traceback" not in r.output

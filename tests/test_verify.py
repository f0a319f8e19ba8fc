"""The learned plate verifier: context patches, the shipped model, loading errors,
its place in the reader, and training it end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from anpr import verify  # noqa: E402
from anpr.errors import ModelError  # noqa: E402
from anpr.geometry import iou  # noqa: E402
from anpr.images import load_image  # noqa: E402
from anpr.localize import Candidate, propose, to_gray  # noqa: E402
from anpr.reader import PlateReader  # noqa: E402
from conftest import read_labels, subset_folder  # noqa: E402


def _cand(x, y, w, h):
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], float)
    return Candidate(corners, (x, y, w, h), "dark")


def test_context_window_keeps_the_candidate_shape_and_centre():
    # A long candidate fills 1/CONTEXT of the window's width; a short one is widened
    # to the patch's aspect, so the window never squeezes it.
    long_, short = verify.context_windows([_cand(100, 50, 200, 20), _cand(100, 50, 30, 20)])
    assert np.allclose(long_.mean(axis=0), [200, 60]) and np.allclose(short.mean(axis=0), [115, 60])
    assert np.isclose(long_[1, 0] - long_[0, 0], verify.CONTEXT * 200)
    assert np.isclose(short[1, 0] - short[0, 0], verify.CONTEXT * verify.ASPECT * 20)
    for q in (long_, short):
        w, h = q[1, 0] - q[0, 0], q[3, 1] - q[0, 1]
        assert np.isclose(w / h, verify.ASPECT)


def test_context_patch_is_upright_for_a_tilted_candidate():
    # A dark bar along a tilted candidate's text line comes out horizontal and centred.
    img = np.full((300, 400), 200, np.uint8)
    a = np.radians(20)
    u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    c0 = np.array([200.0, 150.0])
    corners = np.array([c0 - 60 * u - 12 * v, c0 + 60 * u - 12 * v, c0 + 60 * u + 12 * v, c0 - 60 * u + 12 * v])
    bar = np.array([c0 - 50 * u - 3 * v, c0 + 50 * u - 3 * v, c0 + 50 * u + 3 * v, c0 - 50 * u + 3 * v])
    cv2.fillPoly(img, [np.round(bar).astype(np.int32)], 0)
    patch = verify.context_patches(img, [Candidate(corners, (0, 0, 1, 1), "dark")])[0]
    rows = patch.mean(axis=1)
    assert patch.shape == (verify.PATCH_H, verify.PATCH_W)
    assert abs(int(np.argmin(rows)) - verify.PATCH_H // 2) <= 2
    assert rows.min() < 120 and rows[:5].mean() > 190


def test_large_candidates_are_shrunk_with_box_averaging():
    # Thin stripes in a big window average to gray instead of aliasing to black or white.
    img = np.zeros((1200, 2400), np.uint8)
    img[:, ::2] = 255
    patch = verify.context_patches(img, [_cand(600, 500, 1200, 200)])[0]
    assert abs(float(patch.mean()) - 127.5) < 10 and patch.std() < 20


def test_to_input_ignores_exposure():
    p = np.random.default_rng(0).integers(40, 120, (2, verify.PATCH_H, verify.PATCH_W)).astype(np.uint8)
    bright = np.clip(p.astype(int) * 2, 0, 255).astype(np.uint8)
    assert np.allclose(verify.to_input(p), verify.to_input(bright), atol=0.05)


def test_shipped_verifier_finds_the_labelled_plate_most_plate_like(samples_dir):
    # On every sample photo, the candidate on the labelled plate outscores all the
    # candidates that do not touch it.
    v = verify.Verifier()
    for row in read_labels(samples_dir / "labels.csv"):
        gray = to_gray(load_image(samples_dir / row["image"]))
        plate = PlateReader().read(samples_dir / row["image"])[0]
        cands = propose(gray)
        p = v.score(gray, cands)
        on = [iou(c.box, plate.box) > 0.4 for c in cands]
        off = [iou(c.box, plate.box) == 0 for c in cands]
        assert any(on), row["image"]
        assert p[np.array(on)].max() > p[np.array(off)].max(), row["image"]


def test_a_reading_is_judged_on_its_own_outline_too(samples_dir, data_dir):
    # plate_p is the surest verdict on the place read: the candidates lying there or
    # the outline the reading is reported with. On scene JSG9648 the plate's outline is
    # surer than any candidate proposed there.
    from anpr.reader import _overlap

    reader = PlateReader()
    raised = []
    paths = [samples_dir / row["image"] for row in read_labels(samples_dir / "labels.csv")]
    for path in paths + [data_dir / "scenes" / "br" / "JSG9648.jpg"]:
        row = {"image": path.name}
        gray = to_gray(load_image(path))
        reads = reader.readings(path)
        cands = reader.rank_candidates(gray)
        outline = reader.verifier.score(gray, [p.corners for p in reads])
        for p, o in zip(reads, outline):
            near = max([c.plate_p for c in cands if _overlap(c.box, p.box)] + [0.0])
            assert p.plate_p == pytest.approx(max(near, float(o)), abs=1e-6), (row["image"], p.text)
            if o > near + 0.005:
                raised.append((row["image"], p.text))
    assert ("JSG9648.jpg", "JSG9648") in raised


def test_shipped_verifier_card_and_thresholds():
    v = verify.Verifier()
    info = v.info
    for k in ("report_min", "best_report_min", "min_confidence", "min_best"):
        assert 0.0 <= info[k] <= 1.0, k
    assert info["best_report_min"] <= info["report_min"]
    assert info["counts"]["train"]["photos"] > 1000 and "train-verifier" in info["command"]
    assert (v.path.parent / "VERIFIER.md").read_text().startswith("# Plate verifier")


def test_verifier_errors_name_the_file(tmp_path):
    with pytest.raises(ModelError, match="nope.onnx: verifier model file not found"):
        verify.Verifier(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="bad.onnx: not a usable verifier model"):
        verify.Verifier(bad)
    with pytest.raises(ModelError, match="not a usable verifier model"):
        verify.Verifier(verify.default_verifier_path().with_name("chars.onnx"))  # wrong input shape
    with pytest.raises(ValueError, match="verifier must be"):
        PlateReader(verifier=3)


def test_reader_without_verifier_reads_by_the_cheap_score(samples_dir):
    plain = PlateReader(verifier=False)
    assert plain.verifier is None and plain.min_confidence == 0.5
    got = plain.read(samples_dir / "eu-test_021.jpg")
    assert got[0].text == "RK855AP" and got[0].plate_p is None
    verified = PlateReader().read(samples_dir / "eu-test_021.jpg")[0]
    assert verified.text == "RK855AP" and verified.plate_p > 0.5
    assert verified.to_dict()["plate_p"] == pytest.approx(verified.plate_p, abs=1e-4)


@pytest.mark.slow
def test_train_verifier_command(tmp_path, data_dir):
    # Two photo folders of the two kinds (scenes and boxes-only), a few epochs: the
    # command writes a model the reader loads, parity-checked, with its card.
    from click.testing import CliRunner

    from anpr.cli import main

    folders = []
    for name, src, n in (("eu", data_dir / "scenes" / "eu", 76), ("oi", data_dir / "detect" / "openimages", 150)):
        subset_folder(src, tmp_path / name, n)
        folders.append(str(tmp_path / name))
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train-verifier", *folders, "--out", str(out), "--epochs", "2", "--seeds", "1",
                                  "--workers", "1"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "verifier.json").read_text())
    assert info["photos"] == 76 + 150 and info["onnx_max_diff"] < 1e-4
    assert info["counts"]["check"]["photos"] > 0
    assert 0.0 <= info["val"]["reading_ap"] <= 1.0 and 0.0 <= info["check"]["reading_ap"] <= 1.0
    v = verify.Verifier(out / "verifier.onnx")
    assert v.info == info
    reader = PlateReader(verifier=v)
    assert reader.min_confidence == info["min_confidence"]
    reader.read(data_dir / "scenes" / "eu" / "eu5.jpg")  # runs with the new model
    assert "Plate verifier" in (out / "VERIFIER.md").read_text()

    # --thresholds-only keeps the model and the training record, chooses the thresholds again
    model = (out / "verifier.onnx").read_bytes()
    r = CliRunner().invoke(main, ["train-verifier", *folders, "--out", str(out), "--thresholds-only"])
    assert r.exit_code == 0, r.output
    again = json.loads((out / "verifier.json").read_text())
    assert (out / "verifier.onnx").read_bytes() == model
    assert again["command"] == info["command"] and again["counts"] == info["counts"]
    assert "--thresholds-only" in again["thresholds_command"]
    assert again["best_report_min"] <= again["report_min"] and set(again["check"]) >= {"recall", "precision"}
    assert again["thresholds_command"] in (out / "VERIFIER.md").read_text()


def test_train_verifier_needs_labelled_photos(tmp_path):
    from click.testing import CliRunner

    from anpr.cli import main

    (tmp_path / "labels.csv").write_text("image,plate\na.png,AB1\n")
    r = CliRunner().invoke(main, ["train-verifier", str(tmp_path), "--out", str(tmp_path / "m")])
    assert r.exit_code == 1 and "needs the columns image,x,y,w,h" in r.output
    r = CliRunner().invoke(main, ["train-verifier", str(tmp_path), "--out", str(tmp_path / "m"), "--thresholds-only"])
    assert r.exit_code == 1 and "needs verifier.onnx and verifier.json" in r.output


def test_thresholds_put_precision_first():
    # 10 photos with a plate: 7 read with plate_p 0.99, 3 with 0.4; 2 photos without a
    # plate whose lettering reads with plate_p 0.4. Reporting 0.4 finds every plate
    # with 2 false ones (the better F1); the F0.5 criterion gives up the 3 plates.
    from anpr.train.verifier import BETA, choose_thresholds, detection_scores

    def photo(p, plate=True):
        read = {"text": "AB1234", "confidence": 0.9, "plate_p": p, "box": [100, 100, 80, 20]}
        return {"scene": False, "boxes": [[100, 100, 80, 20]] if plate else [], "reads": [read]}

    records = [photo(0.99)] * 7 + [photo(0.4)] * 3 + [photo(0.4, plate=False)] * 2
    chosen = choose_thresholds(records)
    assert BETA < 1 and chosen["best_report_min"] > 0.4
    assert chosen["precision"] == 1.0 and chosen["recall"] == pytest.approx(0.7)
    low = {**{k: chosen[k] for k in ("report_min", "min_confidence", "min_best")}, "best_report_min": 0.4}
    assert detection_scores(records, low)["f1"] > chosen["f1"]

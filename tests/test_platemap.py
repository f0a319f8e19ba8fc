"""The plate map: its data engine, its candidates, its export and the trainer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anpr import platemap as PM
from anpr.train import platemap as P

from conftest import subset_folder


def test_pasted_box_holds_the_pasted_plate():
    # A white plate pasted on black: the box it reports holds the plate's pixels and
    # nearly nothing of it lies outside, whatever the perspective.
    rng = np.random.default_rng(3)
    for _ in range(40):
        canvas = np.zeros((256, 256), np.uint8)
        b = P.paste_plate(canvas, np.full((60, 200), 255, np.uint8), rng)
        if b is None:
            continue
        x, y, w, h = b
        inside = canvas[y:y + h, x:x + w]
        assert inside.mean() > 110  # a tilted plate fills most of its box
        outside = canvas.astype(np.int64).sum() - inside.astype(np.int64).sum()
        assert outside <= 0.02 * canvas.astype(np.int64).sum()


def test_paste_avoids_boxes():
    rng = np.random.default_rng(1)
    avoid = [(0, 0, 256, 120)]
    for _ in range(20):
        b = P.paste_plate(np.zeros((256, 256), np.uint8), np.full((40, 120), 255, np.uint8), rng, width=60, avoid=avoid)
        assert b is None or b[1] >= 120 - 1


def test_example_target_follows_boxes_and_scale():
    # A photo with one labelled plate: every example's plate cells lie where the (scaled,
    # cut) plate lies, and the unboxed folders' negatives weigh less.
    gray = np.full((300, 512), 90, np.uint8)
    gray[200:240, 100:220] = 230
    photo = P.MapPhoto(gray, np.array([[100, 200, 120, 40]], np.float32), 0.3, "k", "dashcam", 1.0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x, y = P.make_example(photo, rng)
        assert x.shape == (P.CROP, P.CROP, 1) and y.shape == (P.CROP // PM.STRIDE, P.CROP // PM.STRIDE, 2)
        assert x.min() >= -1.0 and x.max() <= 1.0
        t, w = y[..., 0], y[..., 1]
        assert np.all(np.isclose(w, 0.3) | np.isclose(w, 1.0)) and np.all(w[t > 0] == 1.0)
        if t.any():  # the plate cells are the bright plate's
            cells = np.kron(t, np.ones((PM.STRIDE, PM.STRIDE))) > 0
            assert x[..., 0][cells].mean() > x[..., 0][~cells].mean() + 0.2


def test_blobs_become_candidates_in_input_pixels():
    heat = np.zeros((PM.INPUT // PM.STRIDE,) * 2, np.float32)
    heat[10:14, 30:50] = 0.9
    heat[60, 60] = 0.95  # one cell: too small
    cands = PM.blobs_to_candidates(heat, 0.5, np.zeros((768, 768), np.uint8), 0.5)
    assert len(cands) == 1
    x, y, w, h = cands[0].box
    assert (x, y, w, h) == (240, 80, 160, 32) and cands[0].plate_p == pytest.approx(0.9)


def test_to_input_rejects_colour():
    with pytest.raises(ValueError, match="2-D"):
        PM.to_input(np.zeros((10, 10, 3), np.uint8))


@pytest.mark.slow
def test_train_platemap_command(tmp_path, data_dir):
    # A few photos, one short epoch: the command writes a map the reader loads, its ONNX
    # file equal to the Keras model, with its card and the threshold it chose.
    from click.testing import CliRunner

    from anpr.cli import main
    from anpr.reader import PlateReader

    folders = []
    for name, src, n in (("oi", data_dir / "detect" / "openimages", 120), ("us", data_dir / "scenes" / "us", 40)):
        subset_folder(src, tmp_path / name, n)
        folders.append(str(tmp_path / name))
    out = tmp_path / "m"
    r = CliRunner().invoke(main, ["train-platemap", *folders, "--plates", str(data_dir / "plates" / "us"),
                                  "--synthetic", "20", "--out", str(out), "--epochs", "1", "--examples", "64"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "platemap.json").read_text())
    assert info["onnx_max_diff"] < 1e-4 and info["threshold"] in (0.3, 0.4, 0.5, 0.6, 0.7)
    assert info["counts"]["train"] > 0 and info["counts"]["val"] > 0
    pm = PM.PlateMap(out / "platemap.onnx")
    assert pm.threshold == info["threshold"]
    heat, scale = pm.heat(np.zeros((300, 600), np.uint8))
    assert heat.shape == (PM.INPUT // PM.STRIDE,) * 2 and scale == pytest.approx(0.64)
    PlateReader(platemap=pm).read(sorted((data_dir / "scenes" / "us").glob("*.jpg"))[0])
    assert "Plate map" in (out / "PLATEMAP.md").read_text()
    # --resume goes on from the checkpoint: one more epoch.
    r = CliRunner().invoke(main, ["train-platemap", *folders, "--synthetic", "0", "--out", str(out), "--epochs", "2",
                                  "--examples", "64", "--resume"])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "platemap.json").read_text())["epochs_run"] == 2

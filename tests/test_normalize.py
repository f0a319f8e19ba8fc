"""The shared crop normalization: shapes, polarity, aspect and awkward inputs."""

from __future__ import annotations

import numpy as np
import pytest

from anpr.normalize import CLASSES, SIZE, normalize_batch, normalize_char


def bar(h=40, w=20, dark_on_light=True, dtype=np.uint8, hi=255):
    """A vertical stroke centred in a crop."""
    bg, fg = (hi, 0) if dark_on_light else (0, hi)
    a = np.full((h, w), bg, dtype)
    a[4 : h - 4, w // 2 - 2 : w // 2 + 2] = fg
    return a


def test_classes_are_36_unique_in_order():
    assert CLASSES == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert len(set(CLASSES)) == 36


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_polarity_is_light_glyph_on_dark(dark_on_light):
    x = normalize_char(bar(dark_on_light=dark_on_light))
    assert x.shape == (SIZE, SIZE, 1) and x.dtype == np.float32
    assert x[SIZE // 2, SIZE // 2, 0] > 0.9  # stroke
    assert x[SIZE // 2, 3, 0] < 0.1  # background
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_both_polarities_give_the_same_image():
    a = normalize_char(bar(dark_on_light=True))
    b = normalize_char(bar(dark_on_light=False))
    assert np.abs(a - b).max() < 1e-5


def test_aspect_ratio_is_kept_and_glyph_centred():
    x = normalize_char(bar(h=60, w=20))[:, :, 0]
    cols = np.flatnonzero(x.max(0) > 0.5)
    rows = np.flatnonzero(x.max(1) > 0.5)
    # a tall narrow stroke stays tall and narrow
    assert rows.size > 3 * cols.size
    assert abs((cols.min() + cols.max()) / 2 - (SIZE - 1) / 2) <= 1.0
    # nothing touches the border: the margin is kept
    assert x[0].max() == 0 and x[-1].max() == 0 and x[:, 0].max() == 0 and x[:, -1].max() == 0


@pytest.mark.parametrize("shape", [(5, 3), (28, 28), (200, 90), (30, 120)])
def test_any_size(shape):
    a = np.full(shape, 200, np.uint8)
    a[shape[0] // 4 : 3 * shape[0] // 4, shape[1] // 4 : 3 * shape[1] // 4] = 20
    assert normalize_char(a).shape == (SIZE, SIZE, 1)


def test_gray_bgr_bgra_and_channel_axis_agree():
    g = bar()
    bgr = np.repeat(g[:, :, None], 3, axis=2)
    bgra = np.dstack([bgr, np.full(g.shape, 255, np.uint8)])
    ref = normalize_char(g)
    for a in (g[:, :, None], bgr, bgra):
        assert np.abs(normalize_char(a) - ref).max() < 1e-4


@pytest.mark.parametrize("dtype,hi", [(np.uint16, 65535), (np.float32, 1.0), (np.float64, 255.0)])
def test_other_dtypes(dtype, hi):
    ref = normalize_char(bar())
    x = normalize_char(bar(dtype=dtype, hi=hi))
    assert np.abs(x - ref).max() < 1e-3


def test_low_contrast_is_stretched():
    a = bar().astype(np.float32) * (10 / 255) + 100  # strokes 100, background 110
    x = normalize_char(a)
    assert x.max() > 0.9 and x[SIZE // 2, 3, 0] < 0.1


@pytest.mark.parametrize("value", [0, 128, 255])
def test_flat_crop_is_all_dark(value):
    x = normalize_char(np.full((30, 15), value, np.uint8))
    assert x.shape == (SIZE, SIZE, 1) and not x.any()


def test_nan_and_inf_do_not_propagate():
    a = bar().astype(np.float32)
    a[0, 0], a[1, 1] = np.nan, np.inf
    assert np.isfinite(normalize_char(a)).all()


def test_one_pixel_and_thin_crops():
    assert normalize_char(np.zeros((1, 1), np.uint8)).shape == (SIZE, SIZE, 1)
    line = np.zeros((1, 50), np.uint8)
    line[0, 10:20] = 255
    assert normalize_char(line).shape == (SIZE, SIZE, 1)


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.zeros((0, 5), np.uint8), "empty"),
        (np.zeros((4, 4, 2), np.uint8), "channels"),
        (np.zeros(7, np.uint8), "2-D"),
        (np.zeros((2, 2, 2, 2), np.uint8), "2-D"),
    ],
)
def test_bad_inputs_raise_valueerror(bad, match):
    with pytest.raises(ValueError, match=match):
        normalize_char(bad)


def test_batch_shapes():
    assert normalize_batch([]).shape == (0, SIZE, SIZE, 1)
    b = normalize_batch([bar(), bar(60, 30), np.full((10, 10, 3), 9, np.uint8)])
    assert b.shape == (3, SIZE, SIZE, 1) and b.dtype == np.float32

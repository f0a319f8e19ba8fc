"""anpr.images.load_image: every awkward input gets a BGR uint8 image or an ImageError."""

from __future__ import annotations

import os

import numpy as np
import pytest

from anpr.errors import ImageError
from anpr.images import DEFAULT_MAX_PIXELS, is_image_name, load_image, read_file, sniff_format, to_bgr_uint8

from imagefiles import (
    encode,
    exif_rotated_jpeg,
    exif_rotated_png,
    huge_jpeg_header,
    huge_png_header,
    marked_photo,
)


def _is_bgr8(img: np.ndarray) -> bool:
    return img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.flags.c_contiguous


# --------------------------------------------------------------------------- files


def test_missing_path_names_file(tmp_path):
    path = tmp_path / "nope.jpg"
    with pytest.raises(ImageError, match=r"nope\.jpg: no such file"):
        load_image(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.jpg: empty file"):
        load_image(path)


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_truncated_jpeg(fraction):
    img = (np.random.default_rng(1).random((120, 160, 3)) * 255).astype(np.uint8)
    jpg = encode(img, ".jpg")
    with pytest.raises(ImageError, match="truncated|corrupt"):
        load_image(jpg[: int(len(jpg) * fraction)], name="cut.jpg")


def test_truncated_png():
    png = encode(marked_photo(), ".png")
    with pytest.raises(ImageError, match=r"cut\.png: truncated PNG"):
        load_image(png[:-20], name="cut.png")


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("hello, I am not a photo\n")
    with pytest.raises(ImageError, match=r"notes\.jpg: not an image"):
        load_image(path)


def test_random_bytes():
    data = np.random.default_rng(0).integers(0, 256, 10000, dtype=np.uint8).tobytes()
    with pytest.raises(ImageError, match="upload: "):
        load_image(data, name="upload")


def test_one_pixel_png():
    img = load_image(encode(np.full((1, 1, 3), 77, np.uint8), ".png"))
    assert img.shape == (1, 1, 3) and img[0, 0].tolist() == [77, 77, 77]


def test_16bit_png_is_scaled_by_peak():
    gray = np.zeros((10, 20), np.uint16)
    gray[0, 0] = 4095  # 12-bit camera data in a 16-bit container
    gray[5, 5] = 2048
    img = load_image(encode(gray, ".png"))
    assert _is_bgr8(img) and img.shape == (10, 20, 3)
    assert img[0, 0].tolist() == [255, 255, 255]
    assert 126 <= img[5, 5, 0] <= 129


def test_16bit_tiff():
    img = load_image(encode(np.full((30, 40, 3), 40000, np.uint16), ".tiff"))
    assert _is_bgr8(img) and img.shape == (30, 40, 3) and img.min() == 255


def test_rgba_png_composited_on_white():
    bgra = np.zeros((8, 12, 4), np.uint8)
    bgra[..., 2] = 255  # red
    bgra[..., 3] = 255
    bgra[:4, :, 3] = 0  # top half transparent
    img = load_image(encode(bgra, ".png"))
    assert img.shape == (8, 12, 3)
    assert img[0, 0].tolist() == [255, 255, 255]
    assert img[7, 0].tolist() == [0, 0, 255]


def test_exif_orientation_is_applied():
    img = load_image(exif_rotated_jpeg(6))
    # 40x80 landscape, red left / blue right, rotated 90 degrees clockwise:
    # portrait 80x40 with red on top, blue at the bottom
    assert img.shape == (80, 40, 3)
    assert img[5, 20, 2] > 200 and img[5, 20, 0] < 60
    assert img[75, 20, 0] > 200 and img[75, 20, 2] < 60


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_to_images_with_alpha(orientation):
    # OpenCV keeps alpha only when it ignores EXIF orientation; the alpha image is
    # turned to match the decoding that applies it, as the same PNG without alpha is.
    with_alpha = load_image(exif_rotated_png(orientation, alpha=True))
    without = load_image(exif_rotated_png(orientation, alpha=False))
    assert with_alpha.shape == without.shape == ((40, 80, 3) if orientation == 3 else (80, 40, 3))
    assert np.array_equal(with_alpha, without)


def test_exif_orientation_1_is_unrotated():
    assert load_image(exif_rotated_jpeg(1)).shape == (40, 80, 3)


@pytest.mark.parametrize("data", [huge_png_header(), huge_jpeg_header()], ids=["png", "jpeg"])
def test_huge_image_refused_before_decoding(data):
    assert len(data) < 50_000  # the file is tiny; only its header is huge
    with pytest.raises(ImageError, match=r"big\.img: image too large \(20000x20000 = 400\.0 MP"):
        load_image(data, name="big.img")


def test_pixel_limit_is_configurable():
    png = encode(np.zeros((100, 100, 3), np.uint8), ".png")
    assert load_image(png).shape == (100, 100, 3)
    with pytest.raises(ImageError, match="too large"):
        load_image(png, max_pixels=9999)
    with pytest.raises(ImageError, match="too large"):
        load_image(np.zeros((100, 100, 3), np.uint8), max_pixels=9999)
    assert DEFAULT_MAX_PIXELS >= 50_000_000


def test_non_ascii_path_with_spaces(tmp_path):
    folder = tmp_path / "dossier à côté"
    folder.mkdir()
    path = folder / "photo de côté ü 車.png"
    path.write_bytes(encode(marked_photo(), ".png"))
    img = load_image(path)
    assert img.shape == (40, 80, 3)
    assert load_image(str(path)).shape == (40, 80, 3)


def test_content_not_extension(tmp_path):
    path = tmp_path / "really-a-png.jpg"
    path.write_bytes(encode(marked_photo(), ".png"))
    assert load_image(path).shape == (40, 80, 3)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tiff", ".webp", ".ppm"])
def test_formats_by_content(ext):
    img = load_image(encode(marked_photo(), ext))
    assert img.shape == (40, 80, 3)


@pytest.mark.parametrize(
    "data, fmt",
    [(b"\xff\xd8\xff\xe0", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"II*\x00", "tiff"), (b"%PDF-1.4", None)],
)
def test_sniff_format(data, fmt):
    assert sniff_format(data) == fmt


def test_real_scene_photo(data_dir):
    path = sorted((data_dir / "scenes" / "us").glob("*.jpg"))[0]
    img = load_image(path)
    assert _is_bgr8(img) and min(img.shape[:2]) > 50


# --------------------------------------------------------------------------- arrays


def test_bgr_uint8_is_returned_without_copy():
    a = np.zeros((3, 4, 3), np.uint8)
    assert load_image(a) is a


@pytest.mark.parametrize(
    "array, pixel",
    [
        (np.full((2, 2), 9, np.uint8), [9, 9, 9]),
        (np.full((2, 2, 1), 9, np.uint8), [9, 9, 9]),
        (np.ones((2, 2), bool), [255, 255, 255]),
        (np.full((2, 2, 3), 0.5, np.float32), [128, 128, 128]),
        (np.full((2, 2, 3), 200.0), [200, 200, 200]),
        (np.full((2, 2), np.nan), [0, 0, 0]),
        (np.full((2, 2), -5, np.int16), [0, 0, 0]),
        (np.full((2, 2, 3), 65535, np.uint16), [255, 255, 255]),
        (np.full((2, 2, 3), 100, np.uint16), [100, 100, 100]),
        (np.full((2, 2, 2), [50, 0], np.uint8), [255, 255, 255]),
        (np.full((2, 2, 4), [1, 2, 3, 255], np.uint8), [1, 2, 3]),
    ],
)
def test_array_conversion(array, pixel):
    img = load_image(array)
    assert _is_bgr8(img) and img.shape == (2, 2, 3)
    assert img[1, 1].tolist() == pixel


def test_non_contiguous_array():
    a = np.zeros((10, 10, 3), np.uint8)[:, ::-1]
    assert _is_bgr8(load_image(a))


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((0, 4, 3), np.uint8), "empty array"),
        (np.zeros(5, np.uint8), "unsupported array shape"),
        (np.zeros((2, 2, 2, 2), np.uint8), "unsupported array shape"),
        (np.zeros((2, 2, 5), np.uint8), "unsupported array shape"),
        (np.zeros((2, 2), complex), "unsupported array dtype"),
        (np.zeros((2, 2), object), "unsupported array dtype"),
        (np.array(3, np.uint8), "unsupported array shape"),
    ],
)
def test_bad_arrays(array, match):
    with pytest.raises(ImageError, match=match):
        load_image(array)


@pytest.mark.parametrize("source", [None, 42, 3.5, ["a.jpg"]])
def test_bad_source_types(source):
    with pytest.raises(ImageError, match="cannot read an image"):
        load_image(source)


def test_bad_max_pixels_is_a_programming_error():
    with pytest.raises(ValueError, match="max_pixels"):
        load_image(np.zeros((2, 2, 3), np.uint8), max_pixels=0)


def test_to_bgr_uint8_float_range():
    out = to_bgr_uint8(np.array([[0.0, 1.0, 2.0, 300.0, -1.0, np.inf]]))
    assert out[0, :, 0].tolist() == [0, 1, 2, 255, 0, 0]


def test_is_image_name():
    assert is_image_name("A.TIFF") and is_image_name("x/y.webp") and is_image_name("x.gif")
    assert not is_image_name("x.txt") and not is_image_name("x.mp4")


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="not a regular file"):
        load_image(fifo)


def test_oversized_file_refused_unread(tmp_path):
    path = tmp_path / "big.png"
    with open(path, "wb") as fh:
        fh.write(encode(marked_photo(), ".png"))
        fh.truncate(200_000)
    with pytest.raises(ImageError, match="file too large"):
        read_file(path, max_bytes=100_000)
    # within the limit, the PNG with trailing zeros still loads
    assert load_image(path).shape == (40, 80, 3)


def test_path_through_a_file(tmp_path):
    f = tmp_path / "photo.jpg"
    f.write_bytes(b"x")
    with pytest.raises(ImageError, match="no such file"):
        load_image(f / "inner.jpg")


def test_every_readable_kind_is_one_list_and_batch_finds_gifs(tmp_path):
    import cv2
    from PIL import Image

    from anpr.batch import find_images
    from anpr.images import _HEADER_PARSERS, FORMAT_EXTENSIONS, IMAGE_EXTENSIONS, load_image

    assert set(FORMAT_EXTENSIONS) == set(_HEADER_PARSERS)
    assert {".gif", ".jpg", ".png", ".ppm"} <= IMAGE_EXTENSIONS
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(tmp_path / "car.GIF")
    cv2.imwrite(str(tmp_path / "car.ppm"), np.full((20, 30, 3), 90, np.uint8))
    (tmp_path / "notes.txt").write_text("no photo")
    found, skipped = find_images(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in found] == ["car.GIF", "car.ppm"] and skipped == 1
    assert all(load_image(p).shape == (20, 30, 3) for p in found)

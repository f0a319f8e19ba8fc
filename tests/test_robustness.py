"""Property-based: no array or byte string makes anpr raise anything but ImageError.

``load_image`` and ``PlateReader.read``/``read_crop`` on any numpy array (any shape,
dtype, NaN, zero size) and on any bytes (random, or a real image damaged) return a
result or raise `ImageError`; nothing else leaks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from anpr.errors import ImageError
from anpr.images import load_image

from imagefiles import encode, exif_rotated_jpeg, marked_photo

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DTYPES = st.sampled_from(
    [
        np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
        np.float16, np.float32, np.float64, np.bool_, np.complex64,
    ]
)


@st.composite
def arrays(draw, max_side: int = 24):
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=max_side))
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=dtype.itemsize * 8)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def image_like_arrays(draw):
    """Arrays shaped like real images, big enough for the pipeline to do real work."""
    h = draw(st.integers(1, 160))
    w = draw(st.integers(1, 240))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4]))
    dtype = np.dtype(draw(st.sampled_from([np.uint8, np.uint16, np.float32, np.bool_])))
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["noise", "flat", "stripes", "blocks"]))
    if kind == "noise":
        a = rng.random(shape)
    elif kind == "flat":
        a = np.full(shape, rng.random())
    elif kind == "stripes":
        a = np.zeros(shape)
        a[:, :: max(1, w // 9)] = 1.0
    else:
        a = np.zeros(shape)
        a[h // 4 : 3 * h // 4 + 1, w // 6 : 5 * w // 6 + 1] = 1.0
        a[h // 3 : 2 * h // 3 + 1, w // 4 : w // 4 + max(1, w // 20)] = 0.0
    if dtype == np.bool_:
        return a > 0.5
    if dtype.kind == "f":
        if draw(st.booleans()):
            a[rng.random(shape) < 0.05] = np.nan
        return a.astype(dtype)
    return (a * np.iinfo(dtype).max).astype(dtype)


_VALID = [
    encode(marked_photo(), ".png"),
    encode(marked_photo(), ".jpg"),
    encode(marked_photo(), ".bmp"),
    encode(marked_photo(), ".tiff"),
    encode(marked_photo(), ".webp"),
    exif_rotated_jpeg(6),
]


@st.composite
def damaged_images(draw):
    """A real encoded image, truncated and/or with bytes overwritten."""
    data = bytearray(draw(st.sampled_from(_VALID)))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(0, 6))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _check_bgr(img):
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8
    assert img.ndim == 3 and img.shape[2] == 3 and img.size > 0


# --------------------------------------------------------------------------- load_image


@SETTINGS
@given(arrays())
def test_load_image_any_array(a):
    try:
        img = load_image(a)
    except ImageError:
        return
    _check_bgr(img)
    assert img.shape[:2] == a.shape[:2]


@SETTINGS
@given(st.binary(max_size=4096))
def test_load_image_random_bytes(data):
    try:
        _check_bgr(load_image(data))
    except ImageError as exc:
        assert str(exc).startswith("<bytes>: ")


@SETTINGS
@given(damaged_images())
def test_load_image_damaged_files(data):
    try:
        _check_bgr(load_image(data, name="damaged"))
    except ImageError as exc:
        assert str(exc).startswith("damaged: ")


# --------------------------------------------------------------------------- PlateReader


@pytest.fixture(scope="module")
def reader():
    from anpr.reader import PlateReader

    return PlateReader()


def _check_plates(plates):
    assert isinstance(plates, list)
    for p in plates:
        d = p.to_dict()
        assert isinstance(d["text"], str) and 0.0 <= d["confidence"] <= 1.0


@SETTINGS
@given(a=arrays())
def test_reader_any_array(reader, a):
    try:
        plates = reader.read(a)
    except ImageError:
        return
    _check_plates(plates)


@settings(SETTINGS, max_examples=40)
@given(a=image_like_arrays())
def test_reader_image_like_arrays(reader, a):
    try:
        plates = reader.read(a)
    except ImageError:
        return
    _check_plates(plates)


@settings(SETTINGS, max_examples=40)
@given(a=image_like_arrays())
def test_reader_read_crop_image_like_arrays(reader, a):
    try:
        plates = reader.read_crop(a)
    except ImageError:
        return
    _check_plates(plates)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=2048), damaged_images()))
def test_reader_any_bytes(reader, data):
    try:
        plates = reader.read(data)
    except ImageError:
        return
    _check_plates(plates)

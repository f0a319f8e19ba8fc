"""Load any image anpr is given into one form: a BGR ``uint8`` array of shape (H, W, 3).

Every image enters the reader through `load_image`, so every oddity of real input is
dealt with here, once:

- files are recognised by their content, never their extension, and read as bytes
  (``open``, not ``cv2.imread``) so paths with spaces and non-ASCII characters work;
- empty, truncated and non-image files are refused with an `ImageError` naming the
  file and the reason;
- the pixel count is read from the file header *before* decoding, so a tiny file that
  claims 20000 x 20000 pixels is refused without allocating a gigabyte;
- EXIF orientation is applied (OpenCV does so for ``IMREAD_ANYCOLOR``; images with
  alpha are matched to that decoding, see `orient_like`), 16-bit and
  float images are scaled to 8 bits, gray is expanded to BGR, and transparent
  pixels are composited onto white;
- arrays of any dtype and shape are either converted or refused with `ImageError`,
  never passed on to crash something further down.

>>> import numpy as np
>>> load_image(np.zeros((2, 3), np.uint16)).shape
(2, 3, 3)
>>> load_image(b"not an image", name="upload-17")
Traceback (most recent call last):
...
anpr.errors.ImageError: upload-17: not an image (unrecognised content)
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
import sys
from collections.abc import Iterator
from typing import Union

import numpy as np
import numpy.typing as npt

from .errors import ImageError

DEFAULT_MAX_PIXELS = 60_000_000
"""Largest image (width x height) `load_image` accepts: room for 50 MP phone photos,
while a 100 MP panorama or a decompression bomb is refused before it is decoded."""

FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "jpeg": (".jpg", ".jpeg", ".jpe"), "png": (".png",), "bmp": (".bmp",), "gif": (".gif",),
    "webp": (".webp",), "tiff": (".tif", ".tiff"), "pnm": (".pbm", ".pgm", ".ppm", ".pnm"), "pfm": (".pfm",),
    "sunras": (".sr", ".ras"),
}
"""The file name endings of each format the library reads (those whose size it checks
before decoding, `sniff_format`): the one list of readable kinds."""

IMAGE_EXTENSIONS = frozenset(e for exts in FORMAT_EXTENSIONS.values() for e in exts)
"""File name endings `anpr batch` treats as photos (compared lower-case), from
`FORMAT_EXTENSIONS`. Loading itself goes by content, so a photo with a wrong ending still
loads when named directly."""

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, np.ndarray]

# OpenCV's own decode limit is read once, when the library loads. Setting it here is a
# backstop for the formats whose header we do not parse (AVIF, JPEG 2000, EXR...);
# it only takes effect when anpr is imported before cv2.
if "cv2" not in sys.modules:
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(4 * DEFAULT_MAX_PIXELS))


# --------------------------------------------------------------------------- sources


def load_image(
    source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str | None = None
) -> npt.NDArray[np.uint8]:
    """Return ``source`` as a BGR ``uint8`` array of shape (H, W, 3).

    Parameters
    ----------
    source : str, os.PathLike, bytes or numpy.ndarray
        A path to an image file, the encoded bytes of one (JPEG, PNG, BMP, TIFF,
        WebP, GIF, PNM and whatever else OpenCV decodes), or an array: (H, W) gray,
        (H, W, 1|2|3|4) gray/gray+alpha/BGR/BGRA, of dtype bool, any integer or float
        (floats in [0, 1] or [0, 255]; NaN becomes 0).
    max_pixels : int
        Refuse images with more than this many pixels (width x height).
    name : str, optional
        How to call the input in error messages; defaults to the path, or
        ``<bytes>`` / ``<array>``.

    Returns
    -------
    numpy.ndarray
        C-contiguous (H, W, 3) ``uint8``, BGR. An array that already has this form is
        returned as is, not copied.

    Raises
    ------
    ImageError
        For anything that is not an image this function can read, with a one-line
        message ``"<name>: <reason>"``.

    Examples
    --------
    >>> load_image(np.ones((4, 5), bool))[0, 0].tolist()
    [255, 255, 255]
    >>> load_image(np.full((1, 1, 4), [0, 0, 0, 0], np.uint8))[0, 0].tolist()
    [255, 255, 255]
    >>> load_image(np.zeros((0, 5)))
    Traceback (most recent call last):
    ...
    anpr.errors.ImageError: <array>: empty array of shape (0, 5)
    """
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    if isinstance(source, np.ndarray):
        return to_bgr_uint8(source, max_pixels=max_pixels, name=name or "<array>")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return decode_image(bytes(source), max_pixels=max_pixels, name=name or "<bytes>")
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):  # os.PathLike may give bytes
            path = os.fsdecode(path)
        label = name or path
        data = read_file(path, name=label, max_bytes=max_file_bytes(max_pixels))
        return decode_image(data, max_pixels=max_pixels, name=label)
    raise ImageError(
        f"{name or '<input>'}: cannot read an image from a {type(source).__name__} "
        "(expected a path, bytes or a numpy array)"
    )


def read_file(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int | None = None
) -> bytes:
    """Read an image file's bytes, turning every way that can fail into an `ImageError`.

    Only regular files are opened (a FIFO would block). The first bytes are checked
    for an image signature before the rest is read, so a multi-gigabyte non-image
    costs nothing; a file larger than ``max_bytes`` is refused unread.

    >>> read_file("/nonexistent/car.jpg")
    Traceback (most recent call last):
    ...
    anpr.errors.ImageError: /nonexistent/car.jpg: no such file
    """
    label = name or os.fspath(path)
    if not label:
        raise ImageError("empty path")
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(f"{label}: is a directory, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(f"{label}: not a regular file")
        if st.st_size == 0:
            raise ImageError(f"{label}: empty file (0 bytes)")
        if max_bytes is not None and st.st_size > max_bytes:
            raise ImageError(
                f"{label}: file too large for an image ({st.st_size / 1e6:.0f} MB; "
                f"the limit is {max_bytes / 1e6:.0f} MB)"
            )
        with open(path, "rb") as fh:
            head = fh.read(32)
            if head and sniff_format(head) is None:
                raise ImageError(f"{label}: not an image (unrecognised content)")
            data = head + fh.read()
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{label}: no such file") from None
    except NotADirectoryError:  # a path through a file: "photo.jpg/x"
        raise ImageError(f"{label}: no such file") from None
    except PermissionError:
        raise ImageError(f"{label}: permission denied") from None
    except IsADirectoryError:
        raise ImageError(f"{label}: is a directory, not an image file") from None
    except (OSError, ValueError) as exc:  # ValueError: embedded NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ImageError(f"{label}: cannot read file ({reason})") from None
    if not data:  # the file shrank between stat and read
        raise ImageError(f"{label}: empty file (0 bytes)")
    return data


def max_file_bytes(max_pixels: int) -> int:
    """Largest file worth reading for ``max_pixels``: an uncompressed 16-bit RGBA
    image of that size, plus room for metadata."""
    return 8 * max_pixels + (64 << 20)


# --------------------------------------------------------------------------- headers


def sniff_format(data: bytes) -> str | None:
    """Name the image format of ``data`` from its first bytes, or None.

    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...")
    'png'
    >>> sniff_format(b"hello") is None
    True
    """
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"BM") and len(data) >= 26:
        return "bmp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"1234567" and head[2:3].isspace():
        return "pnm"
    if head.startswith((b"PF\n", b"Pf\n", b"PF\r", b"Pf\r")):
        return "pfm"
    if head.startswith(b"\x59\xa6\x6a\x95"):
        return "sunras"
    if head.startswith((b"#?RADIANCE", b"#?RGBE")):
        return "hdr"
    if head.startswith(b"\x76\x2f\x31\x01"):
        return "exr"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    if head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n") or head.startswith(b"\xff\x0a"):
        return "jxl"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis", b"mif1", b"msf1"):
        return "avif"
    return None


class _Header:
    """What a cheap look at the header tells: size (or None), alpha, truncation."""

    __slots__ = ("width", "height", "alpha", "problem")

    def __init__(self, width=None, height=None, alpha=False, problem=None):
        self.width, self.height, self.alpha, self.problem = width, height, alpha, problem


def read_header(data: bytes, fmt: str) -> _Header:
    """Parse the size (and alpha, and obvious truncation) from ``data``'s header.

    Never decodes pixels. Returns a header with ``problem`` set when the file is
    visibly broken, and ``width``/``height`` None when the format's size is not parsed.
    """
    try:
        parser = _HEADER_PARSERS.get(fmt)
        return parser(data) if parser else _Header()
    except (struct.error, IndexError, ValueError):
        return _Header(problem="truncated or corrupt header")


def _png_header(d: bytes) -> _Header:
    if len(d) < 33 or d[12:16] != b"IHDR":
        return _Header(problem="truncated or corrupt PNG header")
    w, h, _depth, ctype = struct.unpack(">IIBB", d[16:26])
    # tRNS turns a palette or RGB image into one with transparency
    idat = d.find(b"IDAT")
    alpha = ctype in (4, 6) or (d.find(b"tRNS", 33, idat if idat > 0 else None) > 0)
    problem = None if d.rfind(b"IEND") > 33 else "truncated PNG (no IEND chunk)"
    return _Header(w, h, alpha, problem)


def _jpeg_header(d: bytes) -> _Header:
    i, n = 2, len(d)
    w = h = None
    while i < n:
        if d[i] != 0xFF:
            return _Header(w, h, problem="corrupt JPEG (bad marker)")
        while i < n and d[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            break
        marker = d[i]
        i += 1
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            continue
        if marker == 0xD9:
            break
        if i + 2 > n:
            break
        (length,) = struct.unpack(">H", d[i : i + 2])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 7 > n:
                break
            h, w = struct.unpack(">HH", d[i + 3 : i + 7])
        if marker == 0xDA:  # start of scan: entropy-coded data follows up to EOI
            if w is None:
                return _Header(problem="corrupt JPEG (scan before frame header)")
            # 0xFF inside scan data is always stuffed (FF 00), so FF D9 is the real end
            ok = d.find(b"\xff\xd9", i) > 0
            return _Header(w, h or None, problem=None if ok else "truncated JPEG (no end-of-image marker)")
        i += length
    return _Header(w, h, problem="truncated JPEG (ends before the image data)")


def _bmp_header(d: bytes) -> _Header:
    (hsize,) = struct.unpack("<I", d[14:18])
    if hsize == 12:
        w, h = struct.unpack("<HH", d[18:22])
    else:
        w, h = struct.unpack("<ii", d[18:26])
    return _Header(abs(w), abs(h))


def _gif_header(d: bytes) -> _Header:
    w, h = struct.unpack("<HH", d[6:10])
    return _Header(w, h)


def _webp_header(d: bytes) -> _Header:
    chunk = d[12:16]
    if chunk == b"VP8X":
        flags = d[20]
        w = 1 + int.from_bytes(d[24:27], "little")
        h = 1 + int.from_bytes(d[27:30], "little")
        return _Header(w, h, alpha=bool(flags & 0x10))
    if chunk == b"VP8L":
        if d[20] != 0x2F:
            return _Header(problem="corrupt WebP (bad lossless signature)")
        bits = int.from_bytes(d[21:25], "little")
        return _Header(1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), alpha=bool(bits >> 28 & 1))
    if chunk == b"VP8 ":
        if d[23:26] != b"\x9d\x01\x2a":
            return _Header(problem="corrupt WebP (bad frame signature)")
        w, h = struct.unpack("<HH", d[26:30])
        return _Header(w & 0x3FFF, h & 0x3FFF)
    return _Header(problem="corrupt WebP (unknown chunk)")


def _tiff_header(d: bytes) -> _Header:
    e = "<" if d[:2] == b"II" else ">"
    big = struct.unpack(e + "H", d[2:4])[0] == 43
    if big:
        (off,) = struct.unpack(e + "Q", d[8:16])
        (count,) = struct.unpack(e + "Q", d[off : off + 8])
        entry, start, vfmt = 20, off + 8, {3: "H", 4: "I", 16: "Q"}
    else:
        (off,) = struct.unpack(e + "I", d[4:8])
        (count,) = struct.unpack(e + "H", d[off : off + 2])
        entry, start, vfmt = 12, off + 2, {3: "H", 4: "I"}
    if off == 0 or count > 4096:
        return _Header(problem="corrupt TIFF (bad directory)")
    tags: dict[int, int] = {}
    for k in range(count):
        p = start + k * entry
        tag, typ = struct.unpack(e + "HH", d[p : p + 4])
        if tag in (256, 257, 338) and typ in vfmt:
            vpos = p + (12 if big else 8)
            (tags[tag],) = struct.unpack(e + vfmt[typ], d[vpos : vpos + struct.calcsize(vfmt[typ])])
    if 256 not in tags or 257 not in tags:
        return _Header(problem="corrupt TIFF (no image size)")
    # ExtraSamples 1/2 = associated/unassociated alpha; 0 is "unspecified", not alpha
    return _Header(tags[256], tags[257], alpha=tags.get(338) in (1, 2))


def _pnm_header(d: bytes) -> _Header:
    if d[1:2] == b"7":  # PAM: WIDTH/HEIGHT lines
        text = d[:512].split(b"ENDHDR")[0].split()
        fields: dict[bytes, int] = {}
        for i, tok in enumerate(text[:-1]):
            if tok in (b"WIDTH", b"HEIGHT"):
                fields[tok] = int(text[i + 1])
        return _Header(fields.get(b"WIDTH"), fields.get(b"HEIGHT"))
    tokens: list[bytes] = []
    for line in d[2:512].splitlines():
        tokens += line.split(b"#")[0].split()
        if len(tokens) >= 2:
            break
    return _Header(int(tokens[0]), int(tokens[1]))


def _pfm_header(d: bytes) -> _Header:
    w, h = d[3:128].split()[:2]
    return _Header(int(w), int(h))


def _sunras_header(d: bytes) -> _Header:
    w, h = struct.unpack(">II", d[4:12])
    return _Header(w, h)


_HEADER_PARSERS = {
    "png": _png_header,
    "jpeg": _jpeg_header,
    "bmp": _bmp_header,
    "gif": _gif_header,
    "webp": _webp_header,
    "tiff": _tiff_header,
    "pnm": _pnm_header,
    "pfm": _pfm_header,
    "sunras": _sunras_header,
}


def _check_pixels(width: int, height: int, max_pixels: int, name: str) -> None:
    if width * height > max_pixels:
        raise ImageError(
            f"{name}: image too large ({width}x{height} = {width * height / 1e6:.1f} MP; "
            f"the limit is {max_pixels / 1e6:g} MP)"
        )


# --------------------------------------------------------------------------- decoding

QUIET_ENV = "ANPR_QUIET_DECODER"
"""When this environment variable is "1", decoder chatter (libjpeg's "Corrupt JPEG
data", libpng errors, OpenCV log lines) is kept off stderr while decoding. The CLI
sets it, so the user sees one line per bad file, not the codec's diagnostics; it is
inherited by worker processes. It redirects file descriptor 2, so a library caller
that writes to stderr from other threads should leave it unset."""


@contextlib.contextmanager
def _quiet_stderr(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no usable fd 2: nothing to silence
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "<bytes>") -> np.ndarray:
    """Decode an encoded image into BGR ``uint8`` (see `load_image`).

    >>> decode_image(b"")
    Traceback (most recent call last):
    ...
    anpr.errors.ImageError: <bytes>: empty file (0 bytes)
    """
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageError(f"{name}: not an image (unrecognised content)")
    header = read_header(data, fmt)
    if header.width is not None and header.height is not None:
        if header.width == 0 or header.height == 0:
            raise ImageError(f"{name}: corrupt {fmt.upper()} (size {header.width}x{header.height})")
        _check_pixels(header.width, header.height, max_pixels, name)
    if header.problem:
        raise ImageError(f"{name}: {header.problem}")

    import cv2

    # ANYCOLOR|ANYDEPTH keeps 16-bit and float samples and applies EXIF orientation,
    # but drops alpha; only UNCHANGED keeps alpha (without orientation), so it is used
    # just for the images whose header declares transparency.
    flags = cv2.IMREAD_UNCHANGED if header.alpha else cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH
    try:
        with _quiet_stderr(os.environ.get(QUIET_ENV) == "1"):
            image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "decoder error"
        raise ImageError(f"{name}: cannot decode {fmt.upper()} ({reason})") from None
    if image is None or image.size == 0:
        raise ImageError(f"{name}: corrupt or truncated {fmt.upper()} (the decoder gave up)")
    if header.alpha:
        # UNCHANGED ignores EXIF orientation: decode once more the way that applies it
        # and turn the alpha image to match (rare: photos with alpha are few).
        with _quiet_stderr(os.environ.get(QUIET_ENV) == "1"):
            oriented = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
        if oriented is not None:
            image = orient_like(image, oriented)
    return to_bgr_uint8(image, max_pixels=max_pixels, name=name)


def orient_like(raw: np.ndarray, oriented: np.ndarray) -> np.ndarray:
    """``raw`` (with alpha) turned and flipped so that its colour equals ``oriented``
    (the same image decoded with EXIF orientation applied, alpha dropped); ``raw``
    unchanged when no turn or flip matches.

    >>> raw = np.zeros((2, 3, 4), np.uint8); raw[0, 0] = (9, 9, 9, 255)
    >>> orient_like(raw, np.rot90(raw[:, :, :3], -1)).shape     # EXIF 6: a quarter turn
    (3, 2, 4)
    """
    color = raw[:, :, :3] if raw.ndim == 3 and raw.shape[2] >= 3 else raw[:, :, 0] if raw.ndim == 3 else raw
    ref = oriented if color.ndim == 3 or oriented.ndim == 2 else oriented[:, :, 0]
    for k in range(4):
        for flip in (False, True):
            c = np.rot90(color[:, ::-1] if flip else color, -k)
            if c.shape == ref.shape and np.array_equal(c, ref):
                r = raw[:, ::-1] if flip else raw
                return np.ascontiguousarray(np.rot90(r, -k))
    return raw


# --------------------------------------------------------------------------- arrays


def to_bgr_uint8(
    array: np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "<array>"
) -> npt.NDArray[np.uint8]:
    """Convert a decoded or user-supplied array to C-contiguous BGR ``uint8``.

    bool -> 0/255; integers are clipped at 0 and scaled down by their peak when it is
    above 255 (so 12-bit data in a 16-bit container stays visible); floats are read
    as [0, 1] when their finite maximum is at most 1, else as [0, 255]; NaN and
    infinities become 0. A fourth (or second) channel is alpha, composited onto white.

    >>> to_bgr_uint8(np.array([[0.0, 0.5, np.nan]]))[0, :, 0].tolist()
    [0, 128, 0]
    >>> to_bgr_uint8(np.array([[0, 4095]], np.uint16))[0, :, 0].tolist()
    [0, 255]
    """
    if not isinstance(array, np.ndarray):
        raise ImageError(f"{name}: expected a numpy array, got {type(array).__name__}")
    kind = array.dtype.kind
    if kind not in "biuf":
        raise ImageError(f"{name}: unsupported array dtype {array.dtype} (use uint8, uint16 or float)")
    if array.size == 0:
        raise ImageError(f"{name}: empty array of shape {tuple(array.shape)}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        channels = 1
    elif array.ndim == 3 and array.shape[2] in (2, 3, 4):
        channels = array.shape[2]
    else:
        raise ImageError(
            f"{name}: unsupported array shape {tuple(array.shape)} "
            "(expected (H, W) gray, (H, W, 3) BGR or (H, W, 4) BGRA)"
        )
    height, width = array.shape[:2]
    _check_pixels(width, height, max_pixels, name)

    if channels == 3 and array.dtype == np.uint8 and array.flags.c_contiguous:
        return array

    if kind == "b" or array.dtype != np.uint8:
        array = _to_uint8(array)

    if channels in (2, 4):
        array = _composite_on_white(array[..., :-1], array[..., -1:])
        if channels == 2:
            array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.uint8) * np.uint8(255)
    if kind in "iu":
        peak: float = int(array.max())
        if kind == "i":
            array = np.clip(array, 0, None)
        if peak <= 255:
            return array.astype(np.uint8)
        if array.dtype == np.uint16:
            import cv2

            # one pass in C, no float copy: a 60 MP 16-bit RGB image stays ~0.5 GB
            return cv2.convertScaleAbs(np.ascontiguousarray(array), alpha=255.0 / peak)
        # float64 keeps 64-bit integers exact enough and never overflows
        return np.rint(array.astype(np.float64) * (255.0 / peak)).astype(np.uint8)
    # float: non-finite values carry no picture
    with np.errstate(all="ignore"):
        a = array.astype(np.float32 if array.dtype.itemsize <= 4 else np.float64)
        finite = np.isfinite(a)
        if not finite.all():
            a[~finite] = 0.0
        peak = float(a.max())
        if peak <= 1.0:
            a *= 255.0
        np.clip(a, 0.0, 255.0, out=a)
        return np.rint(a).astype(np.uint8)


def to_gray(image: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """Gray ``(H, W)`` copy of a gray ``(H, W)``/``(H, W, 1)`` or BGR(A) ``(H, W, 3|4)``
    image: the one gray conversion of every stage (alpha, if any, is ignored).

    Samples that are not ``uint8`` are first brought to 8 bits by the rule
    `to_bgr_uint8` applies to every photo read: integers clipped at 0 and scaled
    by 255 / peak when their peak is above 255 (16-bit and 12-bit data alike fill
    the range), floats read as [0, 1] when at most 1, else as [0, 255].
    ``dtype=np.uint8`` gives OpenCV's ``BGR2GRAY`` (a gray ``uint8`` image is returned
    as is); ``dtype=np.float32`` the unrounded weighted sum (0.114 B + 0.587 G + 0.299 R),
    what the character model reads.

    >>> to_gray(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)).tolist()
    [[29, 76]]
    >>> to_gray(np.array([[0, 2048, 4096]], np.uint16)).tolist()
    [[0, 128, 255]]
    >>> to_gray(np.array([[[255, 0, 0]]], np.uint8), np.float32).tolist()
    [[29.06999969482422]]
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"expected a 2-D gray or 3-D color array with 1, 3 or 4 channels, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"empty image of shape {a.shape}")
    if a.dtype != np.uint8:
        a = _to_uint8(a)
    if dtype == np.float32:
        if a.ndim == 2:
            return a.astype(np.float32)
        return (a[:, :, 0] * 0.114 + a[:, :, 1] * 0.587 + a[:, :, 2] * 0.299).astype(np.float32)
    if dtype != np.uint8:
        raise ValueError(f"dtype must be np.uint8 or np.float32, got {dtype}")
    if a.ndim == 2:
        return a
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(a[:, :, :3]), cv2.COLOR_BGR2GRAY)


def _composite_on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``color * a + white * (1 - a)`` in integers (uint8 in, uint8 out)."""
    a = alpha.astype(np.uint16)
    out = color.astype(np.uint16)
    out *= a
    out += (255 - a) * 255 + 127
    out //= 255
    return out.astype(np.uint8)


def is_image_name(path: str | os.PathLike[str]) -> bool:
    """True when the file name ends in an image extension (any case).

    >>> is_image_name("a/B.JPG"), is_image_name("notes.txt")
    (True, False)
    """
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FORMAT_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "decode_image",
    "is_image_name",
    "load_image",
    "max_file_bytes",
    "read_file",
    "sniff_format",
    "to_bgr_uint8",
    "to_gray",
]


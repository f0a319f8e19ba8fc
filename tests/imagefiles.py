"""Craft the awkward image files of the robustness battery (shared by several tests)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def encode(image: np.ndarray, ext: str) -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, image)
    assert ok, ext
    return buf.tobytes()


def exif_app1(orientation: int) -> bytes:
    """A JPEG APP1 segment holding just an EXIF Orientation tag."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def marked_photo() -> np.ndarray:
    """A 40x80 BGR image: red left half, blue right half, so rotation is visible."""
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40] = (0, 0, 255)
    img[:, 40:] = (255, 0, 0)
    return img


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """A landscape JPEG whose EXIF says to rotate it (6 = 90 degrees clockwise)."""
    jpg = encode(marked_photo(), ".jpg")
    return jpg[:2] + exif_app1(orientation) + jpg[2:]


def exif_rotated_png(orientation: int = 6, alpha: bool = True) -> bytes:
    """The marked photo as a PNG (with an opaque alpha channel) whose eXIf chunk says
    to rotate it."""
    img = marked_photo()
    if alpha:
        img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    png = encode(img, ".png")
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    at = png.index(b"IDAT") - 4
    return png[:at] + _chunk(b"eXIf", tiff) + png[at:]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png_header(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny, well-formed-looking PNG whose IHDR claims ``width`` x ``height`` gray pixels.

    The IDAT holds a few rows only: a loader that trusts the header and decodes first
    would allocate width*height bytes before noticing.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def huge_jpeg_header(width: int = 20000, height: int = 20000) -> bytes:
    """A small JPEG with its frame header patched to claim ``width`` x ``height``."""
    jpg = bytearray(encode(np.zeros((16, 16, 3), np.uint8), ".jpg"))
    i = 2
    while True:
        assert jpg[i] == 0xFF
        marker = jpg[i + 1]
        length = struct.unpack(">H", jpg[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            jpg[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(jpg)
        i += 2 + length


def battery(folder: Path, good: list[Path]) -> dict[str, Path]:
    """Write the robustness battery into ``folder``; returns name -> path.

    ``good`` photos are copied in too, so callers can check they are still read
    beside the bad ones.
    """
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        files[name] = path

    photo = marked_photo()
    jpg = encode(photo, ".jpg")
    put("zero-byte.jpg", b"")
    put("truncated.jpg", jpg[: len(jpg) // 2])
    put("text-named.jpg", b"this is a text file, not a photo\n" * 10)
    put("random-bytes.png", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    put("one-pixel.png", encode(np.full((1, 1, 3), 200, np.uint8), ".png"))
    put("gray16.png", encode((np.arange(60 * 90).reshape(60, 90) * 7 % 65536).astype(np.uint16), ".png"))
    put("gray16.tiff", encode(np.full((30, 40), 40000, np.uint16), ".tiff"))
    bgra = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    bgra[:10, :10, 3] = 0
    put("rgba.png", encode(bgra, ".png"))
    put("exif-rotated.jpg", exif_rotated_jpeg(6))
    put("huge-20000x20000.png", huge_png_header())
    put("huge-20000x20000.jpg", huge_jpeg_header())
    sub = folder / "dossier à côté"
    sub.mkdir(exist_ok=True)
    path = sub / "photo de côté ü.jpg"
    path.write_bytes(jpg)
    files["non-ascii path"] = path
    for g in good:
        target = folder / ("good-" + g.name)
        shutil.copyfile(g, target)
        files[target.name] = target
    return files

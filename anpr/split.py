"""Split labelled data into a *fit* and a *check* part, by a hash of a group key.

Models are fitted and thresholds chosen on *fit*; figures are reported on *check*.
The key groups what must stay together: every view of one plate (scenes and plate
crops: the plate text), every plate of one photo (detection photos: the file name).
The hash is stable across machines and Python runs, so the split never changes.

Examples
--------
>>> part_of("7ABC123")
'fit'
>>> sum(part_of(f"key{i}") == "check" for i in range(1000))
178
"""

from __future__ import annotations

import hashlib
import re

CHECK_PERCENT = 20
"""Share of the groups, in percent, that go to the check part."""


def hash_percent(key: str, salt: str = "") -> int:
    """A stable number in ``[0, 100)`` for a group key (case and surrounding spaces
    ignored); a ``salt`` draws an independent one.

    >>> hash_percent("7abc123 ") == hash_percent("7ABC123") != hash_percent("7ABC123", "val:")
    True
    """
    digest = hashlib.sha1((salt + key.strip().upper()).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def part_of(key: str, check_percent: int = CHECK_PERCENT) -> str:
    """``"check"`` or ``"fit"`` for a group key."""
    if not 0 <= check_percent <= 100:
        raise ValueError(f"check_percent must be in [0, 100], got {check_percent}")
    return "check" if hash_percent(key) < check_percent else "fit"


VIDEO_BLOCK_S = 60
"""Seconds of one video that stay together in a split: neighbouring frames of a drive
show the same cars (``detect/dashcam``: ``<video>_t<seconds>.jpg``)."""

_FRAME = re.compile(r"^(?P<video>.+)_t(?P<seconds>\d+)$")


def group_key(image: str, plate: str | None = None) -> str:
    """The key that keeps a group together: the plate text when known, else the
    photo's file name (without folders and extension), or for a video frame named
    ``<video>_t<seconds>`` its video and block of `VIDEO_BLOCK_S` seconds.

    >>> group_key("a/7abc123.jpg"), group_key("x.jpg", "7abc123 ")
    ('7abc123', '7ABC123')
    >>> group_key("ride_001_t00061.jpg") == group_key("ride_001_t00119.jpg") != group_key("ride_001_t00120.jpg")
    True
    """
    if plate:
        return plate.strip().upper()
    name = image.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    frame = _FRAME.match(stem)
    if frame:
        return f"{frame['video']}_block{int(frame['seconds']) // VIDEO_BLOCK_S}"
    return stem

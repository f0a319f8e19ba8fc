"""Plates from video files, stream URLs and cameras: one `PlateEvent` per vehicle.

Frames come from OpenCV's ``VideoCapture`` (the FFmpeg backend of the OpenCV wheel).
A file is read at its own pace, ``fps`` frames per second of video (the others are
grabbed, not decoded into images). A live source (a URL or a camera index) is read by
a thread that keeps only the newest frame: when reading plates is slower than the
stream, frames are dropped, never queued, so memory stays flat however long it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AnprError, VideoError
from .images import sniff_format
from .track import GAP_S, MIN_CONFIDENCE, MIN_FRAMES, PlateEvent, PlateTracker

DEFAULT_FPS = 5.0
"""Frames read per second of video by default: a car stays in view for a second or
more, so five looks at it are plenty, at a fraction of the cost of every frame."""

OPEN_TIMEOUT_S = 10.0
"""How long opening or reading a network stream may hang before it counts as failed."""

RECONNECT_MAX_S = 30.0
"""Longest wait between two attempts to reopen a dropped live stream."""

_URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass(frozen=True)
class Frame:
    """One frame: its ``index`` in the source, ``time_s`` from the start, ``image`` (BGR)."""

    index: int
    time_s: float
    image: np.ndarray


def is_live(source: str | int) -> bool:
    """Whether ``source`` is a live stream (URL or camera index) rather than a file.

    >>> is_live("rtsp://cam/1"), is_live(0), is_live("0"), is_live("clip.mp4")
    (True, True, True, False)
    """
    return isinstance(source, int) or str(source).isdigit() or str(source).lower().startswith(_URL_SCHEMES)


def _open(source: str | int):
    import cv2

    if isinstance(source, int) or str(source).isdigit():
        return cv2.VideoCapture(int(source))
    ms = int(OPEN_TIMEOUT_S * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    return cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, params)


class VideoFrames:
    """Iterate over the frames of a source, ``fps`` per second of video.

    Parameters
    ----------
    source : str, path or int
        A video file, a stream URL (``rtsp://``, ``http://``...) or a camera index.
    fps : float
        Frames read per second of video; 0 reads every frame.
    reconnect : bool
        Reopen a live source that drops, with growing waits (up to `RECONNECT_MAX_S`).
    stop : threading.Event, optional
        Setting it ends the frames early (from a signal handler or another thread).

    Raises
    ------
    VideoError
        When the source cannot be opened or gives no frame at all.
    """

    def __init__(self, source: str | Path | int, fps: float = DEFAULT_FPS, *, reconnect: bool = False,
                 stop: threading.Event | None = None):
        if fps < 0:
            raise ValueError(f"fps must be >= 0, got {fps}")
        self.source = source if isinstance(source, int) else str(source)
        self.name = str(source)
        self.fps = float(fps)
        self.live = is_live(self.source)
        self.reconnect = reconnect
        if not self.live and not Path(str(self.source)).is_file():
            raise VideoError(f"{self.name}: no such file")
        if not self.live:
            with open(self.source, "rb") as f:
                head = f.read(32)
            if not head:
                raise VideoError(f"{self.name}: empty file")
            fmt = sniff_format(head)
            if fmt is not None and fmt != "gif":
                raise VideoError(f"{self.name}: a {fmt.upper()} photo, not a video (read it with anpr read-plate)")
        self._cap = _open(self.source)
        if not self._cap.isOpened():
            self._cap.release()
            what = "not a video, or a codec OpenCV cannot read" if not self.live else "cannot connect"
            raise VideoError(f"{self.name}: cannot open ({what})")
        native = self._cap.get(5)  # CAP_PROP_FPS
        self.native_fps = float(native) if native and np.isfinite(native) and native > 0 else 25.0
        count = self._cap.get(7)  # CAP_PROP_FRAME_COUNT
        self.frame_count = int(count) if not self.live and count and count > 0 else None
        self._stop = threading.Event()  # set by close()
        self._halt = stop  # set by the caller

    @property
    def step(self) -> int:
        """Frames of the file per frame read."""
        return 1 if self.fps <= 0 else max(1, round(self.native_fps / self.fps))

    def __iter__(self) -> Iterator[Frame]:
        return self._live() if self.live else self._file()

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._halt is not None and self._halt.is_set())

    def close(self) -> None:
        self._stop.set()
        self._cap.release()

    def _file(self) -> Iterator[Frame]:
        step, k, got = self.step, 0, 0
        while not self._stopped():
            if k % step == 0:
                ok, image = self._cap.read()
                if not ok or image is None:
                    break
                got += 1
                yield Frame(k, k / self.native_fps, image)
            elif not self._cap.grab():
                break
            k += 1
        if got == 0 and not self._stopped():
            raise VideoError(f"{self.name}: no frame could be decoded (not a video, or truncated)")

    def _live(self) -> Iterator[Frame]:
        slot: dict[str, Any] = {}
        fresh = threading.Condition()
        t0 = time.monotonic()

        def grab() -> None:
            k, wait = 0, 0.5
            while not self._stop.is_set():
                ok, image = self._cap.read()
                if ok and image is not None:
                    wait = 0.5
                    with fresh:
                        slot["frame"] = Frame(k, time.monotonic() - t0, image)  # older one dropped
                        fresh.notify()
                    k += 1
                    continue
                if not self.reconnect:
                    break
                self._cap.release()
                if self._stop.wait(wait):
                    break
                wait = min(RECONNECT_MAX_S, wait * 2)
                self._cap = _open(self.source)
            with fresh:
                slot["done"] = True
                fresh.notify()

        thread = threading.Thread(target=grab, name="anpr-video-grab", daemon=True)
        thread.start()
        period = 0.0 if self.fps <= 0 else 1.0 / self.fps
        next_due, got = 0.0, 0
        try:
            while True:
                with fresh:
                    while "frame" not in slot and "done" not in slot and not self._stopped():
                        fresh.wait(0.5)
                    frame = slot.pop("frame", None)
                    if frame is None or self._stopped():
                        break
                if frame.time_s < next_due:
                    continue
                next_due = frame.time_s + period
                got += 1
                yield frame
        finally:
            self._stop.set()
            thread.join(timeout=OPEN_TIMEOUT_S)
        if got == 0 and not self._stopped():
            raise VideoError(f"{self.name}: the stream gave no frame")


def read_video(
    source: str | Path | int | VideoFrames,
    *,
    fps: float = DEFAULT_FPS,
    reader: Any = None,
    region: str | None = None,
    gap_s: float = GAP_S,
    min_frames: int = MIN_FRAMES,
    min_confidence: float = MIN_CONFIDENCE,
    keep_frames: bool = False,
    reconnect: bool = False,
    on_frame: Callable[[Frame, list], None] | None = None,
    stop: threading.Event | None = None,
) -> Iterator[PlateEvent]:
    """Yield one `PlateEvent` per vehicle seen in ``source``, as each one closes.

    Parameters
    ----------
    source : str, path, int or VideoFrames
        Video file, stream URL or camera index, or one already opened as `VideoFrames`
        (its own ``fps``, ``reconnect`` and ``stop`` then apply).
    fps : float
        Frames read per second of video (0: all).
    reader : PlateReader, optional
        The reader to use; a new one for ``region`` when None.
    gap_s, min_frames, min_confidence, keep_frames
        See `~anpr.track.PlateTracker`.
    reconnect : bool
        Reopen a live stream that drops.
    on_frame : callable, optional
        Called with each frame read and its plates (for drawing, progress).
    stop : threading.Event, optional
        Setting it (from a signal handler, say) ends reading after the current frame;
        the open tracks are then closed and their events yielded as at the end.

    Raises
    ------
    VideoError
        The source cannot be opened or gives no frame. Events closed before a failure
        (or Ctrl-C) are yielded first: the open tracks are closed and reported, then
        the error is raised.
    """
    frames = source if isinstance(source, VideoFrames) else VideoFrames(source, fps, reconnect=reconnect, stop=stop)
    if reader is None:
        from .reader import PlateReader

        reader = PlateReader(region=region)
    tracker = PlateTracker(reader, gap_s=gap_s, min_frames=min_frames, min_confidence=min_confidence,
                           keep_frames=keep_frames, source=frames.name)
    failure: BaseException | None = None
    try:
        for frame in frames:
            try:
                events = tracker.update(frame.image, frame.time_s, frame.index)
            except AnprError:
                events, tracker.last_plates = [], []  # one unreadable frame never stops a stream
            if on_frame is not None:
                on_frame(frame, tracker.last_plates)
            yield from events
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - re-raised after the open tracks are out
        failure = exc
    finally:
        frames.close()
    yield from tracker.close()
    if failure is not None:
        raise failure

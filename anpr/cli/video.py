"""``anpr read-video SOURCE``: one event per vehicle from a video file, stream or camera."""

from __future__ import annotations

import json
import queue
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    display,
    echo_err,
    errors_to_exit,
    model_option,
    quiet_opencv,
    reader_kwargs,
    region_option,
    verbose_option,
)

WEBHOOK_TRIES = 4
"""Attempts per event (waits of 0.5, 1 and 2 s between them)."""

WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_QUEUE = 1000
"""Events waiting for the webhook at most; more are reported as not delivered."""


class Webhook:
    """POST each event as JSON from a background thread, with retries and backoff.

    A failure is one line on stderr; reading never waits for the webhook.
    """

    def __init__(self, url: str, tries: int = WEBHOOK_TRIES, timeout: float = WEBHOOK_TIMEOUT_S,
                 backoff: float = 0.5):
        if not url.lower().startswith(("http://", "https://")):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--webhook")
        self.url, self.tries, self.timeout, self.backoff = url, tries, timeout, backoff
        self.failed = 0
        self._queue: queue.Queue = queue.Queue(WEBHOOK_QUEUE)
        self._thread = threading.Thread(target=self._run, name="anpr-webhook", daemon=True)
        self._thread.start()

    def post(self, event: dict) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.failed += 1
            echo_err(f"webhook: event {event.get('text')} not delivered: too many events waiting")

    def close(self, wait_s: float = 30.0) -> None:
        """Deliver what is queued (waiting at most ``wait_s``), then stop."""
        self._queue.put(None)
        self._thread.join(wait_s)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            body = json.dumps(event).encode("utf-8")
            error = None
            for attempt in range(self.tries):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                try:
                    req = urllib.request.Request(self.url, data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                        resp.read()
                    error = None
                    break
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    error = getattr(exc, "reason", None) or exc
            if error is not None:
                self.failed += 1
                echo_err(f"webhook: event {event.get('text')} at {event.get('first_time_s')} s not delivered "
                         f"after {self.tries} tries: {error}")


def _stop_on_signals(stop: threading.Event) -> dict:
    """Ctrl-C or SIGTERM (a service manager stopping us) ends reading gracefully: the
    open tracks are closed and their events written before exiting. A second Ctrl-C
    interrupts at once. Returns the previous handlers."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread
            pass
    return previous


@click.command("read-video")
@click.argument("source")
@click.option("--fps", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Frames read per second of video; 0 reads every frame.")
@region_option
@model_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event per line, as each event closes.")
@click.option("--snapshots", type=click.Path(file_okay=False), default=None,
              help="Write the best frame of each event, with the plate drawn, into this folder.")
@click.option("--annotate", type=click.Path(dir_okay=False), default=None,
              help="Write the frames read, with plates drawn, to this video file (.mp4).")
@click.option("--webhook", default=None, metavar="URL", help="POST each event as JSON to this URL.")
@click.option("--webhook-tries", type=click.IntRange(min=1), default=WEBHOOK_TRIES, show_default=True,
              help="Attempts per event before it counts as not delivered (waits 0.5, 1, 2... s between).")
@click.option("--gap", type=click.FloatRange(min=0.01), default=1.5, show_default=True,
              help="Seconds a plate may go unseen before its event closes.")
@click.option("--min-frames", type=click.IntRange(min=1), default=2, show_default=True,
              help="Readings a vehicle needs to become an event.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Voted confidence an event needs.")
@click.option("--reconnect", is_flag=True, help="Reopen a live stream that drops, with growing waits.")
@click.option("--progress", is_flag=True, help="A progress bar over a file's frames on stderr.")
@verbose_option
def read_video(source: str, fps: float, region: str | None, model: str | None, as_json: bool,
               snapshots: str | None, annotate: str | None, webhook: str | None, webhook_tries: int, gap: float,
               min_frames: int, min_confidence: float, reconnect: bool, progress: bool,
               verbose: bool) -> None:
    """Read the plates of the vehicles in SOURCE: a video file, a stream URL
    (rtsp://, http://...) or a camera index (0, 1...).

    Readings of successive frames are grouped into one event per vehicle, its text
    voted over the frames. Prints one line per event as it closes
    (``first-last s  TEXT  (confidence, N frames)``), or with --json one object:
    {"text", "confidence", "first_time_s", "last_time_s", "frames", "best_frame",
    "box", "candidates", "source"}. A source that cannot be read gets a one-line error
    and exit code 1; events found before are kept. Ctrl-C or SIGTERM closes the open
    tracks and writes their events first.
    """
    hook = Webhook(webhook, tries=webhook_tries) if webhook else None
    stop = threading.Event()
    with errors_to_exit(verbose, model):
        quiet_opencv(verbose)
        previous = _stop_on_signals(stop)
        try:
            _run(source, fps, reader_kwargs(model, region), as_json, snapshots, annotate, hook, gap,
                 min_frames, min_confidence, reconnect, progress, stop)
        finally:
            for sig, h in previous.items():
                signal.signal(sig, h)
            if hook is not None:
                hook.close()
    status = EXIT_OK
    if stop.is_set():
        status = EXIT_INTERRUPTED
        echo_err("interrupted: the open tracks were closed and their events written")
    if hook is not None and hook.failed:
        echo_err(f"webhook: {hook.failed} event(s) not delivered (all are on stdout)")
    raise SystemExit(status)


def _run(source, fps, kwargs, as_json, snapshots, annotate, hook, gap, min_frames, min_confidence,
         reconnect, progress, stop) -> None:
    from ..draw import annotate as draw_plates
    from ..reader import PlateReader
    from ..video import VideoFrames, read_video

    # Opened before the models load, to fail early; its length sizes the progress bar.
    frames = VideoFrames(source, fps, reconnect=reconnect, stop=stop)
    total = frames.frame_count
    reader = PlateReader(**kwargs)
    writer: dict[str, Any] = {}
    bar = None
    if progress and total:
        bar = click.progressbar(length=total, label=f"reading {display(source)}", file=sys.stderr)
        bar.__enter__()
    done = [0]

    def on_frame(frame, plates) -> None:
        if bar is not None:
            bar.update(frame.index + 1 - done[0])
            done[0] = frame.index + 1
        if annotate:
            _write_frame(writer, annotate, draw_plates(frame.image, plates), fps)

    snap_dir = Path(snapshots) if snapshots else None
    if snap_dir is not None:
        snap_dir.mkdir(parents=True, exist_ok=True)
    try:
        for event in read_video(frames, reader=reader, gap_s=gap, min_frames=min_frames,
                                min_confidence=min_confidence, keep_frames=snap_dir is not None,
                                on_frame=on_frame):
            record = event.to_dict()
            if as_json:
                click.echo(json.dumps(record))
            else:
                click.echo(f"{event.first_time_s:7.2f}-{event.last_time_s:.2f} s  {event.text}  "
                           f"({event.confidence:.2f}, {event.frames} frames)")
            sys.stdout.flush()
            if snap_dir is not None and event.image is not None:
                _write_snapshot(snap_dir, event, draw_plates)
            if hook is not None:
                hook.post(record)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if "writer" in writer:
            writer["writer"].release()


def _write_frame(writer: dict, path: str, image, fps: float) -> None:
    import cv2

    if "writer" not in writer:
        h, w = image.shape[:2]
        rate = fps if fps > 0 else 25.0
        vw = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), rate, (w, h))
        if not vw.isOpened():
            raise OSError(f"{path}: cannot write a video there")
        writer["writer"] = vw
    writer["writer"].write(image)


def _write_snapshot(folder: Path, event, draw_plates) -> None:
    import cv2

    plate = {"text": event.text, "confidence": event.confidence, "box": event.box, "corners": None, "chars": []}
    name = folder / f"{event.first_time_s:09.2f}s-{event.text}.jpg"
    if not cv2.imwrite(str(name), draw_plates(event.image, [plate])):
        echo_err(f"{name}: error: cannot write the snapshot")

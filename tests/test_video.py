"""``anpr read-video`` and `anpr.read_video` on videos built from the sample photos.

Each video shows three sample photos for two seconds each at 10 fps, zooming in and
panning slowly as an approaching car would look, every seventh frame motion-blurred.
The shipped models read them; nothing is mocked.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import cv2
import pytest
from click.testing import CliRunner

from anpr.cli import main
from videos import MjpegStream, approach, write_video

CARS = [("us-us4.jpg", "520MRK"), ("br-PJU2853.jpg", "PJU2853"), ("eu-test_021.jpg", "RK855AP")]
SIZE = (960, 540)


@pytest.fixture(scope="module")
def photos(samples_dir):
    return [cv2.imread(str(samples_dir / name)) for name, _ in CARS]


@pytest.fixture(scope="module")
def three_cars(tmp_path_factory, photos):
    return write_video(tmp_path_factory.mktemp("video") / "three.mp4", photos, size=SIZE)


def run_cli(*args):
    result = CliRunner().invoke(main, ["read-video", *map(str, args)])
    lines = [json.loads(s) for s in result.stdout.splitlines() if s.startswith("{")]
    return result, lines


def assert_three_cars(events, step=0.1):
    assert [e["text"] for e in events] == [t for _, t in CARS]
    for k, e in enumerate(events):
        # car k is on screen from 2k s to 2k + 2 s
        assert 2 * k - 0.01 <= e["first_time_s"] <= 2 * k + 0.5
        assert 2 * k + 1.4 <= e["last_time_s"] <= 2 * k + 2 - step + 0.01
        assert e["confidence"] > 0.8


def test_three_cars_give_three_events_in_order(three_cars):
    result, events = run_cli(three_cars, "--json")
    assert result.exit_code == 0, result.output
    assert_three_cars(events, step=0.2)
    assert all(e["source"] == str(three_cars) for e in events)
    # default 5 fps of a 10 fps video: every other frame, about 10 per car
    assert all(8 <= e["frames"] <= 10 for e in events)


def test_every_frame_and_the_library_agree(three_cars):
    import anpr

    result, events = run_cli(three_cars, "--json", "--fps", "0")
    assert result.exit_code == 0
    assert_three_cars(events)
    assert all(15 <= e["frames"] <= 20 for e in events)
    lib = [e.to_dict() for e in anpr.read_video(three_cars, fps=0)]
    assert lib == events


def test_human_lines_snapshots_and_annotated_video(three_cars, tmp_path):
    snaps, out = tmp_path / "snaps", tmp_path / "annotated.mp4"
    result, _ = run_cli(three_cars, "--snapshots", snaps, "--annotate", out, "--progress")
    assert result.exit_code == 0, result.output
    lines = [s for s in result.stdout.splitlines() if s.strip()]
    assert [s.split()[2] for s in lines] == [t for _, t in CARS]
    shots = sorted(p.name for p in snaps.iterdir())
    assert len(shots) == 3 and all(t in s for s, (_, t) in zip(shots, CARS))
    assert cv2.imread(str(snaps / shots[0])).shape[:2] == SIZE[::-1]
    cap = cv2.VideoCapture(str(out))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert n == 30  # the frames read at 5 fps


def test_a_video_without_plates_gives_no_event(tmp_path, photos):
    # The top third of the photos: street and sky, no plate.
    empty = [p[: p.shape[0] // 3] for p in photos]
    video = write_video(tmp_path / "empty.mp4", empty, seconds=1.0, size=SIZE)
    result, events = run_cli(video, "--json")
    assert result.exit_code == 0 and events == []


@pytest.mark.parametrize("content, why", [
    (b"", "empty file"),
    (b"this is not a video at all" * 100, "cannot open"),
    (None, "no such file"),
])
def test_bad_sources_get_a_one_line_error_and_exit_1(tmp_path, content, why):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    result, events = run_cli(path)
    assert result.exit_code == 1 and events == []
    err = result.stderr.strip()
    assert err.count("\n") == 0 and str(path) in err and why in err
    assert "Traceback" not in result.output


def test_truncated_video_and_photo_are_refused(tmp_path, three_cars, samples_dir):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(three_cars.read_bytes()[:5000])
    result, _ = run_cli(cut)
    assert result.exit_code == 1 and str(cut) in result.stderr
    result, _ = run_cli(samples_dir / "us-us4.jpg")
    assert result.exit_code == 1 and "photo, not a video" in result.stderr


def test_unreachable_stream_is_an_error(tmp_path):
    result, _ = run_cli("http://127.0.0.1:9/camera.mjpg")
    assert result.exit_code == 1 and "127.0.0.1:9" in result.stderr and "cannot" in result.stderr


class Collector(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_receives_every_event(three_cars):
    Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/events"
        result, events = run_cli(three_cars, "--json", "--webhook", url)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0
    assert len(events) == 3 and Collector.received == events


def test_a_webhook_that_is_down_loses_no_event_from_stdout(three_cars):
    with socket_closed_port() as port:
        result, events = run_cli(three_cars, "--json", "--webhook", f"http://127.0.0.1:{port}/x",
                                 "--webhook-tries", "2")
    assert result.exit_code == 0
    assert_three_cars(events, step=0.2)
    assert "not delivered" in result.stderr and "3 event(s) not delivered" in result.stderr


class socket_closed_port:
    """A loopback port nothing listens on."""

    def __enter__(self):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc):
        return False


@pytest.fixture()
def camera(photos):
    frames = [f for p in photos for f in approach(p, 20, SIZE)]
    stream = MjpegStream(frames, fps=10)
    yield stream
    stream.close()


def test_live_mjpeg_camera(camera):
    import anpr

    events = [e.to_dict() for e in anpr.read_video(camera.url)]
    assert [e["text"] for e in events] == [t for _, t in CARS]


def test_a_slow_reader_drops_live_frames_instead_of_queueing(camera):
    import anpr

    class Slow:
        """The shipped reader, made slow as on a busy machine."""

        def __init__(self):
            self.reader, self.frames = anpr.PlateReader(), 0

        def read(self, image):
            self.frames += 1
            time.sleep(0.4)
            return self.reader.read(image)

    slow = Slow()
    list(anpr.read_video(camera.url, fps=0, reader=slow))
    # 60 frames were sent over 6 s; a reader taking over 0.4 s each sees at most ~15
    assert 5 <= slow.frames <= 20


def test_sigterm_closes_open_tracks_and_writes_their_events(camera):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "anpr", "read-video", camera.url, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    first = proc.stdout.readline()  # the first car's event: its track closed (gap) at about 3.5 s
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    events = [json.loads(s) for s in [first, *rest.splitlines()] if s.startswith("{")]
    assert proc.returncode == 130, err
    assert [e["text"] for e in events] == ["520MRK", "PJU2853"]
    assert "Traceback" not in err


def test_reconnect_reopens_a_stream_that_drops(photos):
    """The camera ends its stream after one pass; --reconnect opens it again."""
    import threading

    import anpr

    frames = [f for p in photos[:1] for f in approach(p, 15, SIZE)]
    stream = MjpegStream(frames, fps=10)
    stop = threading.Event()
    events = []
    try:
        def run():
            events.extend(e.to_dict() for e in anpr.read_video(stream.url, reconnect=True, stop=stop, gap_s=0.5))

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 30
        while stream.connections < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        stop.set()
        t.join(30)
    finally:
        stream.close()
    assert stream.connections >= 2
    assert events and {e["text"] for e in events} == {"520MRK"}

"""``anpr serve``: the real server in a subprocess, spoken to over HTTP.

Every test talks to a server started with ``python -m anpr serve`` on a free port; the
answers are compared with what the library reads from the same photos.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from imagefiles import huge_png_header  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PHOTOS = sorted(SAMPLES.glob("*.jpg"))
MAX_BYTES = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anpr", "serve", "--port", str(self.port), "--log-level", "warning", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read()}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("server did not start in 120 s")

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def post_raw(self, data: bytes, query: str = "", headers: dict | None = None):
        h = {"Content-Type": "image/jpeg", **(headers or {})}
        return self.json("POST", "/v1/read" + query, data, h)

    def post_form(self, data: bytes, filename: str, fields: dict | None = None, headers: dict | None = None):
        body, ctype = multipart({"image": (filename, data)}, fields or {})
        return self.json("POST", "/v1/read", body, {"Content-Type": ctype, **(headers or {})})

    def json(self, method, path, body=None, headers=None):
        status, h, raw = self.request(method, path, body, headers)
        return status, h, json.loads(raw) if raw else None

    def memory_peak_mb(self) -> float:
        """Peak resident memory of the server and its reader processes (VmHWM, summed)."""
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for k in kids:
            out += [k, *_children(k)]
    return out


def multipart(files: dict, fields: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def without_time(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "time_ms"}


@pytest.fixture(scope="module")
def server():
    s = Server("--workers", "2", "--max-bytes", str(MAX_BYTES))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def library():
    """What the library reads from each sample, as read-plate --json records."""
    from anpr.reader import PlateReader
    from anpr.records import read_record

    reader, us = PlateReader(), PlateReader(region="us")
    out = {}
    for p in PHOTOS:
        data = p.read_bytes()
        out[p.name] = without_time(read_record(reader, data, "-"))
        out[p.name, "us"] = without_time(read_record(us, data, "-"))
    return out


def test_every_sample_through_both_upload_forms_equals_the_library(server, library):
    for p in PHOTOS:
        data = p.read_bytes()
        status, headers, rec = server.post_raw(data)
        assert status == 200 and headers["content-type"] == "application/json"
        assert without_time(rec) == library[p.name]
        status, _, rec = server.post_form(data, p.name)
        assert status == 200
        assert without_time(rec) == {**library[p.name], "image": p.name}
        assert rec["plates"], p.name  # every sample has a plate the shipped models read
    # region as a query parameter and as a form field
    data = PHOTOS[0].read_bytes()
    assert without_time(server.post_raw(data, "?region=us")[2]) == library[PHOTOS[0].name, "us"]
    rec = server.post_form(data, "a.jpg", {"region": "us"})[2]
    assert without_time(rec) == {**library[PHOTOS[0].name, "us"], "image": "a.jpg"}


def test_crop_flag_reads_a_plate_crop(server):
    import cv2
    import numpy as np

    img = cv2.imread(str(SAMPLES / "eu-test_021.jpg"))
    crop = cv2.imencode(".png", img[232:266, 166:286])[1].tobytes()
    status, _, rec = server.post_raw(crop, "?crop=true", {"Content-Type": "image/png"})
    assert status == 200 and rec["plates"][0]["text"] == "RK855AP"
    assert np.asarray(rec["plates"][0]["box"]).tolist()[:2] == [0, 0]


BAD = {
    "empty body": (b"", 400),
    "not an image": (b"this is not a photo" * 50, 422),
    "truncated": ((SAMPLES / "br-PJU2853.jpg").read_bytes()[:20000], 422),
    "over the pixel limit": (huge_png_header(20000, 20000), 422),
    "over max-bytes": (b"\xff\xd8\xff" + b"0" * (MAX_BYTES + 10), 413),
    "4x max-bytes": (b"\xff\xd8\xff" + b"0" * (4 * MAX_BYTES), 413),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_uploads_get_their_status_and_a_json_error(server, case):
    data, want = BAD[case]
    for status, headers, rec in (server.post_raw(data), server.post_form(data, "x.jpg")):
        assert status == want, (case, rec)
        assert headers["content-type"] == "application/json"
        assert set(rec) == {"error"} and "\n" not in rec["error"] and "Traceback" not in rec["error"]
    assert server.request("GET", "/health")[0] == 200


def test_no_body_unknown_path_wrong_method_and_bad_parameters(server):
    cases = [
        (("POST", "/v1/read", None, {}), 400),
        (("GET", "/v2/read", None, {}), 404),
        (("GET", "/v1/read", None, {}), 405),
        (("DELETE", "/health", None, {}), 405),
        (("POST", "/v1/read?region=mars", PHOTOS[0].read_bytes(), {"Content-Type": "image/jpeg"}), 400),
        (("POST", "/v1/read?crop=maybe", PHOTOS[0].read_bytes(), {"Content-Type": "image/jpeg"}), 400),
    ]
    for (method, path, body, headers), want in cases:
        status, h, raw = server.request(method, path, body, headers)
        assert status == want, (method, path, raw)
        assert set(json.loads(raw)) == {"error"}
    body, ctype = multipart({"photo": ("a.jpg", PHOTOS[0].read_bytes())}, {})
    assert server.json("POST", "/v1/read", body, {"Content-Type": ctype})[0] == 400
    # the same answers reach a client that sends a big body whole before reading (urllib)
    for path, want in (("/v2/read", 404), ("/health", 405)):
        for status, rec in sent_whole(server.port, path, (MAX_BYTES // 2, 4 * MAX_BYTES)):
            assert status == want and set(rec) == {"error"}, (path, rec)


def send_all_then_read(port: int, body, headers: dict, chunked: bool = False,
                       path: str = "/v1/read") -> tuple[int, dict]:
    """POST /v1/read as urllib does: the whole body first, then the answer, and
    ``Connection: close``. A reset connection raises (and fails the test)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Connection": "close", **headers},
                     encode_chunked=chunked)
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def sent_whole(port: int, path: str, sizes: tuple[int, ...], headers: dict | None = None, repeat: int = 4):
    """The answers to uploads of each size in ``sizes`` sent ``repeat`` times by 8 clients
    at once, each sending its whole body before reading (`send_all_then_read`)."""
    def one(n: int) -> tuple[int, dict]:
        return send_all_then_read(port, b"\xff" * n, {"Content-Type": "image/jpeg", **(headers or {})}, path=path)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, sizes * repeat))


def oversize(port: int, case: tuple[str, float]) -> tuple[int, dict]:
    how, factor = case
    data = b"\xff\xd8\xff" + b"0" * int(factor * MAX_BYTES)
    if how == "raw":
        return send_all_then_read(port, data, {"Content-Type": "image/jpeg"})
    if how == "multipart":
        body, ctype = multipart({"image": ("big.jpg", data)}, {})
        return send_all_then_read(port, body, {"Content-Type": ctype})
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))  # no Content-Length
    return send_all_then_read(port, chunks, {"Content-Type": "image/jpeg"}, chunked=True)


def test_oversize_uploads_get_413_on_clients_that_send_it_all(server):
    """1.2x and 4x the limit, raw, multipart and chunked, 8 clients at once: each one gets
    the JSON 413, not a reset connection (which the server caused by closing while they sent)."""
    cases = [(how, f) for how in ("raw", "multipart", "chunked") for f in (1.2, 4)] * 3
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda c: oversize(server.port, c), cases))
    for case, (status, rec) in zip(cases, answers):
        assert status == 413, (case, rec)
        assert set(rec) == {"error"} and "over the limit" in rec["error"], case
    # and through urllib itself
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/v1/read", data=b"0" * (3 * MAX_BYTES),
                                 headers={"Content-Type": "image/jpeg"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    assert err.value.code == 413 and "over the limit" in json.loads(err.value.read())["error"]
    assert server.post_raw(PHOTOS[0].read_bytes())[0] == 200
    assert server.json("GET", "/health")[2]["arriving"] == 0


def head(port: int, length: int | None, extra: str = "") -> socket.socket:
    """A socket that has sent the head of POST /v1/read (with ``Content-Length: length``)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    sock.sendall(f"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n{size}{extra}\r\n".encode())
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    with sock:
        while chunk := sock.recv(65536):
            out += chunk
    return out


def test_uploads_past_the_bound_or_waiting_for_100_continue_get_413_at_once(server):
    """Without sending any body: a Content-Length past 5x the limit, or over it with
    ``Expect: 100-continue``, is answered 413 at once (no 100 Continue) and closed."""
    for sock in (head(server.port, 6 * MAX_BYTES), head(server.port, MAX_BYTES + 1, "Expect: 100-continue\r\n")):
        sock.settimeout(10)
        got = answer(sock)
        assert got.startswith(b"HTTP/1.1 413 "), got[:200]
        assert b"100 Continue" not in got and json.loads(got.split(b"\r\n\r\n", 1)[1])["error"]
    assert server.post_raw(PHOTOS[0].read_bytes())[0] == 200


BODY_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def timed_server():
    """One reader, one waiting place, a body timeout of a few seconds (so stalls end fast)."""
    s = Server("--workers", "1", "--queue", "1", "--max-bytes", "200000", "--body-timeout", str(BODY_TIMEOUT))
    yield s
    s.stop()


def stall(port: int, n: int) -> list[socket.socket]:
    """``n`` uploads that send a valid head, Content-Length 100000 and two bytes, then nothing."""
    socks = []
    for _ in range(n):
        sock = head(port, 100000)
        sock.sendall(b"\xff\xd8")
        socks.append(sock)
    return socks


def wait_for_health(server: Server, key: str, value: int, seconds: float = 5) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        health = server.json("GET", "/health")[2]
        if health[key] == value or time.monotonic() > deadline:
            return health
        time.sleep(0.05)


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def check_stalled_uploads_do_not_block_readers(server: Server, n: int) -> None:
    photo = (SAMPLES / "br-PJU2853.jpg").read_bytes()
    assert server.post_raw(photo)[0] == 200  # a first read, so the one timed below is like any other
    rss_before = rss_mb(server.proc.pid)
    t_stall = time.monotonic()
    socks = stall(server.port, n)
    assert wait_for_health(server, "arriving", n)["arriving"] == n
    t0 = time.monotonic()
    status, _, rec = server.post_raw(photo)
    legit_s = time.monotonic() - t0
    health = server.json("GET", "/health")[2]
    assert status == 200 and rec["plates"], rec
    assert health["arriving"] == n and health["in_flight"] == 0  # still stalled while the photo was read
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(answer, socks))
    ended_s = time.monotonic() - t_stall
    for got in answers:
        assert got.startswith(b"HTTP/1.1 408 "), got[:200]
        assert "did not arrive in time" in json.loads(got.split(b"\r\n\r\n", 1)[1])["error"]
    assert BODY_TIMEOUT - 0.5 < ended_s < BODY_TIMEOUT + 5, ended_s
    growth = rss_mb(server.proc.pid) - rss_before
    print(f"\n{n} stalled uploads: a photo read in {legit_s:.2f} s meanwhile; all 408 after {ended_s:.1f} s; "
          f"server RSS grew {growth:.1f} MB")
    assert legit_s < 2.5, legit_s
    assert growth < 50, growth  # a stalled upload holds its two bytes, not a buffer
    assert wait_for_health(server, "arriving", 0)["arriving"] == 0
    assert server.post_raw(photo)[0] == 200


def test_40_stalled_uploads_do_not_block_readers_and_get_408(timed_server):
    """The issue's attack against one reader and one waiting place: 40 uploads that stall
    after two bytes. A photo sent meanwhile is read at once; each stalled one gets 408."""
    check_stalled_uploads_do_not_block_readers(timed_server, 40)


def test_400_stalled_uploads_do_not_block_readers_and_get_408(timed_server):
    check_stalled_uploads_do_not_block_readers(timed_server, 400)


def test_slow_upload_is_read_and_heads_that_never_end_are_closed(timed_server):
    """An upload that arrives slowly but steadily (within the time and rate) is read; a
    connection that sends nothing, or half a request head, is closed after --body-timeout."""
    silent = socket.create_connection(("127.0.0.1", timed_server.port), timeout=30)
    half = socket.create_connection(("127.0.0.1", timed_server.port), timeout=30)
    half.sendall(b"POST /v1/read HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    photo = (SAMPLES / "us-us4.jpg").read_bytes()
    slow = head(timed_server.port, len(photo))
    for i in range(0, len(photo), len(photo) // 4 + 1):  # four pieces over ~2 s
        slow.sendall(photo[i:i + len(photo) // 4 + 1])
        time.sleep(0.5)
    got = answer(slow)
    assert got.startswith(b"HTTP/1.1 200 "), got[:300]
    assert answer(silent) == b"" and answer(half) == b""
    assert BODY_TIMEOUT - 0.5 < time.monotonic() - t0 < BODY_TIMEOUT + 3


def test_bodies_arriving_together_are_bounded(timed_server):
    """Budget (workers + queue) x max-bytes = 400000 bytes: 30 uploads hold 8000 bytes each
    and stall; one of 190000 bytes more gets 503 (sent whole, it reads the answer); the
    stalled ones then get 408 (after 3 s + 8000 bytes at the 8 KiB/s floor)."""
    stalled = []
    for _ in range(30):
        sock = head(timed_server.port, 190000)
        sock.sendall(b"\xff" * 8000)
        stalled.append(sock)
    assert wait_for_health(timed_server, "arriving", 30)["arriving"] == 30
    time.sleep(0.2)  # let the server take in what they sent
    status, _, rec = timed_server.post_raw(b"\xff" * 190000)
    assert status == 503 and "arriving" in rec["error"], rec
    with ThreadPoolExecutor(8) as pool:
        assert all(got.startswith(b"HTTP/1.1 408 ") for got in pool.map(answer, stalled))
    assert timed_server.post_raw((SAMPLES / "us-us4.jpg").read_bytes())[0] == 200


def test_connections_past_the_limit_are_closed_at_once():
    """anpr serve's uvicorn protocol on a bare ASGI app (no models: this is about sockets):
    with max_connections=3, a fourth open connection is closed at once; once one of the
    three goes, a new one is served."""
    import threading

    import uvicorn

    from anpr.serve import Settings, http_protocol

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning",
                                           http=http_protocol(Settings(max_connections=3, body_timeout=20))))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        time.sleep(0.2)
        t0 = time.monotonic()
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert answer(extra) == b"" and time.monotonic() - t0 < 2  # closed, not left to wait
        idle.pop().close()
        time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ok"
        conn.close()
        for sock in idle:
            sock.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_health_metrics_and_openapi(server):
    server.post_raw(PHOTOS[0].read_bytes())
    status, _, rec = server.json("GET", "/health")
    assert status == 200 and rec["status"] == "ok" and rec["version"]
    assert rec["workers"] == 2 and rec["in_flight"] == rec["reading"] == rec["waiting"] == rec["arriving"] == 0
    status, h, raw = server.request("GET", "/metrics")
    text = raw.decode()
    assert status == 200 and h["content-type"].startswith("text/plain")
    assert 'anpr_requests_total{status="200"}' in text
    assert "anpr_read_seconds_bucket" in text and "anpr_plates_read_total" in text
    assert "anpr_uploads_arriving 0.0" in text
    status, _, spec = server.json("GET", "/openapi.json")
    assert status == 200 and "/v1/read" in spec["paths"]
    assert server.request("GET", "/docs")[0] == 200
    status, h, raw = server.request("GET", "/")
    assert status == 200 and b"/v1/read" in server.request("GET", "/static/app.js")[2]
    assert b"http://" not in raw and b"https://" not in raw  # the page loads nothing from elsewhere


def test_api_keys(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("# gate\nsecret-one\nsecret-two\n")
    s = Server("--workers", "1", "--api-key-file", str(keys))
    try:
        data = PHOTOS[0].read_bytes()
        assert s.post_raw(data)[0] == 401
        status, h, rec = s.post_raw(data, headers={"X-API-Key": "wrong"})
        assert status == 401 and "secret" not in rec["error"]
        assert s.request("GET", "/metrics")[0] == 401
        # a 401 reaches a client that sends its whole upload first (Connection: close)
        for status, rec in sent_whole(s.port, "/v1/read", (900_000, 4_000_000), {"X-API-Key": "no"}):
            assert status == 401 and "API key" in rec["error"]
        assert s.post_raw(data, headers={"Authorization": "Bearer secret-two"})[0] == 200
        assert s.post_raw(data, headers={"X-API-Key": "secret-one"})[0] == 200
        assert s.request("GET", "/health")[0] == 200
        assert s.request("GET", "/")[0] == 200  # the page itself; it sends the key the user types
    finally:
        s.stop()
        log = s.proc.stdout.read()
    assert "secret" not in log


def test_full_queue_gets_503_with_retry_after_and_keeps_serving():
    s = Server("--workers", "1", "--queue", "0")
    try:
        data = (SAMPLES / "br-PJU2853.jpg").read_bytes()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: s.post_raw(data), range(8)))
        statuses = sorted(a[0] for a in answers)
        assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}
        for status, headers, rec in answers:
            if status == 503:
                assert headers["retry-after"] == "1" and "busy" in rec["error"]
        assert s.post_raw(data)[0] == 200
    finally:
        s.stop()


def test_load_300_requests_from_8_clients(server, library):
    """A mix of good photos and bad uploads (oversize ones too), sent as urllib does
    (``Connection: close``, the whole body before the answer); every answer right, memory bounded."""
    rng = random.Random(0)
    jobs = []
    for k in range(300):
        if rng.random() < 0.6:
            p = rng.choice(PHOTOS)
            jobs.append(("good", p.name, rng.random() < 0.5))
        else:
            jobs.append(("bad", rng.choice(sorted(BAD)), rng.random() < 0.5))

    def run(job):
        kind, what, form = job
        data = (SAMPLES / what).read_bytes() if kind == "good" else BAD[what][0]
        close = {"Connection": "close"}
        status, _, rec = server.post_form(data, "u.jpg", headers=close) if form else server.post_raw(data, headers=close)
        return job, status, rec

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, jobs))
    seconds = time.perf_counter() - t0
    assert len(results) == 300
    for (kind, what, form), status, rec in results:
        if kind == "good":
            assert status == 200, (what, rec)
            assert without_time(rec) == {**library[what], "image": "u.jpg" if form else "-"}
        else:
            assert status == BAD[what][1], (what, rec)
            assert set(rec) == {"error"}
    status, _, health = server.json("GET", "/health")
    assert status == 200 and health["in_flight"] == 0
    peak = server.memory_peak_mb()
    print(f"\n300 requests from 8 clients in {seconds:.1f} s; peak RSS of server + 2 readers: {peak:.0f} MB")
    assert 0 < peak < 1500


def test_web_page_in_a_real_browser(server, tmp_path):
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
    driver_path = "/usr/bin/chromedriver"
    if chromium is None or not os.path.exists(driver_path):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    browser = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        browser.get(f"http://127.0.0.1:{server.port}/")
        browser.find_element(By.ID, "file").send_keys(str(SAMPLES / "eu-test_021.jpg"))
        WebDriverWait(browser, 60).until(lambda b: "RK855AP" in b.find_element(By.ID, "plates").text)
        assert "1 plate(s)" in browser.find_element(By.ID, "status").text
        assert '"text": "RK855AP"' in browser.find_element(By.ID, "json").get_attribute("textContent")
        # an upload that is not a photo: the page shows the server's error
        bad = tmp_path / "notes.jpg"
        bad.write_text("not a photo")
        browser.find_element(By.ID, "file").send_keys(str(bad))
        WebDriverWait(browser, 30).until(lambda b: "error 422" in b.find_element(By.ID, "status").text)
    finally:
        browser.quit()

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


def test_oversize_chunked_upload_is_refused_without_reading_it_all(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    chunk = b"\x00" * 65536

    def body():
        for _ in range(MAX_BYTES // len(chunk) + 5):
            yield chunk

    try:
        conn.request("POST", "/v1/read", body=body(), headers={"Content-Type": "image/jpeg"},
                     encode_chunked=True)
        r = conn.getresponse()
        assert r.status == 413 and "limit" in json.loads(r.read())["error"]
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close the connection before the client finished sending
    finally:
        conn.close()
    assert server.request("GET", "/health")[0] == 200


def test_health_metrics_and_openapi(server):
    server.post_raw(PHOTOS[0].read_bytes())
    status, _, rec = server.json("GET", "/health")
    assert status == 200 and rec["status"] == "ok" and rec["version"]
    status, h, raw = server.request("GET", "/metrics")
    text = raw.decode()
    assert status == 200 and h["content-type"].startswith("text/plain")
    assert 'anpr_requests_total{status="200"}' in text
    assert "anpr_read_seconds_bucket" in text and "anpr_plates_read_total" in text
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
    """A mix of good photos and bad uploads; every answer right, memory bounded."""
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
        status, _, rec = server.post_form(data, "u.jpg") if form else server.post_raw(data)
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

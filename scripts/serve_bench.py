"""Requests per second and latency of ``anpr serve`` next to the library's own speed.

Starts ``anpr serve --workers 2`` on a free port, sends N raw-body uploads of the photos
from 1, 2 and 8 concurrent clients, and reads the same photos with the library in this
process (one core). Run from the repository root:

    python scripts/serve_bench.py                      # the sample photos
    python scripts/serve_bench.py --photos DIR -n 200  # any folder of photos
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, data: bytes) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/v1/read", body=data, headers={"Content-Type": "image/jpeg"})
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=Path("samples"))
    ap.add_argument("-n", type=int, default=100, help="requests per concurrency level")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", default="1,2,8")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    photos = [p.read_bytes() for p in sorted(args.photos.iterdir())
              if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if not photos:
        sys.exit(f"{args.photos}: no photos")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "anpr", "serve", "--port", str(port), "--workers",
                             str(args.workers), "--log-level", "warning"])
    try:
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        for data in photos:  # warm up every reader
            post(port, data)
        rows = []
        for c in (int(x) for x in args.clients.split(",")):
            jobs = [photos[k % len(photos)] for k in range(args.n)]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(c) as pool:
                res = list(pool.map(lambda d: post(port, d), jobs))
            wall = time.perf_counter() - t0
            lat = np.array([r[1] for r in res]) * 1e3
            bad = sum(r[0] != 200 for r in res)
            rows.append({"clients": c, "requests": args.n, "errors": bad, "rps": args.n / wall,
                         "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99))})
    finally:
        proc.terminate()
        proc.wait(30)

    from anpr.reader import PlateReader
    from anpr.images import load_image

    reader = PlateReader()
    for data in photos:
        reader.read(load_image(data))
    t0 = time.perf_counter()
    for k in range(args.n):
        reader.read(load_image(photos[k % len(photos)]))
    lib = args.n / (time.perf_counter() - t0)

    print(f"anpr serve --workers {args.workers}, {len(photos)} photos from {args.photos}, {args.n} requests per row")
    print(f"{'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in rows:
        print(f"{r['clients']:>7} {r['rps']:>7.1f} {r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['errors']:>6}")
    print(f"library, one process: {lib:.1f} photos/s")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "library_photos_per_s": lib}, indent=1))


if __name__ == "__main__":
    main()

"""Frames per second of ``anpr read-video`` on a 20 s 1280x720 25 fps video.

The video is made of the five sample photos, 4 s each, zooming and panning
(`tests/videos.py`); each setting is run twice, wall time including start-up. Run from
the repository root: ``python scripts/video_speed.py``.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from videos import write_video  # noqa: E402

names = ["us-us4.jpg", "br-PJU2853.jpg", "eu-test_021.jpg", "eu-test_089.jpg", "us-wts-lg-000073.jpg"]
with tempfile.TemporaryDirectory() as tmp:
    video = write_video(Path(tmp) / "speed720.mp4", [cv2.imread(str(ROOT / "samples" / n)) for n in names],
                        seconds=4.0, fps=25, size=(1280, 720))
    for fps in ["0", "5", "0", "5"]:
        t = time.perf_counter()
        out = subprocess.run(["anpr", "read-video", str(video), "--json", "--fps", fps], capture_output=True, text=True)
        dt = time.perf_counter() - t
        frames = 500 if fps == "0" else 100
        texts = [json.loads(line)["text"] for line in out.stdout.splitlines()]
        print(f"--fps {fps}: {frames} frames in {dt:.1f} s = {frames / dt:.1f} frames/s, "
              f"{20 / dt:.2f}x real time; events {texts}")

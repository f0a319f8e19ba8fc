"""Write a short video made of sample photos, to try ``anpr read-video`` without a camera.

Each photo is shown ``--seconds`` (default 2) at 25 frames per second, 1280x720, zooming and
panning a little as an approaching car would (`tests/videos.py`). Run from the repository
root:

    python scripts/sample_video.py gate.mp4                        # us-us4.jpg, then br-PJU2853.jpg
    python scripts/sample_video.py gate.mp4 samples/eu-test_021.jpg --seconds 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from videos import write_video  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("out", type=Path, help="the .mp4 file to write")
parser.add_argument("photos", nargs="*", type=Path,
                    default=[ROOT / "samples" / "us-us4.jpg", ROOT / "samples" / "br-PJU2853.jpg"])
parser.add_argument("--seconds", type=float, default=2.0, help="seconds per photo")
args = parser.parse_args()
images = [cv2.imread(str(p)) for p in args.photos]
missing = [str(p) for p, im in zip(args.photos, images) if im is None]
if missing:
    sys.exit(f"cannot read {', '.join(missing)}")
write_video(args.out, images, seconds=args.seconds, fps=25, size=(1280, 720))
print(f"{args.out}: {len(images)} photos, {args.seconds * len(images):g} s at 25 fps, 1280x720")

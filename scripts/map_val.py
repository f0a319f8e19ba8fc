"""Reading with and without the plate map, on the photos the map's trainer held out.

    python scripts/map_val.py PLATEMAP.onnx [DATA] [--part val|check] [--limit N]

For the fit photos that ``anpr train-platemap`` kept for validation
(`anpr.train.platemap.is_val`; ``--part check``: the check part, to be read once)
of the scene folders and ``detect/{openimages,dashcam,usphone}`` of DATA (default
``../shared/data``), two readers side by side on each photo: the shipped reader
without a plate map and the same with PLATEMAP. Per folder: detection recall
(plates >= `anpr.benchmark.DETECT_MIN_W` px; scenes: the labelled plate), precision,
false plates per photo, exact reading (scenes, O and 0 alike), candidates read per
photo, and the share of plates among the candidates the verifier keeps
(`PlateReader.rank_candidates`, IoU > 0.4).
"""

import argparse
import time
from pathlib import Path

import numpy as np

from anpr.benchmark import DETECT_MIN_W, ReadCounter, score_detection
from anpr.geometry import box_iou_matrix
from anpr.images import load_image
from anpr.localize import to_gray
from anpr.reader import PlateReader
from anpr.split import part_of
from anpr.train import candidates as C
from anpr.train.platemap import is_val

FOLDERS = ("scenes/us", "scenes/eu", "scenes/br", "detect/openimages", "detect/dashcam", "detect/usphone")

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("platemap")
ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
ap.add_argument("--part", choices=("val", "check"), default="val")
ap.add_argument("--limit", type=int, default=0, help="At most this many photos per folder.")
ap.add_argument("--folders", nargs="*", default=list(FOLDERS))
args = ap.parse_args()
data = Path(args.data)

readers = {"no map": PlateReader(platemap=False), "map": PlateReader(platemap=args.platemap)}
counters = {name: ReadCounter(r) for name, r in readers.items()}


def fold(t: str) -> str:
    return t.upper().replace("O", "0")


t_start = time.time()
for sub in args.folders:
    photos = [ph for ph in C.labelled_photos(data / sub)
              if ((part_of(ph.key) == "fit" and is_val(ph.key)) if args.part == "val" else part_of(ph.key) == "check")]
    if args.limit:
        photos = photos[:args.limit]
    if not photos:
        continue
    scene = sub.startswith("scenes")
    stats = {n: {"boxes": 0, "found": 0, "plates": 0, "false": 0, "exact": 0, "ms": [], "ranked_hit": 0}
             for n in readers}
    reads_before = {name: c.reads for name, c in counters.items()}
    for ph in photos:
        img = load_image(ph.path)
        gray = to_gray(img)
        for name, rd in readers.items():
            t0 = time.perf_counter()
            plates = rd.read(img)
            stats[name]["ms"].append((time.perf_counter() - t0) * 1000)
            if scene:
                s = score_detection(plates, ph.boxes, min_w=0)
                stats[name]["exact"] += any(fold(p.text) == fold(ph.plates[0]) for p in plates)
                wide = [True]
            else:
                s = score_detection(plates, ph.boxes)
                wide = [b[2] >= DETECT_MIN_W for b in ph.boxes]
            stats[name]["boxes"] += s["boxes_wide"] if not scene else s["boxes"]
            stats[name]["found"] += s["found_wide"] if not scene else s["found"]
            stats[name]["plates"] += s["n_plates"]
            stats[name]["false"] += s["false_plates"]
            ranked = rd.rank_candidates(gray)
            if ranked:
                iou = box_iou_matrix(np.array([c.box for c in ranked], np.float64), np.array(ph.boxes, np.float64))
                stats[name]["ranked_hit"] += int(((iou > 0.4).any(axis=0) & np.array(wide)).sum())
    n = len(photos)
    for name, st in stats.items():
        prec = (st["plates"] - st["false"]) / st["plates"] if st["plates"] else 1.0
        reads = (counters[name].reads - reads_before[name]) / n
        recall = st["found"] / max(1, st["boxes"])
        line = (f"{sub:18s} {name:6s} {n:4d} photos {st['boxes']:4d} plates: recall {recall:6.1%}"
                f"  precision {prec:6.1%}  false/photo {st['false'] / n:.3f}  reads/photo {reads:.2f}"
                f"  ranked {st['ranked_hit'] / max(1, st['boxes']):6.1%}  median {np.median(st['ms']):.0f} ms")
        if scene:
            line += f"  exact {st['exact'] / n:6.1%}"
        print(line, flush=True)
print(f"{time.time() - t_start:.0f} s")

"""How many labelled plates the proposer has among the candidates the reader weighs.

    python scripts/proposer_recall.py [DATA] [--part fit|check|all]

For each labelled plate of the scene folders and ``detect/openimages`` of DATA (default
``../shared/data``; boxes-only photos: plates at least `anpr.benchmark.DETECT_MIN_W`
wide), whether one of the `anpr.localize.MAX_SCORED` largest proposals overlaps it with
IoU > 0.4, and whether one is a plate example for the verifier (IoU > 0.4 or the plate's
glyph row: `anpr.train.candidates.label_candidates`), by plate width. About 40 s for the
fit part on one core: a change to `anpr.localize.propose` can be measured before
anything is read or trained. No verifier or reading can report a plate the proposer
misses; the converse does not hold (see the closing notes of issue 14).
"""

import argparse
import time
from pathlib import Path

import numpy as np

from anpr import localize as L
from anpr.benchmark import DETECT_MIN_W
from anpr.geometry import box_iou_matrix
from anpr.images import load_image
from anpr.split import part_of
from anpr.train import candidates as C

BUCKETS = ((0, 100, "< 100 px"), (100, 200, "100-200 px"), (200, 1 << 30, ">= 200 px"))

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
ap.add_argument("--part", choices=("fit", "check", "all"), default="fit")
args = ap.parse_args()
data = Path(args.data)
t0, n_cands = time.time(), []
for sub in ("scenes/us", "scenes/eu", "scenes/br", "detect/openimages"):
    rows = []  # (width, iou hit, example hit)
    for ph in C.labelled_photos(data / sub):
        if args.part != "all" and part_of(ph.key) != args.part:
            continue
        cands = L.propose(L.to_gray(load_image(ph.path)), max_candidates=L.MAX_SCORED)
        n_cands.append(len(cands))
        ious = box_iou_matrix(np.array([c.box for c in cands], np.float64).reshape(-1, 4),
                              np.array(ph.boxes, np.float64))
        scene = len(ph.boxes) == 1 and bool(ph.plates[0])
        for j, b in enumerate(ph.boxes):
            if scene or b[2] >= DETECT_MIN_W:
                rows.append((b[2], ious[:, j].max(initial=0.0) > 0.4, bool((C.label_candidates(cands, [b]) == 1).any())))
    if not rows:
        continue
    w, hit, ex = (np.array(c) for c in zip(*rows))
    parts = [f"{sub:18s} {len(w):4d} plates: IoU > 0.4 {hit.mean():6.1%}, plate example {ex.mean():6.1%}"]
    for lo, hi, name in BUCKETS:
        m = (w >= lo) & (w < hi)
        if m.any():
            parts.append(f"{name} {m.sum()}: {hit[m].mean():.1%} / {ex[m].mean():.1%}")
    print(" | ".join(parts))
print(f"{np.mean(n_cands):.1f} candidates a photo, {time.time() - t0:.0f} s")

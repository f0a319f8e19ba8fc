"""Choose `anpr.decode`'s layout-prior constants by 5-fold cross-validation on the fit parts.

    python scripts/layout_cv.py [DATA] [--cache FILE]

Reads the fit parts of the scenes (us, eu, br) and of ``plates/us`` and ``plates/ar``
(crops, no region) with the shipped reader, records the input of `settle_layout` that
gave each labelled plate's final reading (a spy on ``anpr.recognize.settle_layout``; about
a minute, kept in ``--cache``), then replays `settle_layout` offline for a grid of
``LAYOUT_SMOOTHING``, ``LAYOUT_EVIDENCE``, ``LAYOUT_MARGIN`` and ``PATTERN_WEIGHT``. Each of
5 folds (grouped by plate text) chooses the best constants on the other four by exact
readings (O/0 merged); the held-out total is printed with the best constants overall.
(`plates/br` is read for br, a strict region, and never settles.)
"""

import argparse
import hashlib
import itertools
import pickle
import sys
from pathlib import Path

import numpy as np

import anpr.decode as D
import anpr.recognize as RZ
from anpr.benchmark import box_matches, label_box, load_labels
from anpr.decode import merge_o0
from anpr.reader import PlateReader
from anpr.split import group_key

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
ap.add_argument("--cache", default="layout_cv.pkl")
args = ap.parse_args()
data = Path(args.data)

if Path(args.cache).is_file():
    records = pickle.load(open(args.cache, "rb"))
else:
    calls: list = []
    settle = RZ.settle_layout

    def spy(text, probs, region=None):
        out = settle(text, probs, region)
        calls.append((text, np.array(probs), region, out))
        return out

    RZ.settle_layout = spy
    reader = PlateReader()
    records = []
    for sub, crop in (("scenes/us", False), ("scenes/eu", False), ("scenes/br", False),
                      ("plates/us", True), ("plates/ar", True)):
        for r in load_labels(data / sub, crop, "fit"):
            calls.clear()
            plates = reader.read_crop(data / sub / r["image"]) if crop else reader.read(data / sub / r["image"])
            on = [p for p in plates if crop or box_matches(p.box, label_box(r))]
            call = next((c for c in reversed(calls) if on and c[3] == on[0].text), None)
            if call is not None:
                records.append((sub, r["plate"], group_key(r["image"], r["plate"]), call[:3]))
        print(f"{sub}: {len(records)} readings so far", file=sys.stderr)
    RZ.settle_layout = settle
    pickle.dump(records, open(args.cache, "wb"))

grid = list(itertools.product((0.3, 1.0, 3.0, 10.0, 30.0, 100.0), (0.7, 1.0, 1.5), (2.0, 3.0, 5.0),
                             (0.0, 1.0, 3.0, 10.0)))
right = np.zeros((len(grid), len(records)), bool)
for g, (smoothing, evidence, margin, patterns) in enumerate(grid):
    D.LAYOUT_SMOOTHING, D.LAYOUT_EVIDENCE, D.LAYOUT_MARGIN, D.PATTERN_WEIGHT = smoothing, evidence, margin, patterns
    D.layout_prior.cache_clear()
    for i, (_, label, _, (text, probs, region)) in enumerate(records):
        right[g, i] = merge_o0(D.settle_layout(text, probs, region)) == merge_o0(label)
fold = np.array([int(hashlib.sha1(("lay:" + r[2]).encode()).hexdigest(), 16) % 5 for r in records])
held = 0
for k in range(5):
    best = int(np.argmax(right[:, fold != k].sum(axis=1)))
    held += int(right[best, fold == k].sum())
    print(f"fold {k}: chose smoothing, evidence, margin, patterns = {grid[best]}")
best = int(np.argmax(right.sum(axis=1)))
print(f"held-out exact {held} of {len(records)}; best on all {grid[best]}: {int(right[best].sum())}")
shipped = (0.3, 1.5, 5.0, 3.0)
top = right.sum(axis=1).max()
print(f"shipped {shipped}: {int(right[grid.index(shipped)].sum())}; "
      f"{int((right.sum(axis=1) >= top - 1).sum())} of {len(grid)} settings within one of the best")

"""CPU time of two character models side by side: every photo read by both readers in turn.

When only a model file changes, one process holding both readers is the fairest A/B on a
shared machine: each photo is read by A and by B back to back (the order swapped each
round), so drift hits both alike.

    python scripts/ab_model_speed.py OLD.onnx NEW.onnx [ROUNDS] [DATA]

Prints, per round, the CPU seconds of the 295 scenes and of the check crops (plates/us
check and the first 200 plates/br check) for each model, and their ratio B / A.
"""

import sys
import time
from pathlib import Path

import cv2
from ab_speed import inputs  # this script's folder is on sys.path

from anpr.reader import PlateReader

model_a, model_b = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
data = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(__file__).resolve().parents[2] / "shared" / "data"
photos, crops = inputs(data)
imgs = [cv2.imread(str(p)) for p in photos]
cimgs = [cv2.imread(str(p)) for p in crops]
readers = {"A": PlateReader(model=model_a), "B": PlateReader(model=model_b)}
for r in readers.values():
    r.read(imgs[0])
for rnd in range(rounds):
    t = {(k, part): 0.0 for k in readers for part in ("scenes", "crops")}
    order = ["A", "B"] if rnd % 2 == 0 else ["B", "A"]
    for part, items, read in (("scenes", imgs, "read"), ("crops", cimgs, "read_crop")):
        for img in items:
            for k in order:
                t0 = time.process_time()
                getattr(readers[k], read)(img)
                t[k, part] += time.process_time() - t0
    print(f"round {rnd}: " + "; ".join(
        f"{part} A {t['A', part]:.2f} s B {t['B', part]:.2f} s ratio {t['B', part] / t['A', part]:.3f}"
        for part in ("scenes", "crops")), flush=True)

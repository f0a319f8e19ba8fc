"""Every reading the reader weighs in the labelled photos, to one JSON file, for studies of
reporting and boxes that need no second reading pass.

    python scripts/dump_reads.py OUT.json [DATA] [--verifier PATH]

Reads the scene folders and ``detect/openimages`` of DATA (default ``../shared/data``)
with `anpr.train.verifier.photo_reads` (no reporting threshold) and writes, per photo, its share
(``train`` / ``val``: the verifier's shares of the fit part, `anpr.train.verifier.val_of`;
``check``), its labelled boxes and every reading with its text, confidence, plate
probability, box, outline corners and character boxes. About two minutes on one core.

A study then replays reporting offline: ``anpr.train.verifier.detection_scores`` scores
any thresholds (or boxes changed by a refinement) on the records of one share, and
``choose_thresholds`` chooses them on ``val``, as ``anpr train-verifier`` does. Choose on
``val``, report ``check``: the ``train`` photos trained the verifier, so their plate
probabilities flatter it.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from anpr.reader import PlateReader
from anpr.split import part_of
from anpr.train import candidates as C
from anpr.train.verifier import photo_reads, val_of

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("out")
ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
ap.add_argument("--verifier", default=None, help="ONNX verifier instead of the shipped one")
args = ap.parse_args()
data = Path(args.data)
folders = [data / "scenes" / "us", data / "scenes" / "eu", data / "scenes" / "br", data / "detect" / "openimages"]
reader = PlateReader(verifier=args.verifier, min_confidence=0.0, min_best=None)
out = []
t0 = time.time()
for folder in folders:
    for ph in C.labelled_photos(folder):
        share = "check" if part_of(ph.key) == "check" else "val" if val_of(ph.key) else "train"
        try:
            record = photo_reads(ph, reader)
        except ValueError as exc:
            print(f"skipped {ph.path}: {exc}", file=sys.stderr)
            continue
        out.append({"path": str(ph.path), "key": ph.key, "share": share, "folder": folder.name, **record})
Path(args.out).write_text(json.dumps(out))
print(f"{len(out)} photos, {sum(len(r['reads']) for r in out)} readings -> {args.out} "
      f"in {time.time() - t0:.0f} s")

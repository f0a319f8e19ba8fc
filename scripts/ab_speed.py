"""CPU time of reading the 295 scenes and 298 check crops, for a side-by-side A/B.

Run it alternately with two checkouts on PYTHONPATH, e.g. from outside the repository:

    git worktree add /tmp/old <old-commit>
    for r in 1 2 3; do
      PYTHONPATH=/tmp/old python scripts/ab_speed.py; PYTHONPATH=. python scripts/ab_speed.py
    done

With ``--openimages`` it also times every fifth ``detect/openimages`` photo, where many
photos show only plates too small to read (``openimages_s``).

Prints one JSON line: seconds of CPU time for the scenes and for the crops, and how
many candidates were read and how often `anpr.recognize.recognize_plate` ran on the
scenes: exact counts, steadier than times on a shared machine (which drift by 25-40%)
when a change only adds or removes reads.
"""

import csv
import json
import sys
import time
from pathlib import Path

import cv2

from anpr import recognize
from anpr.reader import PlateReader
from anpr.split import part_of


def inputs(data: Path) -> tuple[list[Path], list[Path]]:
    """The 295 scene photos, and the check crops: plates/us and the first 200 of plates/br."""
    photos = [data / "scenes" / s / r["image"] for s in ("us", "eu", "br")
              for r in csv.DictReader(open(data / "scenes" / s / "labels.csv"))]
    crops = [data / "plates/us" / r["image"] for r in csv.DictReader(open(data / "plates/us/labels.csv"))
             if part_of(r["plate"]) == "check"]
    crops += [data / "plates/br" / r["image"] for r in csv.DictReader(open(data / "plates/br/labels.csv"))
              if part_of(r["plate"]) == "check"][:200]
    return photos, crops


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--openimages"]
    data = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared" / "data"
    photos, crops = inputs(data)
    imgs = [cv2.imread(str(p)) for p in photos]
    cimgs = [cv2.imread(str(p)) for p in crops]
    reader = PlateReader()
    reader.read(imgs[0])
    counts = {"candidate_reads": 0, "recognize_calls": 0}

    def counted(fn, key):
        def wrapper(*args, **kwargs):
            counts[key] += 1
            return fn(*args, **kwargs)
        return wrapper

    # The reader imports recognize_plate when it reads, so patching the module counts it.
    PlateReader._read_candidate = counted(PlateReader._read_candidate, "candidate_reads")
    recognize.recognize_plate = counted(recognize.recognize_plate, "recognize_calls")
    t0 = time.process_time()
    for i in imgs:
        reader.read(i)
    t1 = time.process_time()
    scene_counts = dict(counts)
    for c in cimgs:
        reader.read_crop(c)
    t2 = time.process_time()
    extra = {}
    if "--openimages" in sys.argv[1:]:
        folder = data / "detect" / "openimages"
        names = sorted({r["image"] for r in csv.DictReader(open(folder / "labels.csv"))})[::5]
        oimgs = [cv2.imread(str(folder / n)) for n in names]
        t3 = time.process_time()
        for i in oimgs:
            reader.read(i)
        extra = {"openimages_s": round(time.process_time() - t3, 2), "n_openimages": len(oimgs)}
    import anpr

    print(json.dumps({"anpr": str(Path(anpr.__file__).parent), "scenes_s": round(t1 - t0, 2),
                      "crops_s": round(t2 - t1, 2), "n_scenes": len(imgs), "n_crops": len(cimgs), **scene_counts,
                      **extra}))


if __name__ == "__main__":
    main()

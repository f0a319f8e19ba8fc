"""How well does the whole-plate reader read the fit plates it never saw, beside today's reader?

    python scripts/ocr_cv.py today  --holdout 0            # today's reader (read_crop) on the held-out fold
    python scripts/ocr_cv.py ocr    --holdout 0 --model M  # the whole-plate reader M (.onnx or .keras)
    python scripts/ocr_cv.py table  --holdout 0            # both, per set, exact with O/0 folded

The real fit plates are split into folds by a hash of the plate text
(`anpr.train.ocr.fold_of`); a reader trained with ``anpr train-ocr --holdout K`` never
saw fold K, so reading fold K is cross-validation on the fit part. The sets are those
of issue 40: the plate-crop folders as they are (``plates/br`` read for its region
``br``), and the scene folders' plates cut at their labelled boxes plus a margin
(`anpr.train.datasets.labelled_plates`), as ``anpr read-plate --crop`` reads them.
Scratch goes to ``/tmp/ocr_cv`` (``--dir``).
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = (("plates/us", None), ("plates/br", "br"), ("plates/ar", None),
        ("scenes/us", None), ("scenes/eu", None), ("scenes/br", None))


def held_out(holdout: int, folds: int):
    from anpr.train.datasets import labelled_plates
    from anpr.train.ocr import fold_of

    for name, region in SETS:
        for path, img, text in labelled_plates(DATA / name, part="fit"):
            if fold_of(text, folds) == holdout:
                yield name, region, path.name, img, text


def today(d: Path, holdout: int, folds: int) -> None:
    from anpr.reader import PlateReader

    readers: dict = {}
    rows = []
    t = 0.0
    for name, region, image, img, text in held_out(holdout, folds):
        r = readers.setdefault(region, PlateReader(region=region))
        t0 = time.perf_counter()
        got = r.read_crop(img)
        t += time.perf_counter() - t0
        rows.append(dict(set=name, image=image, label=text, text=got[0].text if got else "",
                         confidence=got[0].confidence if got else 0.0))
    (d / f"today_{holdout}.pkl").write_bytes(pickle.dumps(rows))
    print(len(rows), "plates,", f"{1000 * t / max(1, len(rows)):.1f} ms a crop")


def ocr(d: Path, holdout: int, folds: int, model: Path) -> None:
    from anpr.plate_ocr import PlateOCR, align, beam_readings, log_softmax, to_input

    items = list(held_out(holdout, folds))
    crops = [it[3] for it in items]
    if model.suffix == ".keras":
        import keras

        m = keras.saving.load_model(model, compile=False)
        lps = [log_softmax(z) for z in m.predict(to_input(crops), verbose=0, batch_size=256)]
    else:
        reader = PlateOCR(model)
        t0 = time.perf_counter()
        lps = [reader.log_probs([c])[0] for c in crops]
        print(f"{1000 * (time.perf_counter() - t0) / max(1, len(crops)):.2f} ms a crop (model only)")
    rows = []
    for (name, _region, image, _img, text), lp in zip(items, lps):
        beams = beam_readings(lp, k=5)
        rows.append(dict(set=name, image=image, label=text, beams=beams, lp=lp.astype(np.float32),
                         spans=align(lp, beams[0][0]) if beams and beams[0][0] else []))
    (d / f"ocr_{holdout}.pkl").write_bytes(pickle.dumps(rows))
    print(len(rows), "plates read")


def table(d: Path, holdout: int) -> None:
    from anpr.decode import merge_o0

    def same(a, b):
        return merge_o0(a) == merge_o0(b)

    t = pickle.loads((d / f"today_{holdout}.pkl").read_bytes()) if (d / f"today_{holdout}.pkl").exists() else []
    o = pickle.loads((d / f"ocr_{holdout}.pkl").read_bytes()) if (d / f"ocr_{holdout}.pkl").exists() else []
    by_t = {(r["set"], r["image"], r["label"]): r for r in t}
    print(f"{'set':12s} {'n':>5s} {'today':>7s} {'ocr':>7s} {'ocr top5':>9s} {'either':>7s}")
    for name, _ in SETS:
        rows = [r for r in o if r["set"] == name]
        if not rows:
            continue
        tt = [by_t.get((r["set"], r["image"], r["label"])) for r in rows]
        today_ok = [x is not None and same(x["text"], r["label"]) for x, r in zip(tt, rows)]
        ocr_ok = [bool(r["beams"]) and same(r["beams"][0][0], r["label"]) for r in rows]
        top5 = [any(same(b[0], r["label"]) for b in r["beams"]) for r in rows]
        either = [a or b for a, b in zip(today_ok, ocr_ok)]
        n = len(rows)
        print(f"{name:12s} {n:5d} {np.mean(today_ok):7.1%} {np.mean(ocr_ok):7.1%} {np.mean(top5):9.1%} "
              f"{np.mean(either):7.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["today", "ocr", "table"])
    ap.add_argument("--holdout", type=int, default=0)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--dir", default="/tmp/ocr_cv")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    if a.step == "today":
        today(d, a.holdout, a.folds)
    elif a.step == "ocr":
        if a.model is None:
            ap.error("ocr needs --model")
        ocr(d, a.holdout, a.folds, a.model)
    else:
        table(d, a.holdout)


if __name__ == "__main__":
    main()

"""How well does the whole-plate reader read the fit plates it never saw, beside today's reader?

    python scripts/ocr_cv.py today  --holdout 0            # today's reader (read_crop) on the held-out fold
    python scripts/ocr_cv.py ocr    --holdout 0 --model M  # the whole-plate reader M (.onnx or .keras)
    python scripts/ocr_cv.py today  --holdout 0 --ocr M    # the reader with the whole-plate reader M first
    python scripts/ocr_cv.py choice --holdout 0 --out models  # fit the whole-plate choice (read_whole)
    python scripts/ocr_cv.py table  --holdout 0            # both, per set, exact with O/0 folded;
                                                           # the cascade's threshold by 2-fold CV

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


def today(d: Path, holdout: int, folds: int, ocr_model: Path | None = None) -> None:
    from anpr.reader import PlateReader

    readers: dict = {}
    rows = []
    t = 0.0
    for name, region, image, img, text in held_out(holdout, folds):
        if region not in readers:
            readers[region] = PlateReader(region=region, ocr=ocr_model if ocr_model else False)
        r = readers[region]
        t0 = time.perf_counter()
        got = r.read_crop(img)
        t += time.perf_counter() - t0
        rows.append(dict(set=name, image=image, label=text, text=got[0].text if got else "",
                         confidence=got[0].confidence if got else 0.0,
                         score=(got[0].score if got[0].score is not None else got[0].confidence) if got else 0.0))
    name = f"today_{holdout}.pkl" if ocr_model is None else f"product_{holdout}.pkl"
    (d / name).write_bytes(pickle.dumps(rows))
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
        beams = beam_readings(lp, k=3)
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
    pp = d / f"product_{holdout}.pkl"
    by_p = {(r["set"], r["image"], r["label"]): r for r in pickle.loads(pp.read_bytes())} if pp.exists() else {}
    print(f"{'set':12s} {'n':>5s} {'today':>7s} {'ocr':>7s} {'ocr top5':>9s} {'either':>7s} {'ocr first':>9s}")
    for name, _ in SETS:
        rows = [r for r in o if r["set"] == name]
        if not rows:
            continue
        tt = [by_t.get((r["set"], r["image"], r["label"])) for r in rows]
        today_ok = [x is not None and same(x["text"], r["label"]) for x, r in zip(tt, rows)]
        ocr_ok = [bool(r["beams"]) and same(r["beams"][0][0], r["label"]) for r in rows]
        top5 = [any(same(b[0], r["label"]) for b in r["beams"]) for r in rows]
        either = [a or b for a, b in zip(today_ok, ocr_ok)]
        pr = [by_p.get((r["set"], r["image"], r["label"])) for r in rows]
        first = [x is not None and same(x["text"], r["label"]) for x, r in zip(pr, rows)]
        n = len(rows)
        print(f"{name:12s} {n:5d} {np.mean(today_ok):7.1%} {np.mean(ocr_ok):7.1%} {np.mean(top5):9.1%} "
              f"{np.mean(either):7.1%} {np.mean(first) if by_p else float('nan'):9.1%}")


def cascade(d: Path, holdout: int) -> None:
    """The whole-plate reading where its probability reaches T, today's reading otherwise:
    exact per T, and T chosen on one half of the held-out plates scored on the other."""
    from anpr.decode import merge_o0
    from anpr.split import hash_percent

    t = {(r["set"], r["image"], r["label"]): r for r in pickle.loads((d / f"today_{holdout}.pkl").read_bytes())}
    o = pickle.loads((d / f"ocr_{holdout}.pkl").read_bytes())
    grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01]
    sets = [name for name, _ in SETS]

    def ok(r, thr):
        b = r["beams"]
        if b and np.exp(b[0][1]) >= thr and 4 <= len(b[0][0]) <= 10:
            return merge_o0(b[0][0]) == merge_o0(r["label"])
        x = t.get((r["set"], r["image"], r["label"]))
        return x is not None and merge_o0(x["text"]) == merge_o0(r["label"])

    def mean_by_set(rows, thr):  # each set weighed alike
        return np.mean([np.mean([ok(r, thr) for r in rows if r["set"] == s]) for s in sets
                        if any(r["set"] == s for r in rows)])

    print("T     " + " ".join(f"{s:>10s}" for s in sets) + "   share read whole")
    for thr in grid:
        cells = [np.mean([ok(r, thr) for r in o if r["set"] == s]) for s in sets]
        whole = np.mean([bool(r["beams"]) and np.exp(r["beams"][0][1]) >= thr for r in o])
        print(f"{thr:4.2f}  " + " ".join(f"{c:10.1%}" for c in cells) + f"   {whole:.1%}")
    half = [hash_percent(r["label"], "sure-cv:") % 2 for r in o]
    for k in (0, 1):
        fit = [r for r, h in zip(o, half) if h != k]
        test = [r for r, h in zip(o, half) if h == k]
        best = max(grid, key=lambda thr: (mean_by_set(fit, thr), -thr))
        cells = [np.mean([ok(r, best) for r in test if r["set"] == s]) for s in sets]
        print(f"CV half {k}: T={best} chosen on the other half; on this half " +
              " ".join(f"{s} {c:.1%}" for s, c in zip(sets, cells)))


def choice(d: Path, holdout: int, out: Path | None) -> None:
    """Fit `anpr.read_whole.WholeChoice` on the held-out plates (the only ones whose
    whole-plate readings are honest), 5-fold CV grouped by plate, sets weighed alike."""
    import datetime as _dt
    import json

    from sklearn.linear_model import LogisticRegression

    from anpr.decode import merge_o0
    from anpr.read_whole import FEATURES, candidates
    from anpr.split import hash_percent

    t = {(r["set"], r["image"], r["label"]): r for r in pickle.loads((d / f"today_{holdout}.pkl").read_bytes())}
    o = pickle.loads((d / f"ocr_{holdout}.pkl").read_bytes())
    plates = []
    for r in o:
        x = t[(r["set"], r["image"], r["label"])]
        region = dict(SETS)[r["set"]]
        texts, _, feats = candidates(x["text"] or None, x["score"], r["beams"], r["lp"].astype(np.float64), region)
        label = merge_o0(r["label"])
        plates.append(dict(set=r["set"], label=label, x=feats, y=np.array([t_ == label for t_ in texts]),
                           today=merge_o0(x["text"]) == label))
    sets = [name for name, _ in SETS]
    count = {s: sum(p["set"] == s for p in plates) for s in sets}

    def fit(rows, c):
        w = np.concatenate([np.full(len(p["y"]), len(rows) / (len(sets) * count[p["set"]])) for p in rows])
        return LogisticRegression(C=c, max_iter=5000).fit(np.concatenate([p["x"] for p in rows]),
                                                          np.concatenate([p["y"] for p in rows]), sample_weight=w)

    fold = np.array([hash_percent(p["label"], "whole-choice-cv:") % 5 for p in plates])
    figures = {}
    for c in (0.1, 1.0, 10.0):
        hits = np.zeros(len(plates), bool)
        for k in range(5):
            m = fit([p for p, f in zip(plates, fold) if f != k], c)
            for i in np.flatnonzero(fold == k):
                p = plates[i]
                if len(p["y"]):
                    hits[i] = bool(p["y"][int(np.argmax(m.decision_function(p["x"])))])
        figures[c] = {s: (float(np.mean([p["today"] for p in plates if p["set"] == s])),
                          float(np.mean([h for h, p in zip(hits, plates) if p["set"] == s]))) for s in sets}
        print(f"C={c}: " + ", ".join(f"{s} {a:.1%} -> {b:.1%}" for s, (a, b) in figures[c].items()))
    best = max(figures, key=lambda c: (np.mean([v[1] for v in figures[c].values()]), -abs(np.log10(c))))
    m = fit(plates, best)
    info = {
        "features": list(FEATURES), "weights": [round(float(v), 6) for v in m.coef_[0]],
        "bias": round(float(m.intercept_[0]), 6),
        "C": best, "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"python scripts/ocr_cv.py choice --holdout {holdout} --out models",
        "plates": count,
        "cv_exact_segmenter_to_chosen": {str(c): v for c, v in figures.items()},
    }
    print(json.dumps({k: info[k] for k in ("weights", "bias", "C")}))
    if out is not None:
        (out / "whole_choice.json").write_text(json.dumps(info, indent=1))
        print("wrote", out / "whole_choice.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["today", "ocr", "table", "cascade", "choice"])
    ap.add_argument("--holdout", type=int, default=0)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--ocr", type=Path, help="today: the whole-plate reader to read first")
    ap.add_argument("--dir", default="/tmp/ocr_cv")
    ap.add_argument("--out", type=Path, help="choice: write whole_choice.json here")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    if a.step == "today":
        today(d, a.holdout, a.folds, a.ocr)
    elif a.step == "ocr":
        if a.model is None:
            ap.error("ocr needs --model")
        ocr(d, a.holdout, a.folds, a.model)
    elif a.step == "choice":
        choice(d, a.holdout, a.out)
    elif a.step == "cascade":
        cascade(d, a.holdout)
    else:
        table(d, a.holdout)


if __name__ == "__main__":
    main()

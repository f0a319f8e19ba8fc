"""Does a whole-plate sequence model (CTC) help the chooser keep the right reading?

    python scripts/ctc_study.py collect        # hypotheses + crops of the fit plate crops (~5 min)
    python scripts/ctc_study.py train 0|1      # one CTC model per half of the fit plates (~9 min each)
    python scripts/ctc_study.py eval [--trim]  # chooser 5-fold CV with and without the CTC features

The study of issue 34, item 5 (docs/experiments.md, 2026-12-06). Each fit plate crop of
``plates/us``, ``plates/ar`` and ``plates/br`` (read with no region and, for ``ar`` and
``br``, for its own strict region) is read with every hypothesis kept
(`anpr.train.chooser.collect`), and also each first hypothesis without its first and
without its last glyph (``--trim`` in ``eval``: the hypotheses a learned end decision
would choose among). A small convolutional CTC reader (32x128 gray, 32 time steps, O and
0 one class) is trained on half of the fit crops by a hash of the plate text plus 4,000
synthetic plates (`anpr.train.plates`, US, European and South American styles) and scores
the other half: each hypothesis' CTC log-likelihood against the plate's best, and whether
the CTC's own greedy reading is it, are added to `anpr.choose.FEATURES`, and the chooser
(a logistic regression) is refitted and scored by 5-fold CV grouped by plate text. The
character CNN saw these crops, so its features are flattered against the cross-fitted CTC.

Scratch goes to ``/tmp/ctc_study`` (``--dir`` to change). Needs the ``train`` extra.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

from anpr.plate_ocr import ALPHABET as ALPHA  # O is 0; blank = class 0
from anpr.plate_ocr import encode, greedy, log_softmax
from anpr.plate_ocr import log_likelihood as ctc_ll

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
H, W = 32, 128


def prep(gray: np.ndarray) -> np.ndarray:
    import cv2

    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    x = cv2.resize(gray, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32)
    lo, hi = np.percentile(x, 2), np.percentile(x, 98)
    return np.clip((x - lo) / max(hi - lo, 1.0), 0, 1)


def half(label: str) -> int:
    from anpr.split import hash_percent

    return hash_percent(label, "ctc:") % 2


def collect(d: Path) -> None:
    """Hypotheses (plain and with end-trimmed variants) of every plate crop, with the crop."""
    import anpr.recognize as rz
    import anpr.train.chooser as ch

    last: dict = {}
    rec, hyp, hyps = rz.recognize_plate, rz._hypothesis_readings, ch.Hypotheses

    def spy(img, *a, **k):
        last["img"] = img
        return rec(img, *a, **k)

    def trimmed(s, readings, region, strict, frames):
        out, frames2, pictures = hyp(s, readings, region, strict, frames)
        if out and len(out[0].decoded.keep) > rz.MIN_CHARS:
            keep, have = list(out[0].decoded.keep), {tuple(c.decoded.keep) for c in out}
            for sub in (keep[1:], keep[:-1]):
                c = rz._read(s, sub, readings, region, strict) if tuple(sub) not in have else None
                if c is not None:
                    out.append(c)
                    have.add(tuple(c.decoded.keep))
        return out, frames2, pictures

    def with_crop(*a, **k):
        h = hyps(*a, **k)
        h.img = last["img"]  # the crop these hypotheses read
        return h

    rz.recognize_plate = spy
    ch.Hypotheses = with_crop
    for mode in ("plain", "trim"):
        rz._hypothesis_readings = trimmed if mode == "trim" else hyp
        rows = []
        for f in ("us", "ar", "br"):
            for region in ch.regions_of(DATA / "plates" / f):
                rows += [dict(source=h.source, part=h.part, label=h.label, texts=h.texts, x=h.x, img=h.img)
                         for h in ch.collect(DATA / "plates" / f, region) if h.part == "fit"]
        (d / f"hyp_{mode}.pkl").write_bytes(pickle.dumps(rows))
        print(mode, len(rows), "readings of fit crops", flush=True)


def train(d: Path, fold: int, epochs: int = 15, synthetic: int = 4000, seed: int = 0) -> None:
    """A CTC reader on the fit crops of the other half (and synthetic plates)."""
    import cv2
    import keras
    from keras import layers

    from anpr.train.plates import load_templates, synth_plates

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    seen, real = set(), []
    for p in pickle.loads((d / "hyp_plain.pkl").read_bytes()):
        key = (p["source"].split(":")[0], p["label"])
        if key not in seen and half(p["label"]) != fold:
            seen.add(key)
            real.append((p["img"], p["label"]))

    def jitter(img):
        h, w = img.shape[:2]
        dx0, dx1 = rng.integers(-int(0.06 * w) - 1, int(0.06 * w) + 2, 2)
        dy0, dy1 = rng.integers(-int(0.1 * h) - 1, int(0.1 * h) + 2, 2)
        b = int(0.2 * max(h, w)) + 4
        img = cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_REPLICATE)[b + dy0:b + h - dy1, b + dx0:b + w - dx1]
        x = prep(img)
        if rng.random() < 0.3:
            x = cv2.GaussianBlur(x, (3, 3), rng.uniform(0.3, 1.2))
        x = x * rng.uniform(0.7, 1.1) + rng.uniform(-0.1, 0.15)
        return np.clip(x + rng.normal(0, 0.03, x.shape), 0, 1).astype(np.float32)

    xs, ys = [], []
    for img, text in real:
        xs += [prep(img), jitter(img), jitter(img)]
        ys += [text] * 3
    for sp in synth_plates(synthetic, seed=100 + seed, templates=load_templates(DATA / "templates" / "us"),
                           eu_share=0.35, south_share=0.2):
        xs.append(jitter(sp.image))
        ys.append(sp.text)
    x = np.array(xs)[..., None]
    y = np.zeros((len(ys), max(map(len, ys))), np.int32)
    for i, t in enumerate(ys):
        y[i, :len(t)] = encode(t)
    inp = keras.Input((H, W, 1))
    z = inp
    for f, pool in ((32, (2, 2)), (64, (2, 2)), (128, (2, 1)), (128, (2, 1))):
        z = layers.Conv2D(f, 3, padding="same", use_bias=False)(z)
        z = layers.MaxPooling2D(pool)(layers.LeakyReLU(0.1)(layers.BatchNormalization()(z)))
    z = layers.Reshape((W // 4, 2 * 128))(layers.Permute((2, 1, 3))(z))
    z = layers.Conv1D(192, 3, padding="same", activation="relu")(layers.Dropout(0.2)(z))
    z = layers.Dropout(0.2)(layers.Conv1D(192, 3, padding="same", activation="relu")(z))
    model = keras.Model(inp, layers.Dense(len(ALPHA) + 1)(z))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CTC())
    perm = rng.permutation(len(x))
    va, tr = perm[:len(x) // 10], perm[len(x) // 10:]
    print(len(real), "real crops,", len(x), "examples", flush=True)
    model.fit(x[tr], y[tr], validation_data=(x[va], y[va]), epochs=epochs, batch_size=64, verbose=2,
              callbacks=[keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5),
                         keras.callbacks.ModelCheckpoint(str(d / f"ctc{fold}.keras"), save_best_only=True)])


def evaluate(d: Path, trim: bool) -> None:
    """Chooser accuracy by 5-fold CV (grouped by plate) with and without the CTC features."""
    import keras
    from sklearn.linear_model import LogisticRegression

    from anpr.decode import merge_o0
    from anpr.split import hash_percent

    plates = pickle.loads((d / f"hyp_{'trim' if trim else 'plain'}.pkl").read_bytes())
    models = [keras.saving.load_model(d / f"ctc{k}.keras", compile=False) for k in (0, 1)]
    lps: list = [None] * len(plates)
    for k in (0, 1):
        idx = [i for i, p in enumerate(plates) if half(p["label"]) == k]
        z = models[k].predict(np.array([prep(plates[i]["img"]) for i in idx])[..., None], verbose=0)
        for j, i in enumerate(idx):
            lps[i] = log_softmax(z[j].astype(np.float64))
    right = [np.array([merge_o0(t) == merge_o0(p["label"]) for t in p["texts"]]) for p in plates]
    extra = []
    for p, lp in zip(plates, lps):
        ll = np.array([ctc_ll(lp, t) for t in p["texts"]])
        g = merge_o0(greedy(lp))
        extra.append(np.column_stack([np.clip(ll - ll.max(), -30, 0), [merge_o0(t) == g for t in p["texts"]]]))
    fold = np.array([hash_percent(p["label"], "chooser-cv:") % 5 for p in plates])

    def table(name, rows):
        print(f"{name:22s}", " | ".join(f"{s} {np.mean(v):.1%} ({sum(v)}/{len(v)})" for s, v in rows.items()))

    table("CTC greedy alone", _by(plates, [merge_o0(greedy(lp)) == merge_o0(p["label"]) for p, lp in zip(plates, lps)]))
    table("right among hyps", _by(plates, [r.any() for r in right]))
    for name, cols in (("chooser", None), ("chooser + CTC", slice(None))):
        hits = [False] * len(plates)
        for k in range(5):
            feats = [p["x"] if cols is None else np.hstack([p["x"], e[:, cols]]) for p, e in zip(plates, extra)]
            tr = np.flatnonzero(fold != k)
            m = LogisticRegression(C=1.0, max_iter=5000).fit(np.concatenate([feats[i] for i in tr]),
                                                            np.concatenate([right[i] for i in tr]))
            for i in np.flatnonzero(fold == k):
                hits[i] = bool(right[i][int(np.argmax(m.decision_function(feats[i])))])
        table(name, _by(plates, hits))


def _by(plates: list, values: list) -> dict:
    out: dict = {}
    for p, v in zip(plates, values):
        out.setdefault(p["source"], []).append(bool(v))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["collect", "train", "eval"])
    ap.add_argument("fold", nargs="?", type=int, choices=[0, 1])
    ap.add_argument("--trim", action="store_true", help="eval: hypotheses with end-trimmed variants")
    ap.add_argument("--dir", default="/tmp/ctc_study")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    if a.step == "collect":
        collect(d)
    elif a.step == "train":
        if a.fold is None:
            sys.exit("train needs the half: 0 or 1")
        train(d, a.fold)
    else:
        evaluate(d, a.trim)


if __name__ == "__main__":
    main()

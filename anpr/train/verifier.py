"""Fit the plate verifier (`anpr.verify`): a small CNN over candidate context patches.

The examples come from `anpr.train.candidates`: every candidate the proposer finds in
the labelled photos, labelled plate / not plate by overlap. Only photos of the *fit*
part (`anpr.split`) are used; of those, a grouped share (`VAL_PERCENT`) is kept
aside to stop training and to choose the reader's thresholds, so that nothing is
chosen on the *check* part the figures are reported on.
"""

from __future__ import annotations

import time

import numpy as np

from .fit import FitResult

VAL_PERCENT = 15
"""Share of the fit groups, in percent, kept aside for early stopping and thresholds."""


def val_of(key: str) -> bool:
    """Whether a fit group belongs to the validation share (a second, independent hash).

    >>> val_of("7ABC123") in (True, False)
    True
    """
    from ..split import hash_percent

    return hash_percent(key, "val:") < VAL_PERCENT


def build_model(filters: tuple[int, ...] = (16, 32, 48), dense: int = 32, dropout: float = 0.3):
    """Strided 3x3 convolutions (batch norm, LeakyReLU), a small dense head, sigmoid.

    About 1.7 million multiply-adds per patch: the reader verifies every candidate
    of a photo (up to `anpr.localize.MAX_SCORED`) in one call of a few milliseconds.
    """
    from ..errors import require
    from ..verify import PATCH_H, PATCH_W

    keras = require("keras", "train")
    layers = keras.layers
    inputs = keras.Input((PATCH_H, PATCH_W, 1), name="patches")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.LeakyReLU(0.1, name=f"act{i}")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dropout(dropout, name="drop")(x)
    x = layers.Dense(dense, name="fc")(x)
    x = layers.LeakyReLU(0.1, name="act_fc")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="plate")(x)
    return keras.Model(inputs, outputs, name="anpr_verifier")


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random shifts of a few pixels, contrast, blur-like smoothing and noise on a batch
    of `anpr.verify.to_input` patches ``(N, H, W, 1)``."""
    n = len(x)
    out = np.empty_like(x)
    dy = rng.integers(-2, 3, n)
    dx = rng.integers(-4, 5, n)
    for i in range(n):
        out[i] = np.roll(x[i], (dy[i], dx[i]), axis=(0, 1))
    soft = rng.random(n) < 0.3
    if soft.any():
        s = out[soft]
        out[soft] = (s + np.roll(s, 1, 1) + np.roll(s, 1, 2) + np.roll(np.roll(s, 1, 1), 1, 2)) / 4
    out *= rng.uniform(0.7, 1.3, (n, 1, 1, 1)).astype(np.float32)
    out += rng.normal(0, 0.1, out.shape).astype(np.float32) * (rng.random((n, 1, 1, 1)) < 0.5)
    return out


def fit(
    x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
    epochs: int = 12, batch_size: int = 128, seed: int = 0, neg_per_pos: int = 6,
    hard_share: float = 0.0, progress=None,
) -> FitResult:
    """Train on patches (`anpr.verify.to_input` applied) with labels in {0, 1}.

    Each epoch sees every positive and a fresh random draw of ``neg_per_pos`` times
    as many negatives (the negatives outnumber the plates about 30 to 1); the weights
    with the best validation loss, on all validation candidates, are kept.
    """
    import keras

    for name, yy in (("training", y_train), ("validation", y_val)):
        if not (yy == 1).any() or not (yy == 0).any():
            raise ValueError(f"the {name} share holds no plate or no non-plate candidate: give more labelled photos")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    pos = np.flatnonzero(y_train == 1)
    neg = np.flatnonzero(y_train == 0)
    # The validation loss weighs each class as in the draw the model trains on, so the
    # epoch it picks is the one that ranks best, not the one most sure of "no plate".
    w_val = np.where(y_val == 1, 1.0, neg_per_pos * len(pos) / max(len(neg), 1)).astype(np.float32)
    best, best_w, best_epoch = np.inf, None, 0
    hist: dict[str, list[float]] = {"loss": [], "val_loss": []}
    t0 = time.perf_counter()
    hard = np.zeros(0, int)
    for ep in range(epochs):
        n_neg = min(len(neg), neg_per_pos * len(pos))
        n_hard = min(len(hard), int(hard_share * n_neg))
        pick = rng.choice(hard, n_hard, replace=False) if n_hard else np.zeros(0, int)
        rest = np.setdiff1d(neg, pick, assume_unique=True)
        idx = np.concatenate([pos, pick, rng.choice(rest, n_neg - n_hard, replace=False)])
        rng.shuffle(idx)
        xb = augment(x_train[idx], rng)
        h = model.fit(xb, y_train[idx].astype(np.float32), batch_size=batch_size, epochs=1, verbose=0)
        vl = float(model.evaluate(x_val, y_val.astype(np.float32), sample_weight=w_val, batch_size=512, verbose=0))
        hist["loss"].append(float(h.history["loss"][0]))
        hist["val_loss"].append(vl)
        if progress:
            progress(ep, hist["loss"][-1], vl)
        if vl < best:
            best, best_w, best_epoch = vl, model.get_weights(), ep
        if hard_share > 0:
            # The negatives the model now finds most plate-like are drawn more often.
            pn = model.predict(x_train[neg], batch_size=1024, verbose=0).ravel()
            hard = neg[np.argsort(-pn)[: 2 * n_neg]]
    if best_w is not None:
        model.set_weights(best_w)
    return FitResult(model, hist, time.perf_counter() - t0, epochs, best_epoch)


def average_precision(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise), positives ``y == 1``.

    >>> average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 0, 1]))
    0.8333333333333333
    """
    order = np.argsort(-np.asarray(p), kind="stable")
    t = np.asarray(y)[order] == 1
    if not t.any():
        return 0.0
    tp = np.cumsum(t)
    prec = tp / np.arange(1, len(t) + 1)
    return float((prec * t).sum() / t.sum())


REPORT_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Plate probabilities tried as reporting thresholds."""

CONFIDENCE_GRID = (0.3, 0.5, 0.7)
"""Reading confidences tried as the reporting threshold."""

BEST_CONFIDENCE_GRID = (0.15, 0.3, 0.5)
"""Reading confidences tried as the threshold of a photo's best reading."""


def photo_reads(photo, reader) -> dict:
    """Every reading the reader weighs in a labelled photo (`PlateReader.readings`),
    before any is kept or dropped, with its outline and character boxes (for studies of
    the reported boxes: ``scripts/dump_reads.py``)."""
    plates = reader.readings(photo.path)
    return {
        "scene": len(photo.boxes) == 1 and bool(photo.plates[0]),
        "boxes": [list(b) for b in photo.boxes],
        "reads": [{"text": p.text, "confidence": p.confidence, "plate_p": p.plate_p, "box": list(p.box),
                   "corners": [list(c) for c in p.corners], "chars": [list(c.box) for c in p.chars]}
                  for p in plates],
    }


BETA = 0.5
"""Weight of recall against precision in the F-beta score the thresholds maximise:
under 1, a false plate counts for more than a missed one (at a gate it opens the
barrier or bills the wrong person)."""


def f_score(recall: float, precision: float, beta: float = 1.0) -> float:
    """F-beta of a recall and a precision (0 when both are 0).

    >>> f_score(0.5, 1.0), round(f_score(0.5, 1.0, 0.5), 3)
    (0.6666666666666666, 0.833)
    """
    b2 = beta * beta
    return (1 + b2) * recall * precision / (b2 * precision + recall) if recall + precision else 0.0


def detection_scores(records: list[dict], t: dict) -> dict:
    """F1 and F-`BETA` of the plates reported under thresholds ``t`` (the keys of
    `choose_thresholds`) over photos read by `photo_reads`, with recall, precision and
    false plates per photo.

    Recall counts labelled plates at least `anpr.benchmark.DETECT_MIN_W` wide (every
    plate of a scene photo); precision counts every reported plate. A scene photo's
    plate is matched by the benchmark's scene rule, a detection photo's by IoU.
    """
    from ..benchmark import DETECT_MIN_W, box_matches, match_boxes
    from ..reader import Plate, final_readings

    found = wide = reported = false = 0
    gate = (t["report_min"], t["best_report_min"])
    for r in records:
        plates = [Plate(x["text"], x["confidence"], tuple(x["box"]), [], plate_p=x["plate_p"]) for x in r["reads"]]
        plates = final_readings(plates, t["min_confidence"], t["min_best"], gate)
        if r["scene"]:
            used = [box_matches(p.box, r["boxes"][0]) for p in plates]
            got = [0 if any(used) else -1]
        else:
            got, used = match_boxes([p.box for p in plates], r["boxes"])
        for b, g in zip(r["boxes"], got):
            if r["scene"] or b[2] >= DETECT_MIN_W:
                wide += 1
                found += g >= 0
        reported += len(plates)
        false += sum(not u for u in used)
    recall = found / max(wide, 1)
    precision = (reported - false) / reported if reported else 1.0
    return {"f1": f_score(recall, precision), "f_beta": f_score(recall, precision, BETA),
            "recall": recall, "precision": precision,
            "false_per_photo": false / max(len(records), 1)}


def reading_ap(records: list[dict]) -> float:
    """Average precision of the plate probabilities of every reading in photos read by
    `photo_reads`: a reading is a plate when its box matches a labelled one (a scene
    photo's by the benchmark's scene rule, a boxes-only photo's by IoU > 0.4).

    This, not the candidates' average precision, is the figure reporting depends on: it
    judges the few readings per photo that thresholds choose from, with the verdicts on
    their own outlines.

    >>> reading_ap([{"scene": False, "boxes": [[0, 0, 40, 20]],
    ...              "reads": [{"box": [1, 0, 40, 20], "plate_p": 0.9}, {"box": [90, 90, 40, 20], "plate_p": 0.95}]}])
    0.5
    """
    from ..benchmark import DETECT_IOU, box_matches
    from ..geometry import iou

    p, y = [], []
    for r in records:
        for x in r["reads"]:
            p.append(x["plate_p"])
            y.append(box_matches(x["box"], r["boxes"][0]) if r["scene"]
                     else any(iou(x["box"], b) > DETECT_IOU for b in r["boxes"]))
    return average_precision(np.array(p, float), np.array(y, int))


def choose_thresholds(records: list[dict]) -> dict:
    """The reporting thresholds with the best F-`BETA` (`detection_scores`) on ``records``: the plate
    probability every reported plate needs (``report_min``) and the photo's best
    reading needs (``best_report_min``, at most ``report_min``), and the reading
    confidence every plate needs (``min_confidence``) and the best one needs
    (``min_best``). Of equal scores, the first found wins: lower plate probabilities,
    lower confidences."""
    best: dict | None = None
    for r in REPORT_GRID:
        for b in (v for v in REPORT_GRID if v <= r):
            for c in CONFIDENCE_GRID:
                for m in (v for v in BEST_CONFIDENCE_GRID if v <= c):
                    t = {"report_min": r, "best_report_min": b, "min_confidence": c, "min_best": m}
                    f = detection_scores(records, t)
                    if best is None or f["f_beta"] > best["f_beta"]:
                        best = {**t, **f}
    assert best is not None  # the grids are not empty
    return best

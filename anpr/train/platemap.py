"""Training the plate map (`anpr.platemap`): data engine, model, loss, evaluation.

Examples are crops of the boxed photo folders' *fit* part (`anpr.split`), each photo
kept at `BASE` pixels on its longer side and cut at a random scale (far plates of a
few cells and close-ups filling half the crop are both common), with:

* synthetic plates (`anpr.train.plates`, US and European) and real plate crops of the
  plate folders' fit part pasted in perspective at random sizes and places: their
  pasted outline is a labelled box like any other;
* lettering that is no plate (words, state names, shop signs) drawn in as negatives.

The target of each `anpr.platemap.STRIDE` cell is 1 when its centre lies in a
labelled or pasted plate box. Folders whose photos hold plates left unboxed
(``detect/dashcam``, ``detect/usphone``: their READMEs say so) weigh their negative
cells by `UNBOXED_NEG_WEIGHT`, so an unboxed plate teaches little against itself.

A grouped share of the fit photos (`is_val`) is held out for validation: the epoch
kept and the map's threshold are chosen there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import overlaps_smaller
from ..platemap import INPUT, STRIDE
from ..split import hash_percent, part_of

BASE = 512
"""Longer side, in pixels, at which photos are kept for cutting examples (the map reads
them at `anpr.platemap.INPUT`, 0.75 of it)."""

CROP = 256
"""Side of a training example (the network is fully convolutional)."""

SCALES = (0.4, 1.3)
"""Range (log-uniform) of the scale each crop is cut at, relative to `BASE`: the map
reads at 0.75; lower shows close-ups whole, higher far plates larger."""

UNBOXED_NEG_WEIGHT = 0.3
"""Weight of the non-plate cells of photos that hold unboxed plates."""

UNBOXED = ("dashcam", "usphone")
"""Folder names whose photos hold plates left unboxed."""

VAL_PERCENT = 15
"""Share of the fit groups, in percent, held out for validation."""

PASTE_P = 0.5
"""Chance that a crop gets one or two pasted plates."""

LETTERING_P = 0.35
"""Chance that a crop gets lettering that is no plate."""

WORDS = (
    "VIRGINIA", "WASHINGTON", "CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ILLINOIS", "GROUP", "STEREO",
    "SALE", "OPEN", "PARKING", "TAXI", "POLICE", "PIZZA", "HOTEL", "BANK", "CAFE", "AUTO", "SERVICE", "EXIT",
    "STOP", "MOTORS", "GARAGE", "DEALER", "SUNSHINE STATE", "EMPIRE STATE", "LAND OF LINCOLN", "TOYOTA", "FORD",
    "MERCEDES", "RENAULT", "VOLKSWAGEN", "AMBULANCE", "DIESEL", "HYBRID", "SPORT", "TURBO", "EXPRESS",
)
"""Lettering drawn as negatives: state names and slogans of US plates (read above the
serial), and shop and car lettering."""


@dataclass(frozen=True)
class MapPhoto:
    """One boxed photo kept for training: gray at `BASE` on its longer side, its boxes
    ``(n, 4)`` ``x, y, w, h`` in those pixels, and the weight of its non-plate cells."""

    gray: np.ndarray
    boxes: np.ndarray
    neg_weight: float
    key: str
    source: str
    scale: float
    """`BASE` over the photo's longer side (its boxes in original pixels are
    ``boxes / scale``)."""


def is_val(key: str) -> bool:
    """Whether a fit group is held out for validation."""
    return hash_percent(key, "platemap-val:") < VAL_PERCENT


def load_photos(folders: Sequence[str | Path], part: str = "fit",
                progress: Callable[[int], None] | None = None) -> list[MapPhoto]:
    """The boxed photos of ``folders`` (scene or boxes-only ``labels.csv``) in the split's
    ``part``, gray at `BASE`; unreadable photos are skipped."""
    import cv2

    from ..images import load_image
    from ..localize import to_gray
    from .candidates import labelled_photos

    out = []
    for folder in folders:
        source = Path(folder).resolve().name
        neg = UNBOXED_NEG_WEIGHT if source in UNBOXED else 1.0
        for ph in labelled_photos(folder):
            if part_of(ph.key) != part:
                continue
            if progress:
                progress(1)
            try:
                gray = to_gray(load_image(ph.path))
            except ValueError:
                continue
            h, w = gray.shape
            s = BASE / max(h, w)
            small = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))),
                               interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            boxes = np.array(ph.boxes, np.float32).reshape(-1, 4) * s
            out.append(MapPhoto(small, boxes, neg, ph.key, source, s))
    return out


def plate_pool(folders: Sequence[str | Path], n_synthetic: int, seed: int, templates=None,
               limit_per_folder: int = 600) -> list[np.ndarray]:
    """Gray plates to paste: ``n_synthetic`` drawn (`anpr.train.plates.synth_plates`, a
    third European) and up to ``limit_per_folder`` real crops of each plate folder's fit
    part."""
    import cv2

    from .datasets import labelled_plates
    from .plates import synth_plates

    pool = [cv2.cvtColor(p.image, cv2.COLOR_BGR2GRAY)
            for p in synth_plates(n_synthetic, seed=seed, templates=templates, eu_share=0.35)]
    for folder in folders:
        for k, (_, img, _) in enumerate(labelled_plates(folder, part="fit")):
            if k >= limit_per_folder:
                break
            pool.append(img if img.ndim == 2 else cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY))
    return pool


def paste_plate(canvas: np.ndarray, plate: np.ndarray, rng: np.random.Generator,
                width: float | None = None, avoid: Sequence = ()) -> tuple[int, int, int, int] | None:
    """Paste a gray ``plate`` into ``canvas`` (in place) in a random perspective, at
    ``width`` pixels wide (random when None), at a random place clear of the boxes
    ``avoid`` (a few tries); returns the pasted plate's box ``(x, y, w, h)`` clipped to
    the canvas, or None when it fell outside or found no clear place.

    >>> rng = np.random.default_rng(0)
    >>> canvas = np.zeros((200, 300), np.uint8)
    >>> x, y, w, h = paste_plate(canvas, np.full((40, 120), 255, np.uint8), rng, width=90)
    >>> bool(canvas[y + h // 2, x + w // 2] > 200) and 70 < w < 110
    True
    """
    import cv2

    H, W = canvas.shape
    ph, pw = plate.shape[:2]
    if width is None:
        width = float(np.exp(rng.uniform(np.log(16), np.log(0.6 * W))))
    height = width * ph / pw * rng.uniform(0.8, 1.2)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    base = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    dst = base + rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * np.array([width, height], np.float32)
    angle = np.radians(rng.normal(0, 6))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    dst = dst @ rot.T
    dst -= dst.min(axis=0)
    span = dst.max(axis=0)
    for _ in range(5):
        x0 = rng.uniform(-0.2 * span[0], max(1.0, W - 0.8 * span[0]))
        y0 = rng.uniform(-0.2 * span[1], max(1.0, H - 0.8 * span[1]))
        if not any(overlaps_smaller((x0, y0, span[0], span[1]), b, 0.0) for b in avoid):
            break
    else:
        return None
    dst += np.array([x0, y0], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, m, (W, H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (W, H), flags=cv2.INTER_AREA)
    if int(mask.max()) == 0:
        return None
    a = mask.astype(np.float32) / 255.0
    canvas[:] = np.clip(canvas * (1 - a) + warped * a, 0, 255).astype(np.uint8)
    lo = np.clip(np.floor(dst.min(axis=0)), 0, [W, H]).astype(int)
    hi = np.clip(np.ceil(dst.max(axis=0)), 0, [W, H]).astype(int)
    w, h = hi - lo
    if w < 4 or h < 3:
        return None
    return int(lo[0]), int(lo[1]), int(w), int(h)


def draw_lettering(canvas: np.ndarray, rng: np.random.Generator, avoid: Sequence = ()) -> None:
    """Draw a word of `WORDS` or random letters (no plate) into ``canvas``, in place:
    on the bare background or on a sign band much longer than a plate; nothing when it
    would touch a box of ``avoid``."""
    import cv2

    H, W = canvas.shape
    if rng.random() < 0.7:
        text = str(rng.choice(WORDS))
    else:
        text = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), int(rng.integers(3, 9))))
    font = int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX,
                           cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_PLAIN]))
    scale = float(np.exp(rng.uniform(np.log(0.3), np.log(2.0))))
    thick = int(rng.integers(1, 4))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    x = int(rng.integers(-tw // 4, max(1, W - tw // 2)))
    y = int(rng.integers(th, max(th + 1, H)))
    if any(overlaps_smaller((x - 4 * th, y - 2 * th, tw + 8 * th, 3 * th), b, 0.0) for b in avoid):
        return
    bg = float(canvas[min(H - 1, max(0, y - th // 2)), min(W - 1, max(0, x + tw // 2))])
    if rng.random() < 0.35:
        # A sign: a band far longer than its text is tall.
        pad = int(th * rng.uniform(0.3, 0.8))
        band = float(rng.uniform(0, 255))
        cv2.rectangle(canvas, (x - 4 * th, y - th - pad), (x + tw + 4 * th, y + pad), band, -1)
        bg = band
    ink = float(rng.uniform(0, 60)) if bg > 127 else float(rng.uniform(190, 255))
    cv2.putText(canvas, text, (x, y), font, scale, ink, thick, cv2.LINE_AA)


def target_of(boxes: Sequence, side: int) -> np.ndarray:
    """Cell targets ``(side / STRIDE, side / STRIDE)`` of boxes ``(x, y, w, h)`` in a
    ``side`` x ``side`` crop: 1 where a cell's centre lies in a box; a box covering no
    cell centre marks the cell holding its own centre.

    >>> t = target_of([(8, 8, 16, 8), (41, 41, 2, 2)], 64)
    >>> int(t.sum()), bool(t[2:4, 2:6].all()), bool(t[10, 10])
    (9, True, True)
    """
    n = side // STRIDE
    t = np.zeros((n, n), np.float32)
    centres = (np.arange(n) + 0.5) * STRIDE
    for x, y, w, h in boxes:
        cols = (centres >= x) & (centres < x + w)
        rows = (centres >= y) & (centres < y + h)
        if cols.any() and rows.any():
            t[np.ix_(rows, cols)] = 1.0
        else:
            cx, cy = int((x + w / 2) // STRIDE), int((y + h / 2) // STRIDE)
            if 0 <= cx < n and 0 <= cy < n:
                t[cy, cx] = 1.0
    return t


def make_example(photo: MapPhoto, rng: np.random.Generator, pool: Sequence[np.ndarray] = (),
                 side: int = CROP) -> tuple[np.ndarray, np.ndarray]:
    """One training example: the input ``(side, side, 1)`` float32 (as
    `anpr.platemap.to_input` scales it) and the target ``(side / STRIDE, side / STRIDE,
    2)``: plate cells, and each cell's loss weight."""
    import cv2

    s = float(np.exp(rng.uniform(np.log(SCALES[0]), np.log(SCALES[1]))))
    h, w = photo.gray.shape
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    img = cv2.resize(photo.gray, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    boxes = photo.boxes * s
    # Crop: around a labelled plate most of the time, anywhere otherwise.
    if len(boxes) and rng.random() < 0.6:
        bx, by, bw, bh = boxes[int(rng.integers(len(boxes)))]
        cx, cy = bx + bw / 2 + rng.uniform(-0.4, 0.4) * side, by + bh / 2 + rng.uniform(-0.4, 0.4) * side
        x0, y0 = int(cx - side / 2), int(cy - side / 2)
        # As little padding as the photo allows.
        x0 = int(np.clip(x0, min(0, nw - side), max(0, nw - side)))
        y0 = int(np.clip(y0, min(0, nh - side), max(0, nh - side)))
    else:
        x0 = int(rng.integers(min(0, nw - side), max(0, nw - side) + 1))
        y0 = int(rng.integers(min(0, nh - side), max(0, nh - side) + 1))
    canvas = np.full((side, side), 128, np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(nw, x0 + side), min(nh, y0 + side)
    valid = np.zeros((side, side), bool)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
        valid[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = True
    crop_boxes = [(bx - x0, by - y0, bw, bh) for bx, by, bw, bh in boxes]
    if rng.random() < LETTERING_P:
        for _ in range(int(rng.integers(1, 3))):
            draw_lettering(canvas, rng, crop_boxes)
    if len(pool) and rng.random() < PASTE_P:
        for _ in range(int(rng.integers(1, 3))):
            b = paste_plate(canvas, pool[int(rng.integers(len(pool)))], rng, avoid=crop_boxes)
            if b is not None:
                crop_boxes.append(b)
    # Lighting and sensor.
    x: np.ndarray = canvas.astype(np.float32)
    x = (x - 128) * rng.uniform(0.6, 1.3) + 128 + rng.uniform(-40, 40)
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    x = x + rng.normal(0, rng.uniform(0, 6), x.shape)
    x = np.clip(x, 0, 255)
    x[~valid] = 127.5
    target = target_of(crop_boxes, side)
    weight = np.where(target > 0, 1.0, photo.neg_weight).astype(np.float32)
    return (x / 127.5 - 1.0).astype(np.float32)[..., None], np.stack([target, weight], axis=-1)


def make_batch(photos: Sequence[MapPhoto], n: int, rng: np.random.Generator,
               pool: Sequence[np.ndarray] = (), side: int = CROP) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples of photos drawn at random (`make_example`), stacked."""
    xs, ys = [], []
    for i in rng.integers(0, len(photos), n):
        x, y = make_example(photos[int(i)], rng, pool, side)
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def build_model(side: int | None = None):
    """The plate map CNN: a strided encoder to 1/32 of the input (a close-up plate fills
    half the photo), its coarse features brought back to 1/4 through 1/8 with skips,
    and a sigmoid per `STRIDE` cell. About 0.55 G multiply-adds at 384 x 384."""
    from ..errors import require

    keras = require("keras", "train")
    L = keras.layers

    def block(x, f, name, stride=1, dilation=1):
        x = L.Conv2D(f, 3, strides=stride, dilation_rate=dilation, padding="same", use_bias=False,
                     name=f"{name}_conv")(x)
        x = L.BatchNormalization(name=f"{name}_bn")(x)
        return L.LeakyReLU(0.1, name=f"{name}_act")(x)

    inputs = keras.Input((side, side, 1), name="photo")
    x = block(inputs, 16, "e1", stride=2)
    x = block(x, 32, "e2", stride=2)
    s4 = block(x, 32, "e3")
    x = L.MaxPooling2D(2, name="p8")(s4)
    x = block(x, 64, "e4")
    s8 = block(x, 64, "e5")
    x = L.MaxPooling2D(2, name="p16")(s8)
    x = block(x, 96, "e6")
    x = block(x, 96, "e7", dilation=2)
    x = L.MaxPooling2D(2, name="p32")(x)
    x = block(x, 128, "e8")
    x = block(x, 128, "e9", dilation=2)
    x = L.Conv2D(64, 1, name="d8_in")(x)
    x = L.UpSampling2D(4, interpolation="bilinear", name="up8")(x)
    x = L.Add(name="skip8")([x, L.Conv2D(64, 1, name="s8_in")(s8)])
    x = block(x, 64, "d8")
    x = L.Conv2D(32, 1, name="d4_in")(x)
    x = L.UpSampling2D(2, interpolation="bilinear", name="up4")(x)
    x = L.Add(name="skip4")([x, s4])
    x = block(x, 32, "d4")
    x = L.Dropout(0.1, name="drop")(x)
    out = L.Conv2D(1, 1, activation="sigmoid", name="plate")(x)
    return keras.Model(inputs, out, name="anpr_platemap")


def loss_fn(y_true, y_pred):
    """Weighted binary cross-entropy (plate cells weighted `POS_WEIGHT`) plus a soft
    Dice term over the batch; ``y_true[..., 1]`` holds each cell's weight."""
    from keras import ops

    t, w = y_true[..., 0], y_true[..., 1]
    p = ops.clip(y_pred[..., 0], 1e-6, 1 - 1e-6)
    bce = -(POS_WEIGHT * t * ops.log(p) + (1 - t) * ops.log(1 - p)) * w
    inter = ops.sum(p * t * w)
    dice = 1.0 - (2.0 * inter + 1.0) / (ops.sum(p * w) + ops.sum(t) + 1.0)
    return ops.mean(bce) + 0.5 * dice


POS_WEIGHT = 3.0
"""Weight of a plate cell's cross-entropy: plate cells are about 2% of a photo."""


def evaluate(heats: Sequence[np.ndarray], photos: Sequence[MapPhoto], threshold: float,
             min_w: float = 40.0) -> dict:
    """Candidates of the validation maps against the boxes: recall of boxes at least
    ``min_w`` px wide in the original photo (a candidate matching with IoU > 0.4),
    precision of the candidates (against every box), candidates per photo."""
    from ..geometry import box_iou_matrix
    from ..platemap import blobs_to_candidates

    found = boxes_wide = n_cands = true = 0
    for heat, ph in zip(heats, photos):
        cands = blobs_to_candidates(heat, INPUT / BASE, ph.gray, threshold)
        n_cands += len(cands)
        if not len(ph.boxes):
            continue
        wide = ph.boxes[:, 2] / ph.scale >= min_w
        boxes_wide += int(wide.sum())
        if not cands:
            continue
        iou = box_iou_matrix(np.array([c.box for c in cands], np.float64), ph.boxes.astype(np.float64))
        found += int(((iou > 0.4).any(axis=0) & wide).sum())
        true += int((iou > 0.4).any(axis=1).sum())
    n = max(1, len(photos))
    return {"recall_wide": found / max(1, boxes_wide), "precision": true / max(1, n_cands),
            "candidates_per_photo": n_cands / n, "threshold": threshold}


def predict_heats(model, photos: Sequence[MapPhoto], batch: int = 16) -> list[np.ndarray]:
    """The map of each photo as the reader computes it (`anpr.platemap.to_input`)."""
    from ..platemap import to_input

    out = []
    for i in range(0, len(photos), batch):
        x = np.concatenate([to_input(p.gray)[0] for p in photos[i:i + batch]])
        out += list(np.asarray(model.predict(x, verbose=0))[..., 0])
    return out


def choose_threshold(heats, photos, levels=(0.3, 0.4, 0.5, 0.6, 0.7)) -> tuple[float, dict]:
    """The level of best F2 of candidates against boxes on validation photos (recall
    first: the verifier still judges every candidate)."""
    best: tuple[float, dict] | None = None
    for th in levels:
        r = evaluate(heats, photos, th)
        p, rc = r["precision"], r["recall_wide"]
        r["f2"] = 5 * p * rc / max(1e-9, 4 * p + rc)
        if best is None or r["f2"] > best[1]["f2"]:
            best = (float(th), r)
    if best is None:
        raise ValueError("no threshold levels given")
    return best

"""Plate candidates of labelled photos, labelled plate / not plate by overlap.

Both kinds of labelled photo folder give examples for the plate verifier
(`anpr.verify`):

* scene folders (``labels.csv``: ``image,x,y,w,h,plate``, one plate per photo), and
* detection folders (``labels.csv``: ``image,x,y,w,h``, one row per plate, every plate
  in the photo boxed).

Every candidate the proposer returns is cut out as the verifier's context patch and
labelled by its best overlap with a labelled box: a *plate* when the intersection over
union passes `POSITIVE_IOU`, or when it is the plate's row of glyphs (its centre inside
the box, at least `ROW_FILL` of the box's height and half its width); *not a plate*
when it touches no labelled box at all (IoU under `NEGATIVE_IOU` and its centre
outside). Those in between (half a plate, a plate with half the bumper) are left out:
they are neither what the reader should read nor clearly not a plate.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POSITIVE_IOU = 0.4
NEGATIVE_IOU = 0.1
ROW_FILL = 0.4

PROPOSALS = 100
"""Candidates proposed per photo for training: more than the reader scores, so the
verifier also learns the small ones."""


@dataclass
class Photo:
    path: Path
    boxes: list
    """Labelled plate boxes ``(x, y, w, h)``."""
    plates: list
    """Their texts ('' when unknown)."""
    key: str
    """The group key of the split (`anpr.train.split.group_key`)."""


def labelled_photos(folder: str | Path) -> list[Photo]:
    """The photos of a scene or detection folder with their boxes, grouped by image."""
    from ..split import group_key

    folder = Path(folder)
    path = folder / "labels.csv"
    if not path.is_file():
        raise ValueError(f"{folder}: no labels.csv (expected image,x,y,w,h[,plate])")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    need = {"image", "x", "y", "w", "h"}
    if rows and not need <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns image,x,y,w,h (has {','.join(rows[0])})")
    photos: dict[str, Photo] = {}
    for r in rows:
        ph = photos.setdefault(r["image"], Photo(folder / r["image"], [], [], ""))
        ph.boxes.append(tuple(int(float(r[k])) for k in ("x", "y", "w", "h")))
        ph.plates.append((r.get("plate") or "").strip().upper())
    for ph in photos.values():
        # One photo of a scene folder is one view of its plate: views stay together.
        ph.key = group_key(ph.path.name, ph.plates[0] if len(ph.plates) == 1 else None)
    return list(photos.values())


def label_candidates(cands: list, boxes: list) -> np.ndarray:
    """Per candidate: 1 plate, 0 not a plate, -1 left out (see the module docstring).

    >>> from anpr.localize import Candidate
    >>> c = lambda x, y, w, h: Candidate(
    ...     np.array([[x, y], [x+w, y], [x+w, y+h], [x, y+h]], float), (x, y, w, h), "dark")
    >>> label_candidates([c(0, 0, 40, 10), c(5, 2, 30, 6), c(100, 100, 40, 10), c(0, 0, 12, 10)],
    ...                  [(0, 0, 40, 10)]).tolist()
    [1, 1, 0, -1]
    """
    from ..geometry import box_iou_matrix

    y = np.zeros(len(cands), np.int8)
    if not len(cands) or not len(boxes):
        return y
    cb = np.array([c.box for c in cands], np.float64)
    lb = np.array(boxes, np.float64)
    overlap = box_iou_matrix(cb, lb)
    cx, cy = (cb[:, 0] + cb[:, 2] / 2)[:, None], (cb[:, 1] + cb[:, 3] / 2)[:, None]
    inside = (lb[:, 0] <= cx) & (cx <= lb[:, 0] + lb[:, 2]) & (lb[:, 1] <= cy) & (cy <= lb[:, 1] + lb[:, 3])
    row = inside & (cb[:, 3:4] >= ROW_FILL * lb[:, 3]) & (cb[:, 2:3] >= 0.5 * lb[:, 2])
    touch = (overlap >= NEGATIVE_IOU) | inside
    y[touch.any(axis=1)] = -1
    y[((overlap > POSITIVE_IOU) | row).any(axis=1)] = 1
    return y


def photo_examples(photo: Photo, proposals: int = PROPOSALS) -> dict:
    """Context patches and labels of one photo's candidates, and for each labelled
    box the best IoU any candidate reaches (the proposer's recall)."""
    from ..geometry import box_iou_matrix
    from ..images import load_image
    from ..localize import propose, to_gray
    from ..verify import context_patches

    gray = to_gray(load_image(photo.path))
    cands = propose(gray, max_candidates=proposals)
    overlap = box_iou_matrix(np.array([c.box for c in cands], np.float64).reshape(-1, 4),
                             np.array(photo.boxes, np.float64))
    return {
        "patches": context_patches(gray, cands),
        "y": label_candidates(cands, photo.boxes),
        "box_iou": overlap.max(axis=0, initial=0.0).astype(np.float32),
        "box_w": np.asarray([b[2] for b in photo.boxes], np.int32),
    }


def _one(args):
    photo, proposals = args
    try:
        return photo_examples(photo, proposals)
    except Exception as exc:  # noqa: BLE001 - a bad photo is reported, the rest go on
        return {"error": f"{photo.path}: {exc}"}


def build(
    folders: list[Path], *, proposals: int = PROPOSALS, workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Examples of every photo of ``folders``, as arrays ready for ``np.savez``.

    Rows of ``patches`` and ``y`` are candidates; ``photo`` gives
    each row's photo index into ``names``, ``keys``, ``sets`` and ``parts``. Rows of
    ``box_iou``, ``box_w`` and ``box_photo`` are labelled boxes.
    """
    from ..split import part_of

    photos: list[Photo] = []
    sets: list[str] = []
    for d in folders:
        ps = labelled_photos(d)
        photos += ps
        sets += [Path(d).name] * len(ps)
    cols: dict[str, list] = {k: [] for k in ("patches", "y", "photo", "box_iou", "box_w", "box_photo")}
    errors = []
    for i, ex in enumerate(_map(_one, [(p, proposals) for p in photos], workers)):
        if progress:
            progress(1)
        if "error" in ex:
            errors.append(ex["error"])
            continue
        n = len(ex["y"])
        for k in ("patches", "y", "box_iou", "box_w"):
            cols[k].append(ex[k])
        cols["photo"].append(np.full(n, i, np.int32))
        cols["box_photo"].append(np.full(len(ex["box_iou"]), i, np.int32))
    from ..verify import PATCH_H, PATCH_W

    empty = {"patches": np.zeros((0, PATCH_H, PATCH_W), np.uint8)}
    out = {k: np.concatenate(v) if v else empty.get(k, np.zeros(0)) for k, v in cols.items()}
    out["names"] = np.asarray([str(p.path) for p in photos])
    out["keys"] = np.asarray([p.key for p in photos])
    out["sets"] = np.asarray(sets)
    out["parts"] = np.asarray([part_of(p.key) for p in photos])
    out["errors"] = np.asarray(errors, dtype=str)
    return out


def _map(fn, items: list, workers: int) -> Iterator:
    if workers <= 1:
        yield from map(fn, items)
        return
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap(fn, items, chunksize=4)

"""Accuracy benchmark on labelled folders in the ``../shared/data`` layout.

Two folder kinds:

* scenes (``labels.csv``: ``image,x,y,w,h,plate``): whole photos with one labelled plate
  each, read with `PlateReader.read`;
* plate crops (``labels.csv``: ``image,plate[,region]``), read with
  `PlateReader.read_crop` (``crop=True``).

Definitions (per photo, scenes):

* a returned plate *matches* the label when its box overlaps the labelled box with
  IoU > `DETECT_IOU`, or its centre lies inside the labelled box (a reading of the
  glyph row alone is a narrower box than the labelled plate);
* **detection**: some returned plate matches;
* **exact**: the most confident matching plate reads the label exactly
  (``exact_strict``), or with the letter O and the digit 0 counted as the same
  character (``exact``: some labels write the zero as O);
* **char accuracy**: ``max(0, 1 - edit distance / len(label))`` of that reading (O/0
  merged), 0 when nothing matches;
* **false plates**: returned plates that do not match the label, per photo;
* **ms**: wall time of ``read(path)`` per photo, file decoding included, one process
  (``cpu_ms``: the process's CPU time for the same call, which other busy processes
  on the machine disturb less).

For crops, the first returned plate is the reading, detection is "something was
read", and there are no false plates.

Examples
--------
>>> edit_distance("ABC123", "A8C123")
1
>>> merge_o0("RKO99AN")
'RK099AN'
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .decode import merge_o0

DETECT_IOU = 0.4
"""Overlap above which a returned plate is the labelled one."""

REGION_KEYS = ("us", "eu", "br")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_accuracy(read: str, label: str) -> float:
    """``1 - edit distance / len(label)``, O/0 merged, floored at 0.

    >>> char_accuracy("AB12", "AB123")
    0.8
    """
    if not label:
        raise ValueError("label is empty")
    return max(0.0, 1.0 - edit_distance(merge_o0(read), merge_o0(label)) / len(label))


def _matches(box: Sequence[int], label_box: Sequence[int]) -> bool:
    from .localize import iou

    x, y, w, h = box
    lx, ly, lw, lh = label_box
    cx, cy = x + w / 2, y + h / 2
    return iou(box, label_box) > DETECT_IOU or (lx <= cx <= lx + lw and ly <= cy <= ly + lh)


def load_labels(folder: Path, crop: bool) -> list[dict]:
    """Rows of ``folder/labels.csv`` checked for the columns the mode needs."""
    path = Path(folder) / "labels.csv"
    if not path.is_file():
        raise ValueError(f"{folder}: no labels.csv (expected image,x,y,w,h,plate or image,plate)")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    need = {"image", "plate"} if crop else {"image", "x", "y", "w", "h", "plate"}
    have = set(rows[0].keys()) if rows else set()
    if not rows or not need <= have:
        hint = "" if crop or "x" in have else " (a plate-crop folder? use --crop)"
        raise ValueError(f"{path}: needs columns {','.join(sorted(need))}, has {','.join(sorted(have)) or 'none'}{hint}")
    return rows


def label_box(row: dict) -> list[int]:
    """The labelled plate box ``[x, y, w, h]`` of a scene ``labels.csv`` row.

    >>> label_box({"image": "a.jpg", "x": "10", "y": "20.0", "w": "80", "h": "40", "plate": "AB1"})
    [10, 20, 80, 40]
    """
    return [int(float(row[k])) for k in ("x", "y", "w", "h")]


def _region_for(folder: Path, region: str | None) -> str | None:
    if region != "auto":
        return region
    name = Path(folder).resolve().name.lower()
    return name if name in REGION_KEYS else None


def score_scene(plates: list, label_box: Sequence[int], label: str) -> dict:
    """Per-photo scores of ``plates`` (best first) against one labelled plate.

    >>> from anpr.reader import Plate
    >>> p = Plate("AB123", 0.9, (10, 10, 50, 20), [])
    >>> s = score_scene([p], (12, 10, 48, 20), "AB123")
    >>> s["detected"], s["exact"], s["false_plates"]
    (True, True, 0)
    """
    match = next((p for p in plates if _matches(p.box, label_box)), None)
    n_match = sum(_matches(p.box, label_box) for p in plates)
    text = match.text if match is not None else ""
    return {
        "detected": match is not None,
        "read": text,
        "confidence": float(match.confidence) if match is not None else 0.0,
        "exact_strict": text == label,
        "exact": bool(text) and merge_o0(text) == merge_o0(label),
        "char_acc": char_accuracy(text, label),
        "false_plates": len(plates) - n_match,
        "box": list(match.box) if match is not None else None,
    }


def score_crop(plates: list, label: str) -> dict:
    text = plates[0].text if plates else ""
    return {
        "detected": bool(plates),
        "read": text,
        "confidence": float(plates[0].confidence) if plates else 0.0,
        "exact_strict": text == label,
        "exact": bool(text) and merge_o0(text) == merge_o0(label),
        "char_acc": char_accuracy(text, label),
        "false_plates": 0,
        "box": None,
    }


def summarize(rows: list[dict]) -> dict:
    """Rates over per-image rows (the dicts `score_scene` returns, plus ``ms``)."""
    n = len(rows)
    if n == 0:
        return {"n": 0}
    ms = np.array([r["ms"] for r in rows], float)
    mean = lambda k: float(np.mean([float(r[k]) for r in rows]))  # noqa: E731
    return {
        "n": n,
        "exact": mean("exact"),
        "exact_strict": mean("exact_strict"),
        "char_acc": mean("char_acc"),
        "detection": mean("detected"),
        "false_per_photo": mean("false_plates"),
        "ms_median": float(np.median(ms)),
        "ms_p90": float(np.percentile(ms, 90)),
        "cpu_ms_median": float(np.median([r.get("cpu_ms", np.nan) for r in rows])),
    }


def run_benchmark(
    dirs: Sequence[str | Path],
    *,
    crop: bool = False,
    region: str | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    model: Any = None,
    reader: Any = None,
) -> dict:
    """Read every labelled image of ``dirs`` and score the readings.

    Parameters
    ----------
    dirs : sequence of folder paths
        Each holds ``labels.csv`` and the images it names.
    crop : bool
        The images are tight plate crops (``image,plate`` labels): use ``read_crop``.
    region : str or None
        Region key passed to the reader; ``"auto"`` takes it from each folder's name
        (``us``/``eu``/``br``, else None).
    out_dir : path, optional
        Write ``results.csv`` (one row per image), ``summary.json`` and
        ``failures.png`` (labelled crop beside what was read, per miss) there.
    progress : callable, optional
        Called as ``progress(done, total)`` after each image.
    model : None, path or CharClassifier
        Passed to `PlateReader`.
    reader : PlateReader, optional
        Use this reader (its region is then kept unless ``region`` is given).

    Returns
    -------
    dict
        ``{"sets": {name: rates}, "total": rates, "crop": bool, "region": region}``
        where rates are those of `summarize`.
    """
    from .images import load_image
    from .reader import PlateReader

    dirs = [Path(d) for d in dirs]
    if not dirs:
        raise ValueError("no folders given")
    if region is not None and region != "auto":
        region = region.lower()
    labels = {d: load_labels(d, crop) for d in dirs}
    total = sum(len(v) for v in labels.values())
    readers: dict = {}
    rows: list[dict] = []
    done = 0
    for d in dirs:
        reg = _region_for(d, region)
        if reader is not None and region is None:
            rd = reader
        else:
            if reg not in readers:
                readers[reg] = PlateReader(model=model if reader is None else reader.classifier, region=reg)
            rd = readers[reg]
        for lab in labels[d]:
            path = d / lab["image"]
            label = lab["plate"].strip().upper()
            t0, c0 = time.perf_counter(), time.process_time()
            error = ""
            try:
                plates = rd.read_crop(path) if crop else rd.read(path)
            except ValueError as exc:  # unreadable image: scored as a miss
                plates, error = [], str(exc)
            ms = (time.perf_counter() - t0) * 1000
            cpu_ms = (time.process_time() - c0) * 1000
            if crop:
                s = score_crop(plates, label)
                lbox = None
            else:
                lbox = label_box(lab)
                s = score_scene(plates, lbox, label)
            s.update(set=d.name, image=lab["image"], label=label, ms=ms, cpu_ms=cpu_ms, n_plates=len(plates),
                     label_box=lbox, error=error, path=str(path))
            rows.append(s)
            done += 1
            if progress is not None:
                progress(done, total)
    names = [d.name for d in dirs]
    if len(set(names)) != len(names):  # two folders of the same name: use full paths
        names = [str(d) for d in dirs]
        for r in rows:
            r["set"] = str(Path(r["path"]).parent)
    summary = {
        "sets": {n: summarize([r for r in rows if r["set"] == n]) for n in names},
        "total": summarize(rows),
        "crop": crop,
        "region": region,
    }
    if out_dir is not None:
        _write_reports(Path(out_dir), rows, summary, load_image)
        summary["out_dir"] = str(out_dir)
    return summary


FIELDS = ["set", "image", "label", "read", "exact", "exact_strict", "char_acc", "detected",
          "confidence", "false_plates", "n_plates", "ms", "cpu_ms", "error"]


def _write_reports(out: Path, rows: list[dict], summary: dict, load_image) -> None:
    import json

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(r[k], 4) if isinstance(r[k], float) else r[k]) for k in FIELDS})
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    fails = [r for r in rows if not r["exact"]]
    if fails:
        import cv2

        cv2.imwrite(str(out / "failures.png"), failure_montage(fails, load_image))


def failure_montage(rows: list[dict], load_image, *, tile_h: int = 48, width: int = 640, limit: int = 200) -> np.ndarray:
    """One line per miss: the labelled plate crop, then ``label -> read`` text."""
    import cv2

    lines = []
    for r in rows[:limit]:
        try:
            img = load_image(r["path"])
        except ValueError:
            img = np.zeros((tile_h, tile_h, 3), np.uint8)
        if r.get("label_box"):
            x, y, w, h = r["label_box"]
            x0, y0 = max(0, x), max(0, y)
            crop = img[y0 : y + h, x0 : x + w]
            if crop.size == 0:
                crop = img
        else:
            crop = img
        s = tile_h / crop.shape[0]
        tile = cv2.resize(crop, (max(1, min(width // 2, round(crop.shape[1] * s))), tile_h))
        line = np.full((tile_h + 4, width, 3), 255, np.uint8)
        line[2 : 2 + tile_h, : tile.shape[1]] = tile
        read = r["read"] or ("(not found)" if not r["detected"] else "(empty)")
        txt = f"{r['label']} -> {read}"
        cv2.putText(line, txt, (tile.shape[1] + 8, tile_h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 200), 1)
        info = f"{r['set']}/{r['image']}"[:48] + f"  fp={r['false_plates']}"
        cv2.putText(line, info, (tile.shape[1] + 8, tile_h - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (80, 80, 80), 1)
        lines.append(line)
    return np.vstack(lines)


def format_summary(summary: dict) -> str:
    """The summary as a plain-text table (one row per folder, then the total).

    >>> print(format_summary({"sets": {"eu": {"n": 2, "exact": 0.5, "exact_strict": 0.5,
    ...   "char_acc": 0.9, "detection": 1.0, "false_per_photo": 0.0, "ms_median": 20.0,
    ...   "ms_p90": 30.0}}, "total": {"n": 0}}).splitlines()[2])
    eu           2    50.0%    50.0%     90.0%   100.0%   0.00     20.0     30.0
    """
    head = f"{'set':<8} {'n':>5} {'exact':>8} {'strict':>8} {'char acc':>9} {'detect':>8} {'fp/img':>6} {'ms med':>8} {'ms p90':>8}"
    lines = [head, "-" * len(head)]

    def row(name: str, s: dict) -> str:
        if not s.get("n"):
            return f"{name:<8} {0:>5}"
        return (f"{name[:8]:<8} {s['n']:>5} {s['exact']:>8.1%} {s['exact_strict']:>8.1%} {s['char_acc']:>9.1%} "
                f"{s['detection']:>8.1%} {s['false_per_photo']:>6.2f} {s['ms_median']:>8.1f} {s['ms_p90']:>8.1f}")

    for name, s in summary["sets"].items():
        lines.append(row(name, s))
    if len(summary["sets"]) > 1 and summary["total"].get("n"):
        lines.append(row("total", summary["total"]))
    if summary.get("out_dir"):
        lines.append(f"reports: {summary['out_dir']}")
    return "\n".join(lines)

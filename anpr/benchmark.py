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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .decode import available_regions, edit_distance, edit_table, merge_o0

DETECT_IOU = 0.4
"""Overlap above which a returned plate is the labelled one."""

def char_accuracy(read: str, label: str) -> float:
    """``1 - edit distance / len(label)``, O/0 merged, floored at 0.

    >>> char_accuracy("AB12", "AB123")
    0.8
    """
    if not label:
        raise ValueError("label is empty")
    return max(0.0, 1.0 - edit_distance(merge_o0(read), merge_o0(label)) / len(label))


def end_errors(read: str, label: str) -> tuple[int, int]:
    """Glyphs of ``label`` that ``read`` drops at the plate's ends, and glyphs it adds
    there (a frame edge, a sticker), O/0 merged: the label's characters before the first
    and after the last character matched by a least-edit alignment, and the reading's.
    An empty reading counts nothing (the plate was not read, no end was misread).

    >>> end_errors("ABC123", "7ABC123"), end_errors("ABC1231", "ABC123"), end_errors("ABX123", "ABC123")
    ((1, 0), (0, 1), (0, 0))
    >>> end_errors("IABC12", "ABC123"), end_errors("", "ABC123")
    ((1, 1), (0, 0))
    """
    a, b = merge_o0(read), merge_o0(label)
    if not a or not b:
        return 0, 0
    n, m = len(a), len(b)
    pairs = [(i, j) for i, j, same in _diagonal(a, b) if same]
    if not pairs:
        return 0, 0
    (ri0, li0), (ri1, li1) = pairs[-1], pairs[0]
    dropped = li0 + (m - 1 - li1)
    added = ri0 + (n - 1 - ri1)
    # A substitution at an end is a confusion, not a drop and an add.
    both = min(li0, ri0) + min(m - 1 - li1, n - 1 - ri1)
    return dropped - both, added - both


LOOKALIKE_PAIRS = ("I/1", "B/8", "O/0", "S/5", "Z/2", "D/0")
"""Letter/digit look-alikes whose confusions `anpr benchmark --crop` counts (`confusions`)."""


def confusions(read: str, label: str) -> list[str]:
    """The `LOOKALIKE_PAIRS` confused between ``read`` and ``label`` (either way): the
    substitutions of a least-edit alignment that swap the two characters of a pair.
    O and 0 are told apart here (the exact figures fold them).

    >>> confusions("8ANY976", "BANY976"), confusions("GO0G1E", "GOOGLE"), confusions("AB12", "AB12")
    (['B/8'], ['O/0'], [])
    """
    a, b = read.upper(), label.upper()
    if not a or not b:
        return []
    out = []
    for i, j, same in _diagonal(a, b)[::-1]:
        if not same:
            out += [p for p in LOOKALIKE_PAIRS if set(p.split("/")) == {a[i], b[j]}]
    return out


def _diagonal(a: str, b: str) -> list[tuple[int, int, bool]]:
    """The diagonal steps of one least-edit alignment of ``a`` to ``b``, matches
    preferred, from the ends back: ``(i, j, a[i] == b[j])``.

    >>> _diagonal("AX1", "AB1")
    [(2, 2, True), (1, 1, False), (0, 0, True)]
    """
    d = edit_table(a, b)
    i, j, steps = len(a), len(b), []
    while i and j:
        if a[i - 1] == b[j - 1] and d[i][j] == d[i - 1][j - 1]:
            steps.append((i - 1, j - 1, True))
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j - 1] + 1:
            steps.append((i - 1, j - 1, False))
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return steps


def box_matches(box: Sequence[int], label_box: Sequence[int]) -> bool:
    """A found box matches a labelled one: IoU above `DETECT_IOU`, or its centre inside it."""
    from .geometry import iou

    x, y, w, h = box
    lx, ly, lw, lh = label_box
    cx, cy = x + w / 2, y + h / 2
    return iou(box, label_box) > DETECT_IOU or (lx <= cx <= lx + lw and ly <= cy <= ly + lh)


def folder_kind(folder: Path, crop: bool) -> str:
    """``"crop"``, ``"scene"`` or ``"detect"`` (boxes only: ``image,x,y,w,h``, no plate
    text), from the columns of ``folder/labels.csv``."""
    if crop:
        return "crop"
    path = Path(folder) / "labels.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            head = next(csv.reader(fh), [])
    except OSError:
        return "scene"  # load_labels says what is wrong
    return "detect" if {"x", "y", "w", "h"} <= set(head) and "plate" not in head else "scene"


def load_labels(folder: Path, crop: bool, part: str | None = None) -> list[dict]:
    """Rows of ``folder/labels.csv`` checked for the columns the mode needs.

    ``part`` (``"fit"`` or ``"check"``) keeps only the rows of that part of the split
    (`anpr.split`): grouped by plate text, or by photo in a boxes-only folder.
    """
    path = Path(folder) / "labels.csv"
    if not path.is_file():
        raise ValueError(f"{folder}: no labels.csv (expected image,x,y,w,h,plate or image,plate)")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kind = folder_kind(folder, crop)
    need = {"image", "plate"} if crop else {"image", "x", "y", "w", "h"} | ({"plate"} if kind == "scene" else set())
    have = set(rows[0].keys()) if rows else set()
    if not rows or not need <= have:
        hint = "" if crop or "x" in have else " (a plate-crop folder? use --crop)"
        has = ",".join(sorted(have)) or "none"
        raise ValueError(f"{path}: needs columns {','.join(sorted(need))}, has {has}{hint}")
    if part is not None:
        from .split import group_key, part_of

        if part not in ("fit", "check"):
            raise ValueError(f"part must be 'fit' or 'check', got {part!r}")
        rows = [r for r in rows if part_of(group_key(r["image"], r.get("plate"))) == part]
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
    return name if name in available_regions() else None


def score_scene(plates: list, label_box: Sequence[int], label: str) -> dict:
    """Per-photo scores of ``plates`` (best first) against one labelled plate.

    >>> from anpr.reader import Plate
    >>> p = Plate("AB123", 0.9, (10, 10, 50, 20), [])
    >>> s = score_scene([p], (12, 10, 48, 20), "AB123")
    >>> s["detected"], s["exact"], s["false_plates"]
    (True, True, 0)
    """
    match = next((p for p in plates if box_matches(p.box, label_box)), None)
    n_match = sum(box_matches(p.box, label_box) for p in plates)
    text = match.text if match is not None else ""
    exact = bool(text) and merge_o0(text) == merge_o0(label)
    return {
        "detected": match is not None,
        "read": text,
        "confidence": float(match.confidence) if match is not None else 0.0,
        "exact_strict": text == label,
        "exact": exact,
        "char_acc": char_accuracy(text, label),
        "false_plates": len(plates) - n_match,
        "box": list(match.box) if match is not None else None,
        "readings": [(float(p.confidence), p is match and exact) for p in plates],
        **_ends(text, label),
    }


def score_crop(plates: list, label: str) -> dict:
    text = plates[0].text if plates else ""
    exact = bool(text) and merge_o0(text) == merge_o0(label)
    return {
        "detected": bool(plates),
        "read": text,
        "confidence": float(plates[0].confidence) if plates else 0.0,
        "exact_strict": text == label,
        "exact": exact,
        "char_acc": char_accuracy(text, label),
        "false_plates": 0,
        "box": None,
        "readings": [(float(plates[0].confidence), exact)] if plates else [],
        "confusions": confusions(text, label),
        **_ends(text, label),
    }


def _ends(read: str, label: str) -> dict:
    dropped, added = end_errors(read, label)
    return {"end_dropped": dropped, "end_added": added}


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
        "end_dropped": int(sum(r.get("end_dropped", 0) for r in rows)),
        "end_added": int(sum(r.get("end_added", 0) for r in rows)),
        **({"confusions": {p: sum(r.get("confusions", []).count(p) for r in rows) for p in LOOKALIKE_PAIRS}}
           if any("confusions" in r for r in rows) else {}),
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
    part: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
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
        (``us``/``eu``/``br``/``ar``, else None).
    out_dir : path, optional
        Write ``results.csv`` (one row per image), ``summary.json`` and
        ``failures.png`` (labelled crop beside what was read, per miss) there.
    progress : callable, optional
        Called as ``progress(done, total)`` after each image.
    model : None, path or CharClassifier
        Passed to `PlateReader`.
    reader : PlateReader, optional
        Use this reader (its region is then kept unless ``region`` is given; for
        another region, a reader with its models).
    part : {"fit", "check"}, optional
        Score only that part of each folder (`anpr.split`).
    reader_options : mapping, optional
        More keyword arguments for the `PlateReader` made here (``verifier``,
        ``glyphs``: other model files of the learned stages).

    Returns
    -------
    dict
        ``{"sets": {name: rates}, "total": rates, "crop": bool, "region": region}``
        where rates are those of `summarize`.
    """
    from .images import load_image
    from .reader import PlateReader

    folders = [Path(d) for d in dirs]
    if not folders:
        raise ValueError("no folders given")
    if region is not None and region != "auto":
        region = region.lower()
    labels = {d: load_labels(d, crop, part) for d in folders}
    total = sum(len(v) for v in labels.values())
    readers: dict = {}
    rows: list[dict] = []
    done = 0
    for d in folders:
        reg = _region_for(d, region)
        if reader is not None and region is None:
            rd = reader
        else:
            if reg not in readers:
                opts = dict(reader_options or {})
                if reader is not None:  # the given reader's learned stages, for another region
                    opts.setdefault("verifier", False if reader.verifier is None else reader.verifier)
                    opts.setdefault("glyphs", False if reader.glyphs is None else reader.glyphs)
                readers[reg] = PlateReader(model=model if reader is None else reader.classifier, region=reg, **opts)
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
    names = [d.name for d in folders]
    if len(set(names)) != len(names):  # two folders of the same name: use full paths
        names = [str(d) for d in folders]
        for r in rows:
            r["set"] = str(Path(r["path"]).parent)
    summary = {
        "sets": {n: summarize([r for r in rows if r["set"] == n]) for n in names},
        "total": summarize(rows),
        "crop": crop,
        "region": region,
        "part": part,
    }
    conf = [c for r in rows for c, _ in r["readings"]]
    exact = [e for r in rows for _, e in r["readings"]]
    summary["risk_coverage"] = risk_coverage(conf, exact, labelled=len(rows), thresholds=_risk_thresholds())
    summary["reliability"] = reliability(conf, exact)
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
    if summary.get("reliability", {}).get("n"):
        import cv2

        cv2.imwrite(str(out / "reliability.png"), draw_reliability(summary["reliability"]))
    fails = [r for r in rows if not r["exact"]]
    if fails:
        import cv2

        cv2.imwrite(str(out / "failures.png"), failure_montage(fails, load_image))


def failure_montage(rows: list[dict], load_image, *, tile_h: int = 48, width: int = 640,
                    limit: int = 200) -> np.ndarray:
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
    head = (f"{'set':<8} {'n':>5} {'exact':>8} {'strict':>8} {'char acc':>9} {'detect':>8} {'fp/img':>6}"
            f" {'ms med':>8} {'ms p90':>8} {'ends -/+':>9}")
    lines = [head, "-" * len(head)]

    def row(name: str, s: dict) -> str:
        if not s.get("n"):
            return f"{name:<8} {0:>5}"
        return (f"{name[:8]:<8} {s['n']:>5} {s['exact']:>8.1%} {s['exact_strict']:>8.1%} {s['char_acc']:>9.1%} "
                f"{s['detection']:>8.1%} {s['false_per_photo']:>6.2f} {s['ms_median']:>8.1f} {s['ms_p90']:>8.1f}"
                + (f" {str(s['end_dropped']) + '/' + str(s['end_added']):>9}" if "end_dropped" in s else ""))

    for name, s in summary["sets"].items():
        lines.append(row(name, s))
    if len(summary["sets"]) > 1 and summary["total"].get("n"):
        lines.append(row("total", summary["total"]))
    confused = {name: s["confusions"] for name, s in summary["sets"].items() if s.get("confusions")}
    if confused:
        lines += ["", "Look-alike confusions (characters read as their look-alike, either way; O/0 told apart):",
                  f"{'set':<8} " + " ".join(f"{p:>5}" for p in LOOKALIKE_PAIRS)]
        lines += [f"{name[:8]:<8} " + " ".join(f"{c[p]:>5}" for p in LOOKALIKE_PAIRS) for name, c in confused.items()]
    if summary.get("risk_coverage") and summary.get("reliability", {}).get("n"):
        lines += ["", "Readings kept by a confidence threshold (every reported reading; off the labelled",
                  "plate counts as wrong), and the labelled plates read exactly among them:",
                  format_risk_coverage(summary["risk_coverage"], summary["reliability"]["ece"])]
    if summary.get("out_dir"):
        lines.append(f"reports: {summary['out_dir']}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- confidence

RISK_THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
"""Confidence thresholds of the risk-coverage table (`risk_coverage`)."""


def _risk_thresholds() -> list[float]:
    """`RISK_THRESHOLDS` and the shipped calibration's threshold for 99% exact."""
    from .calibrate import load_calibration
    from .errors import ModelError

    try:
        t99 = load_calibration().threshold_99
    except ModelError:
        t99 = None
    return sorted(set(RISK_THRESHOLDS) | ({round(t99, 3)} if t99 is not None else set()))


def risk_coverage(confidence: Sequence[float] | np.ndarray, exact: Sequence[bool] | np.ndarray,
                  labelled: int | None = None, thresholds: Sequence[float] = RISK_THRESHOLDS) -> list[dict]:
    """What a threshold on ``confidence`` keeps and how often what it keeps is exactly right.

    Parameters
    ----------
    confidence, exact : sequences
        Per reported reading: its confidence and whether its text is exactly the plate's
        (a reading of no labelled plate is not).
    labelled : int, optional
        Plates labelled: each row then also gives the share of them read exactly at or
        above the threshold (what a gate would let through by itself).
    thresholds : sequence of float

    Returns
    -------
    list of dict
        Per threshold: ``threshold``, ``kept`` (share of readings), ``n_kept``, ``exact``
        (share of the kept ones exactly right; NaN when none is kept) and, with
        ``labelled``, ``plates_read``.

    Examples
    --------
    >>> rows = risk_coverage([0.6, 0.92, 0.99, 0.995], [False, True, True, True], 5, (0.5, 0.9))
    >>> [(r["kept"], r["exact"], r["plates_read"]) for r in rows]
    [(1.0, 0.75, 0.6), (0.75, 1.0, 0.6)]
    """
    c = np.asarray(confidence, np.float64)
    e = np.asarray(exact, bool)
    if c.shape != e.shape:
        raise ValueError(f"confidence and exact differ in length: {c.shape} vs {e.shape}")
    out = []
    for t in thresholds:
        keep = c >= t
        row = {"threshold": float(t), "n_kept": int(keep.sum()), "kept": float(keep.mean()) if c.size else float("nan"),
               "exact": float(e[keep].mean()) if keep.any() else float("nan")}
        if labelled is not None:
            row["plates_read"] = float((keep & e).sum() / labelled) if labelled else float("nan")
        out.append(row)
    return out


def reliability(confidence: Sequence[float] | np.ndarray, exact: Sequence[bool] | np.ndarray, bins: int = 10) -> dict:
    """Reliability of a confidence: per equal-width bin its count, mean confidence and
    exact rate, and the expected calibration error (``ece``: the bins' gaps between the
    two, weighted by their counts).

    >>> r = reliability([0.95, 0.95, 0.15, 0.15], [True, True, False, True], bins=10)
    >>> round(r["ece"], 3), r["bins"][9]["n"], r["bins"][1]["exact"]
    (0.2, 2, 0.5)
    """
    c = np.clip(np.asarray(confidence, np.float64), 0.0, 1.0)
    e = np.asarray(exact, bool)
    k = np.minimum((c * bins).astype(int), bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = k == b
        n = int(m.sum())
        row = {"low": b / bins, "high": (b + 1) / bins, "n": n,
               "confidence": float(c[m].mean()) if n else float("nan"),
               "exact": float(e[m].mean()) if n else float("nan")}
        if n:
            ece += n / len(c) * abs(row["confidence"] - row["exact"])
        rows.append(row)
    return {"bins": rows, "ece": float(ece), "n": int(len(c))}


def draw_reliability(rel: dict, size: int = 400) -> np.ndarray:
    """A reliability diagram (exact rate against confidence, per bin; the diagonal is
    perfect calibration), BGR ``(size, size, 3)``."""
    import cv2

    img = np.full((size, size, 3), 255, np.uint8)
    m0, m1 = 40, size - 20
    span = m1 - m0

    def at(x: float, y: float) -> tuple[int, int]:
        return int(m0 + x * span), int(m1 - y * span)

    cv2.rectangle(img, at(0, 0), at(1, 1), (0, 0, 0), 1)
    cv2.line(img, at(0, 0), at(1, 1), (160, 160, 160), 1)
    for b in rel["bins"]:
        if b["n"]:
            cv2.rectangle(img, at(b["low"], 0), at(b["high"], b["exact"]), (200, 120, 40), -1)
            cv2.rectangle(img, at(b["low"], 0), at(b["high"], b["exact"]), (0, 0, 0), 1)
            cv2.circle(img, at(b["confidence"], b["exact"]), 3, (0, 0, 200), -1)
    cv2.putText(img, f"ECE {rel['ece']:.3f}  n={rel['n']}", (m0 + 6, m0 - 6 + 20), cv2.FONT_HERSHEY_SIMPLEX,
                0.45, (0, 0, 0), 1)
    cv2.putText(img, "confidence", (size // 2 - 40, size - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(img, "exact", (2, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return img


def format_risk_coverage(rows: list[dict], ece: float | None = None) -> str:
    """The risk-coverage table as plain text.

    >>> print(format_risk_coverage(risk_coverage([0.6, 0.99], [False, True], 2, (0.5,))))
    confidence >=    kept    exact  plates read
    0.50           100.0%    50.0%        50.0%
    """
    lines = [f"{'confidence >=':<13} {'kept':>7} {'exact':>8} {'plates read':>12}"]
    for r in rows:
        read = f"{r['plates_read']:>12.1%}" if "plates_read" in r else ""
        exact = f"{r['exact']:>8.1%}" if r["n_kept"] else f"{'-':>8}"
        t = r["threshold"]
        lines.append(f"{f'{t:.2f}' if round(t, 2) == t else f'{t:.3f}':<13} {r['kept']:>7.1%} {exact} {read}")
    if ece is not None:
        lines.append(f"expected calibration error {ece:.3f}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- detection

DETECT_MIN_W = 40
"""Plates at least this wide (labelled box, pixels) make the headline recall: narrower
ones are mostly too small to read at all."""


def match_boxes(found: Sequence, boxes: Sequence, thr: float = DETECT_IOU) -> tuple[list[int], list[bool]]:
    """Greedy one-to-one matching by IoU above ``thr``, best pairs first.

    Returns, per labelled box, the index of its found box (-1 when missed), and per
    found box whether it matched a labelled one.

    >>> match_boxes([(0, 0, 10, 10), (50, 50, 10, 10)], [(1, 0, 10, 10), (100, 0, 5, 5)])
    ([0, -1], [True, False])
    """
    from .geometry import box_iou_matrix

    got = [-1] * len(boxes)
    used = [False] * len(found)
    if not len(found) or not len(boxes):
        return got, used
    m = box_iou_matrix(np.asarray(found, float), np.asarray(boxes, float))
    for k in np.argsort(-m, axis=None, kind="stable"):
        i, j = divmod(int(k), m.shape[1])
        if m[i, j] <= thr:
            break
        if not used[i] and got[j] < 0:
            used[i], got[j] = True, i
    return got, used


def score_detection(plates: list, boxes: Sequence, min_w: int = DETECT_MIN_W) -> dict:
    """Per-photo detection counts of ``plates`` against every labelled box of the photo.

    >>> from anpr.reader import Plate
    >>> s = score_detection([Plate("AB1", 0.9, (0, 0, 50, 20), [])], [(2, 0, 50, 20), (90, 90, 20, 8)])
    >>> s["boxes"], s["found"], s["boxes_wide"], s["found_wide"], s["false_plates"]
    (2, 1, 1, 1, 0)
    """
    got, used = match_boxes([p.box for p in plates], boxes)
    wide = [b[2] >= min_w for b in boxes]
    return {
        "boxes": len(boxes),
        "found": sum(g >= 0 for g in got),
        "boxes_wide": sum(wide),
        "found_wide": sum(g >= 0 and w for g, w in zip(got, wide)),
        "n_plates": len(plates),
        "false_plates": sum(not u for u in used),
        "missed": [list(b) for b, g in zip(boxes, got) if g < 0],
        "false": [list(p.box) for p, u in zip(plates, used) if not u],
    }


class ReadCounter:
    """Counts the candidates a reader reads (calls of its ``_read_candidate``) while it
    is open; the reader is left as it was by `close`."""

    def __init__(self, reader: Any):
        self.reads, self.reader = 0, reader
        inner = getattr(reader, "_read_candidate", None)
        if inner is None:
            return

        def counted(*a, **k):
            self.reads += 1
            return inner(*a, **k)

        reader._read_candidate = counted

    def close(self) -> None:
        self.reader.__dict__.pop("_read_candidate", None)


def curve_points(readings: list, boxes: Sequence) -> list[tuple[float, int, int]]:
    """Every reading a photo weighed (overlaps removed, no threshold applied) as
    ``(score, matches a plate >= DETECT_MIN_W px, matches any plate)``; the score is the
    verifier's plate probability, else the reading's confidence. Readings are matched
    to boxes best score first, as reporting at any threshold would match them.

    >>> from anpr.reader import Plate
    >>> curve_points([Plate("A1", 0.9, (0, 0, 50, 20), [], plate_p=0.8), Plate("B2", 0.9, (200, 0, 50, 20), [])],
    ...              [(2, 0, 50, 20)])
    [(0.9, 0, 0), (0.8, 1, 1)]
    """
    from .geometry import box_iou_matrix

    scored = sorted(((p.plate_p if p.plate_p is not None else p.confidence, p) for p in readings),
                    key=lambda sp: -sp[0])
    if not scored:
        return []
    if not len(boxes):
        return [(float(sc), 0, 0) for sc, _ in scored]
    iou = box_iou_matrix(np.array([p.box for _, p in scored], float), np.asarray(boxes, float))
    free = np.ones(len(boxes), bool)
    out = []
    for i, (sc, _) in enumerate(scored):
        cand = np.where(free & (iou[i] > DETECT_IOU), iou[i], -1.0)
        j = int(np.argmax(cand))
        if cand[j] < 0:
            out.append((float(sc), 0, 0))
            continue
        free[j] = False
        out.append((float(sc), int(boxes[j][2] >= DETECT_MIN_W), 1))
    return out


def pr_curve(rows: list[dict]) -> dict:
    """Precision-recall curve over `run_detection` rows (their ``curve`` points): the
    reported set grows as the score threshold falls; recall counts plates at least
    `DETECT_MIN_W` px wide, precision every reported plate. ``ap`` is the area under
    the curve with precision made non-increasing (VOC style).

    >>> c = pr_curve([{"boxes_wide": 2, "curve": [(0.9, 1, 1), (0.5, 0, 0), (0.3, 1, 1)]}])
    >>> c["recall"], [round(p, 2) for p in c["precision"]], round(c["ap"], 3)
    ([0.5, 0.5, 1.0], [1.0, 0.5, 0.67], 0.833)
    """
    pts = sorted((p for r in rows for p in r.get("curve", [])), key=lambda p: -p[0])
    wide = sum(r["boxes_wide"] for r in rows)
    if not pts or not wide:
        return {"recall": [], "precision": [], "score": [], "ap": 0.0}
    score = np.array([p[0] for p in pts])
    tp_wide = np.cumsum([p[1] for p in pts])
    tp_any = np.cumsum([p[2] for p in pts])
    recall = tp_wide / wide
    precision = tp_any / np.arange(1, len(pts) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * envelope))
    return {"recall": recall.tolist(), "precision": precision.tolist(), "score": score.tolist(), "ap": ap}


def draw_pr_curves(curves: Mapping[str, dict], size: int = 480) -> np.ndarray:
    """Precision (up) against recall (right) of each named curve, with its AP, as a
    BGR image ``size`` pixels square (OpenCV only: no plotting library needed)."""
    import cv2

    img = np.full((size, size, 3), 255, np.uint8)
    m0, m1 = 50, size - 20
    span = m1 - m0
    for k in range(11):
        v = m0 + span * k // 10
        cv2.line(img, (v, m0), (v, m1), (225, 225, 225), 1)
        cv2.line(img, (m0, v), (m1, v), (225, 225, 225), 1)
    cv2.rectangle(img, (m0, m0), (m1, m1), (0, 0, 0), 1)
    cv2.putText(img, "recall", (size // 2 - 25, size - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    cv2.putText(img, "precision", (2, m0 - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    colours = [(200, 80, 0), (0, 140, 0), (0, 0, 200), (160, 0, 160), (0, 140, 200), (90, 90, 90)]
    for i, (name, c) in enumerate(curves.items()):
        col = colours[i % len(colours)]
        if c["recall"]:
            pts = np.array([[m0 + r * span, m1 - p * span] for r, p in zip(c["recall"], c["precision"])], np.int32)
            cv2.polylines(img, [pts], False, col, 2)
        cv2.putText(img, f"{name}: AP {c['ap']:.3f}", (m0 + 8, m1 - 12 - 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    col, 1)
    return img


def summarize_detection(rows: list[dict]) -> dict:
    """Recall (plates >= `DETECT_MIN_W` px wide, and all), precision and false plates
    per photo over `score_detection` rows (plus ``ms``)."""
    n = len(rows)
    if n == 0:
        return {"n": 0}
    tot = {k: sum(r[k] for r in rows)
           for k in ("boxes", "found", "boxes_wide", "found_wide", "n_plates", "false_plates")}
    ms = np.array([r["ms"] for r in rows], float)
    return {
        "n": n,
        "boxes": tot["boxes"],
        "recall_wide": tot["found_wide"] / max(tot["boxes_wide"], 1),
        "recall": tot["found"] / max(tot["boxes"], 1),
        "precision": (tot["n_plates"] - tot["false_plates"]) / tot["n_plates"] if tot["n_plates"] else 1.0,
        "false_per_photo": tot["false_plates"] / n,
        "ms_median": float(np.median(ms)),
        "ms_p90": float(np.percentile(ms, 90)),
        "reads_per_photo": sum(r.get("reads", 0) for r in rows) / n,
        "ap": pr_curve(rows)["ap"],
    }


def run_detection(
    dirs: Sequence[str | Path],
    *,
    out_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    model: Any = None,
    reader: Any = None,
    part: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
) -> dict:
    """Read every photo of boxes-only folders (``labels.csv``: ``image,x,y,w,h``, one
    row per plate) and score where plates were reported; see `summarize_detection`.
    ``reader_options`` are more keyword arguments for the `PlateReader` made here.

    ``out_dir`` gets ``detections.csv`` (one row per photo), ``summary.json``,
    ``pr_curve.png`` (`pr_curve` of each folder: every reading weighed, ranked by its
    plate probability) and ``detections.png``: a montage of missed plates (red) and
    false plates (orange). Each folder's summary holds its average precision (``ap``)
    and the candidates read per photo (``reads_per_photo``).
    """
    from .images import load_image
    from .reader import PlateReader, final_readings

    folders = [Path(d) for d in dirs]
    rd = reader if reader is not None else PlateReader(model=model, **(reader_options or {}))
    photos: dict = {}
    for d in folders:
        for r in load_labels(d, False, part):
            photos.setdefault((d, r["image"]), []).append(label_box(r))
    rows = []
    counter = ReadCounter(rd)
    for k, ((d, image), boxes) in enumerate(photos.items(), 1):
        path = d / image
        t0 = time.perf_counter()
        error = ""
        reads_before = counter.reads
        try:
            # What read() reports, and every reading it weighed (for the curve).
            weighed = rd.readings(path)
            plates = rd.report(weighed)
        except ValueError as exc:
            plates, weighed, error = [], [], str(exc)
        s = score_detection(plates, boxes)
        s.update(set=d.name, image=image, path=str(path), ms=(time.perf_counter() - t0) * 1000, error=error,
                 texts=[p.text for p in plates], reads=counter.reads - reads_before,
                 curve=curve_points(final_readings(weighed, 0.0, 0.0, None), boxes))
        rows.append(s)
        if progress is not None:
            progress(k, len(photos))
    counter.close()
    names = list(dict.fromkeys(r["set"] for r in rows))
    summary = {"sets": {n: summarize_detection([r for r in rows if r["set"] == n]) for n in names},
               "total": summarize_detection(rows), "part": part}
    if out_dir is not None:
        import json

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "detections.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["set", "image", "boxes", "found", "boxes_wide", "found_wide", "n_plates", "false_plates",
                        "texts", "ms", "error"])
            for r in rows:
                w.writerow([r["set"], r["image"], r["boxes"], r["found"], r["boxes_wide"], r["found_wide"],
                            r["n_plates"], r["false_plates"], " ".join(r["texts"]), round(r["ms"], 1), r["error"]])
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        import cv2

        curves = {n: pr_curve([r for r in rows if r["set"] == n]) for n in names}
        cv2.imwrite(str(out / "pr_curve.png"), draw_pr_curves(curves))
        tiles = detection_montage(rows, load_image)
        if tiles is not None:
            cv2.imwrite(str(out / "detections.png"), tiles)
        summary["out_dir"] = str(out)
    return summary


def detection_montage(rows: list[dict], load_image, *, tile_h: int = 40, per_line: int = 8,
                      limit: int = 400) -> np.ndarray | None:
    """Missed plates (red border) and false plates (orange border, with the text
    read), as one image of tiles; None when there are none."""
    import cv2

    tiles = []
    for r in rows:
        if not r["missed"] and not r["false"]:
            continue
        try:
            img = load_image(r["path"])
        except ValueError:
            continue
        items = [(b, (0, 0, 220)) for b in r["missed"]] + [(b, (0, 140, 255)) for b in r["false"]]
        for b, colour in items:
            x, y, w, h = (int(v) for v in b)
            pad = max(2, h // 2)
            crop = img[max(0, y - pad): y + h + pad, max(0, x - pad): x + w + pad]
            if crop.size == 0:
                continue
            s = tile_h / crop.shape[0]
            t = cv2.resize(crop, (max(1, min(4 * tile_h, round(crop.shape[1] * s))), tile_h))
            t = cv2.copyMakeBorder(t, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=colour)
            tiles.append(t)
            if len(tiles) >= limit:
                break
        if len(tiles) >= limit:
            break
    if not tiles:
        return None
    w = 4 * tile_h + 6
    tiles = [cv2.copyMakeBorder(t, 0, 0, 0, w - t.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)) for t in tiles]
    while len(tiles) % per_line:
        tiles.append(np.full_like(tiles[0], 255))
    return np.vstack([np.hstack(tiles[i:i + per_line]) for i in range(0, len(tiles), per_line)])


def format_detection(summary: dict) -> str:
    """The detection summary as a plain-text table.

    >>> print(format_detection({"sets": {"oi": {"n": 2, "boxes": 3, "recall_wide": 0.5, "recall": 0.25,
    ...   "precision": 0.8, "false_per_photo": 0.5, "ap": 0.42, "reads_per_photo": 3.5, "ms_median": 20.0,
    ...   "ms_p90": 30.0}}}).splitlines()[2])
    oi           2     3       50.0%    25.0%     80.0%   0.50  0.420   3.50     20.0     30.0
    """
    head = (f"{'set':<8} {'n':>5} {'boxes':>5} {f'rec>={DETECT_MIN_W}px':>11} {'recall':>8} {'precision':>9} "
            f"{'fp/img':>6} {'AP':>6} {'reads':>6} {'ms med':>8} {'ms p90':>8}")
    lines = [head, "-" * len(head)]
    for name, v in summary["sets"].items():
        if not v.get("n"):
            lines.append(f"{name[:8]:<8} {0:>5}")
            continue
        lines.append(f"{name[:8]:<8} {v['n']:>5} {v['boxes']:>5} {v['recall_wide']:>11.1%} {v['recall']:>8.1%} "
                     f"{v['precision']:>9.1%} {v['false_per_photo']:>6.2f} {v.get('ap', 0.0):>6.3f} "
                     f"{v.get('reads_per_photo', 0.0):>6.2f} {v['ms_median']:>8.1f} {v['ms_p90']:>8.1f}")
    if summary.get("risk_coverage") and summary.get("reliability", {}).get("n"):
        lines += ["", "Readings kept by a confidence threshold (every reported reading; off the labelled",
                  "plate counts as wrong), and the labelled plates read exactly among them:",
                  format_risk_coverage(summary["risk_coverage"], summary["reliability"]["ece"])]
    if summary.get("out_dir"):
        lines.append(f"reports: {summary['out_dir']}")
    return "\n".join(lines)

"""Labelled character crops for training and evaluation, and the grouped test split.

Three kinds of data feed the CNN:

* class-per-folder trees: ``ROOT/<CLASS>/*.png``, ``ROOT/<source>/<CLASS>/*.png`` or the
  thesis layout ``ROOT/{train,test}/<CLASS>/*.png`` (any depth; a folder whose
  sub-folders are class names is one *source*);
* crops cut from labelled plate images (``labels.csv`` with ``image,plate``) by the same
  segmenter the reader uses, so the CNN trains on what it will be fed;
* synthetic glyphs (see `anpr.train.synth`).

Every crop carries a *group*: crops that share a group (the same plate text, the same
stretch of a training sheet) always land on the same side of the test split, so the test
accuracy is not inflated by near-duplicates.
"""

from __future__ import annotations

import csv
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..normalize import CLASSES

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}

SHEET_BLOCK = 25
"""Crops per group for sources whose files are only numbered (``gb-01184.png``).

The OpenALPR character sets carry no sheet or plate id; neighbouring numbers within a
class are usually cut from the same sheet or plate series, so blocks of consecutive
numbers are kept together on one side of the split."""

_INDEX = re.compile(r"^(?P<stem>.*?)[-_]?(?P<num>\d+)$")


@dataclass
class CharSet:
    """Labelled crops: parallel lists, one entry per crop.

    ``crops`` are raw images (gray or BGR, any size); ``labels`` are indices into
    `anpr.normalize.CLASSES`; ``sources`` name where each crop came from (``gb``,
    ``plates/br``, ``synthetic``...); ``groups`` hold the split group id; ``paths`` the
    file (or ``image#k`` for the k-th character of a plate).
    """

    crops: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    paths: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, crop: np.ndarray, label: int, source: str, group: str, path: str) -> None:
        self.crops.append(crop)
        self.labels.append(int(label))
        self.sources.append(source)
        self.groups.append(group)
        self.paths.append(path)

    def extend(self, other: CharSet) -> CharSet:
        for name in ("crops", "labels", "sources", "groups", "paths"):
            getattr(self, name).extend(getattr(other, name))
        return self

    def subset(self, mask: Sequence[bool] | np.ndarray) -> CharSet:
        idx = np.flatnonzero(np.asarray(mask, bool))
        return CharSet(
            crops=[self.crops[i] for i in idx],
            labels=[self.labels[i] for i in idx],
            sources=[self.sources[i] for i in idx],
            groups=[self.groups[i] for i in idx],
            paths=[self.paths[i] for i in idx],
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """``{source: {class: count}}``, classes in CLASSES order."""
        out: dict[str, dict[str, int]] = {}
        for src, lab in zip(self.sources, self.labels):
            d = out.setdefault(src, {})
            d[CLASSES[lab]] = d.get(CLASSES[lab], 0) + 1
        return {s: {c: out[s][c] for c in CLASSES if c in out[s]} for s in sorted(out)}


def _is_class_dir(p: Path) -> bool:
    return p.is_dir() and len(p.name) == 1 and p.name.upper() in CLASSES


def _read_gray(path: Path) -> np.ndarray | None:
    import cv2

    data = np.fromfile(str(path), np.uint8)
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def sheet_group(source: str, label: str, filename: str, block: int = SHEET_BLOCK) -> str:
    """Group id of one crop from a class-folder tree.

    Numbered files (``gb-01184.png``) are grouped in blocks of ``block`` consecutive
    numbers; other names by their stem without trailing digits.

    >>> sheet_group("gb", "A", "gb-01184.png")
    'gb:gb:47'
    >>> sheet_group("x", "A", "plate7_3.png", block=10)
    'x:plate7_3'
    """
    stem = Path(filename).stem
    m = _INDEX.match(stem)
    if m and m.group("stem") and "_" not in stem and len(m.group("num")) >= 3:
        return f"{source}:{m.group('stem')}:{int(m.group('num')) // block}"
    if m and m.group("stem"):
        return f"{source}:{stem}"
    return f"{source}:{label}:{stem}"


def find_sources(root: str | Path) -> list[tuple[str, Path]]:
    """Folders under ``root`` whose sub-folders are class names, as ``(source, path)``.

    The source name is the folder's path relative to ``root`` (or ``root``'s own name
    when it is itself the class-folder level).
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    found: list[tuple[str, Path]] = []

    def walk(d: Path, depth: int) -> None:
        subs = sorted(p for p in d.iterdir() if p.is_dir())
        if any(_is_class_dir(p) for p in subs):
            rel = d.relative_to(root).as_posix()
            found.append((root.name if rel == "." else rel, d))
            return
        if depth < 4:
            for p in subs:
                walk(p, depth + 1)

    walk(root, 0)
    return found


def load_class_folders(root: str | Path, *, prefix: str = "") -> CharSet:
    """Load every ``<CLASS>/<image>`` under ``root``.

    Parameters
    ----------
    root : path
        A class-folder tree (see the module docstring).
    prefix : str
        Prepended to each source name (e.g. ``"chars/"``).

    Returns
    -------
    CharSet
        Grayscale crops at native size. Unreadable files are skipped.

    Raises
    ------
    ValueError
        When no class folders are found.
    """
    out = CharSet()
    sources = find_sources(root)
    if not sources:
        raise ValueError(f"{root}: no class folders (0-9, A-Z) found")
    for source, d in sources:
        name = prefix + source
        for cdir in sorted(p for p in d.iterdir() if _is_class_dir(p)):
            label = cdir.name.upper()
            for f in sorted(cdir.iterdir()):
                if f.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                img = _read_gray(f)
                if img is None or img.size == 0:
                    continue
                out.add(img, CLASSES.index(label), name, sheet_group(name, label, f.name), str(f))
    return out


SCENE_MARGIN = 0.04
"""Share of a scene plate box's width and height added on each side when the plate is
cut out of its photo: the labelled boxes are tight, and the reader's rectified plates
keep a thin border that the segmenter expects."""


def read_plate_labels(folder: str | Path, part: str | None = None) -> list[tuple[Path, str]]:
    """``(image path, text)`` pairs from ``folder/labels.csv`` (``image,plate,...``), of
    the `anpr.split` ``part`` only when given."""
    return [(path, text) for path, text, _ in plate_rows(folder, part)]


def plate_rows(folder: str | Path,
               part: str | None = None) -> list[tuple[Path, str, tuple[int, int, int, int] | None]]:
    """``(image path, text, box)`` of every row of ``folder/labels.csv`` (of the `anpr.split`
    ``part`` only when given): ``box`` is the labelled ``(x, y, w, h)`` of a scene folder's
    plate, None for a plate-crop folder."""
    from ..split import part_of

    folder = Path(folder)
    csv_path = folder / "labels.csv"
    if not csv_path.exists():
        raise ValueError(f"{csv_path}: missing (expected columns image,plate)")
    rows = []
    with open(csv_path, newline="") as fh:
        reader = csv.DictReader(fh)
        if "image" not in (reader.fieldnames or []) or "plate" not in (reader.fieldnames or []):
            raise ValueError(f"{csv_path}: expected columns image,plate (and x,y,w,h for scenes)")
        scene = {"x", "y", "w", "h"} <= set(reader.fieldnames or [])
        for row in reader:
            text = "".join(ch for ch in row["plate"].upper() if ch.isalnum())
            if part is not None and (not text or part_of(text) != part):
                continue
            box = (int(round(float(row["x"]))), int(round(float(row["y"]))),
                   int(round(float(row["w"]))), int(round(float(row["h"])))) if scene else None
            rows.append((folder / row["image"], text, box))
    return rows


def labelled_plates(folder: str | Path, part: str | None = None) -> Iterator[tuple[Path, np.ndarray, str]]:
    """``(path, plate image, text)`` of every readable labelled plate in ``folder``.

    ``folder`` is a plate-crop folder (``labels.csv``: ``image,plate``) or a scene folder
    (``image,x,y,w,h,plate``), whose plates are cut out of the photos at their labelled
    boxes plus `SCENE_MARGIN`. ``part`` (``"fit"``/``"check"``) keeps only the plates of
    that `anpr.split` part (grouped by the plate text).
    """
    import cv2

    for path, text, box in plate_rows(folder, part):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        if box is not None:
            x, y, w, h = box
            mx, my = round(w * SCENE_MARGIN), round(h * SCENE_MARGIN)
            H, W = img.shape[:2]
            x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(W, x + w + mx), min(H, y + h + my)
            img = img[y0:y1, x0:x1]
        if img.shape[0] >= 8 and img.shape[1] >= 8:
            yield path, img, text


def segmented_plates(
    folder: str | Path, part: str | None = None, segment: Callable[[np.ndarray], list] | None = None
) -> Iterator[tuple[Path, np.ndarray, str, list | None]]:
    """``(path, plate image, text, boxes)`` of every readable labelled plate (see
    `labelled_plates`), labelled automatically: ``boxes`` are the segmenter's (default
    `anpr.segment.segment_plate`) when it finds exactly ``len(text)`` of them, the one
    case where box ``k`` can be trusted to hold character ``k``; else None."""
    if segment is None:
        from ..segment import segment_plate

        segment = segment_plate
    for path, img, text in labelled_plates(folder, part):
        boxes = None
        if text and all(ch in CLASSES for ch in text):
            try:
                boxes = segment(img)
            except Exception:  # noqa: BLE001 - a segmenter failure just drops the plate
                boxes = None
        yield path, img, text, (boxes if boxes is not None and len(boxes) == len(text) else None)


def plate_source(folder: str | Path) -> str:
    """``plates/us`` for ``.../plates/us`` and ``scenes/us`` for ``.../scenes/us``: the
    parent folder's name when it says which kind, else ``plates``."""
    folder = Path(folder)
    kind = folder.parent.name if folder.parent.name in ("plates", "scenes") else "plates"
    return f"{kind}/{folder.name}"


def plate_crops(
    folder: str | Path,
    segment: Callable[[np.ndarray], list] | None = None,
    cut: Callable[[np.ndarray, list], list] | None = None,
    *,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
    far_copies: int = 0,
) -> tuple[CharSet, dict[str, int]]:
    """Label real crops by segmenting labelled plate images (`segmented_plates`): a
    plate is kept only when the segmenter finds exactly ``len(text)`` boxes. All crops
    of a plate share one group.

    Parameters
    ----------
    folder : path
        A plate-crop or scene folder (see `labelled_plates`).
    segment, cut : callables
        Default to `anpr.segment.segment_plate` and `anpr.segment.cut_chars`.
    source : str
        Source name; defaults to `plate_source`.
    progress : callable
        Called with 1 after each plate.
    far_copies : int
        Also this many copies of each kept plate of the fit part as a far camera sees
        it (`far_copy`), cut at the same boxes scaled: training crops only (source
        ``<source>/far``; none for check-part plates, which are test data), drawn
        with a seed of the plate's file name: the same copies in every run.

    Returns
    -------
    (CharSet, dict)
        The crops and ``{"plates", "kept", "crops"}`` counts (and ``"far_crops"``).
    """
    if cut is None:
        from ..segment import cut_chars

        cut = cut_chars
    source = source or plate_source(folder)
    out = CharSet()
    stats = {"plates": len(read_plate_labels(folder)), "kept": 0, "crops": 0}
    if far_copies:
        stats["far_crops"] = 0
    for path, img, text, boxes in segmented_plates(folder, segment=segment):
        if progress:
            progress(1)
        if boxes is None:
            continue
        group = plate_group(source, text)
        stats["kept"] += 1
        views = [(img, boxes, source, "")]
        if far_copies and not is_test_group(group):
            rng = np.random.default_rng(zlib.crc32(Path(path).name.encode()))
            views += [(*far_copy(img, boxes, rng), f"{source}/far", f"~far{j}") for j in range(far_copies)]
        for view, view_boxes, view_source, tag in views:
            for k, (ch, crop) in enumerate(zip(text, cut(view, view_boxes))):
                if crop is None or np.asarray(crop).size == 0:
                    continue
                out.add(np.asarray(crop), CLASSES.index(ch), view_source, group, f"{path}{tag}#{k}")
                stats["far_crops" if tag else "crops"] += 1
    return out, stats


FAR_HEIGHT = (20.0, 60.0)
"""Plate heights in pixels of `far_copy`: the labelled US scene plates are 25-70 px tall
(median 44) where the US plate crops are about 160, so the character model sees far
plates' glyphs only in the scene crops unless the near ones are made far."""


def far_copy(plate: np.ndarray, boxes: Sequence, rng: np.random.Generator,
             height: tuple[float, float] = FAR_HEIGHT) -> tuple[np.ndarray, list]:
    """A labelled plate as a far camera sees it, with its glyph boxes.

    The plate is shrunk to a random height within ``height`` (never enlarged), then
    blurred, noised and JPEG-compressed at random; the boxes are scaled with it, so
    they still hold the same glyphs.

    >>> import numpy as np
    >>> img = np.full((160, 320), 200, np.uint8)
    >>> small, b = far_copy(img, [(20, 40, 30, 80)], np.random.default_rng(0))
    >>> 20 <= small.shape[0] <= 60, len(b), b[0][3] < 80
    (True, 1, True)
    """
    import cv2

    a = np.asarray(plate)
    h, w = a.shape[:2]
    s = min(1.0, rng.uniform(*height) / h)
    size = (max(8, round(w * s)), max(4, round(h * s)))
    small = cv2.resize(a, size, interpolation=cv2.INTER_AREA) if s < 1.0 else a.copy()
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.9))
    if rng.random() < 0.5:
        noisy = small.astype(np.float32) + rng.normal(0.0, rng.uniform(1.0, 6.0), small.shape)
        small = np.clip(noisy, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 80))])
        if ok:
            small = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    sx, sy = small.shape[1] / w, small.shape[0] / h
    scaled = [(int(round(x * sx)), int(round(y * sy)), max(1, int(round(bw * sx))), max(1, int(round(bh * sy))))
              for x, y, bw, bh in boxes]
    return small, scaled


PLATE_GROUP = "plate:"


def plate_group(source: str, text: str) -> str:
    """The group of every crop of a plate: its text, so views of one plate stay together
    and the test split is the plate's `anpr.split` part.

    >>> plate_group("plates/us", "7abc123")
    'plate:plates/us:7ABC123'
    """
    return f"{PLATE_GROUP}{source}:{text.strip().upper()}"


def is_test_group(group: str, test_fraction: float = 0.15, salt: str = "anpr-v1") -> bool:
    """Whether ``group`` belongs to the held-out test split.

    Decided by a hash of the group id alone, so the split is fixed before any training,
    is the same on every machine and run, and never depends on which other data is
    loaded.

    >>> is_test_group("gb:gb:3") == is_test_group("gb:gb:3")
    True
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if group.startswith(PLATE_GROUP):
        # Crops of labelled plates: test exactly when the plate is in the check part
        # that `anpr benchmark --part check` scores, so no check plate is trained on.
        from ..split import part_of

        return part_of(group.rsplit(":", 1)[1]) == "check"
    h = zlib.crc32(f"{salt}/{group}".encode()) % 10000
    return h < round(test_fraction * 10000)


def grouped_split(data: CharSet, test_fraction: float = 0.15) -> tuple[CharSet, CharSet]:
    """Split into ``(rest, test)`` by group (see `is_test_group`)."""
    mask = np.array([is_test_group(g, test_fraction) for g in data.groups], bool)
    return data.subset(~mask), data.subset(mask)


def train_val_split(
    groups: Sequence[str], val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of an 80/20 (by default) train/validation split, grouped, seeded."""
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    n_val = int(round(val_fraction * len(uniq)))
    val_groups = {uniq[i] for i in order[:n_val]}
    is_val = np.array([g in val_groups for g in groups], bool)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def to_arrays(data: CharSet) -> tuple[np.ndarray, np.ndarray]:
    """``(X (N,28,28,1) float32, y (N,) int64)`` through the shared normalization."""
    from ..normalize import normalize_batch

    return normalize_batch(data.crops), np.asarray(data.labels, np.int64)


def describe(data: CharSet) -> str:
    """Counts per source and class, as text."""
    lines = []
    for src, counts in data.counts().items():
        total = sum(counts.values())
        lo = min(counts, key=lambda c: counts[c])
        lines.append(
            f"{src}: {total} crops, {len(counts)} classes (fewest: {lo}={counts[lo]})"
        )
    return "\n".join(lines)


def load_many(roots: Iterable[str | Path]) -> CharSet:
    """`load_class_folders` over several roots, concatenated."""
    out = CharSet()
    for r in roots:
        out.extend(load_class_folders(r))
    return out

"""Read every photo in a folder into a results file that survives being killed.

``anpr batch`` is built from the pieces here:

- `anpr.records.read_record` turns one image into the record both ``anpr read-plate --json`` and
  ``anpr batch`` write (``{"image", "width", "height", "plates", "time_ms", "error"}``);
  a bad image gives a record with ``error`` set, never an exception;
- `find_images` walks a folder in a fixed (sorted) order;
- `ordered_map` spreads the work over processes, each loading the model once, and
  yields results in input order; a worker that dies (a segfault in a decoder) costs
  only the image that killed it;
- `run_batch` appends one JSON line per image and flushes it at once, so a killed run
  keeps everything finished; ``resume=True`` repairs a torn last line and skips the
  images already done.

Output files
------------
JSON Lines (any name not ending in ``.csv``): one record per line, appended and
flushed per image. The file *is* the journal, so ``--resume`` reads it back.

CSV (a name ending in ``.csv``): a CSV cannot be appended safely (a torn row looks like
a valid one), so records go to a JSON Lines journal beside it,
``<output>.partial.jsonl``, exactly as above; when the run completes, the CSV is
rendered from the journal into a temporary file, renamed over ``<output>`` and the
journal is deleted. ``--resume`` continues from the journal, or from a finished CSV
(whose rows hold every field). Columns: ``image, width, height, text, confidence,
box, plates_json, time_ms, error`` where ``text``, ``confidence`` and ``box`` (JSON
``[x, y, w, h]``) describe the best plate (empty when none) and ``plates_json`` is
the full JSON list of plates; ``error`` is empty for a readable image.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OutputExistsError  # defined in errors.py, still importable from here
from .images import DEFAULT_MAX_PIXELS, QUIET_ENV, is_image_name
from .records import crash_record, json_default, make_record, read_record, record_json

CSV_COLUMNS = ("image", "width", "height", "text", "confidence", "box", "plates_json", "time_ms", "error")
"""Columns of a CSV results file, in order."""

JOURNAL_SUFFIX = ".partial.jsonl"
"""Appended to a CSV output's name to name its JSON Lines journal."""

# --------------------------------------------------------------------------- folders


def find_images(folder: str | os.PathLike[str]) -> tuple[list[str], int]:
    """Image files under ``folder`` (recursively, sorted) and the number skipped.

    Files are chosen by extension (`anpr.images.IMAGE_EXTENSIONS`, any case); every
    other file is counted as skipped. Symbolic links to directories are not followed
    (no loops). The list is sorted by path string, so the order is the same on every
    run and machine. Paths are ``os.path.join(folder, ...)`` with ``folder`` as given.

    Raises
    ------
    NotADirectoryError, FileNotFoundError
        When ``folder`` is not a directory.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        if os.path.exists(root):
            raise NotADirectoryError(f"{root}: not a directory")
        raise FileNotFoundError(f"{root}: no such directory")
    images: list[str] = []
    skipped = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fname in sorted(filenames):
            if is_image_name(fname):
                images.append(os.path.join(dirpath, fname))
            else:
                skipped += 1
    images.sort()  # one global order, the same however the walk visited the tree
    return images, skipped


# --------------------------------------------------------------------------- processes


_WORKER: dict[str, Any] = {}


def worker_init(fn_factory: Callable[..., Callable], args: tuple, parent_pid: int) -> None:
    """Pool initializer: build this worker's function with ``fn_factory(*args)``
    (`worker_chunk` then applies it); the worker exits when ``parent_pid`` does."""
    # The factory runs once per process (it loads the model); an error is kept and
    # raised by the first task, so it reaches the parent as itself rather than as a
    # "broken pool".
    _watch_parent(parent_pid)
    # Ctrl-C is the parent's to handle (it stops the run and says how to resume);
    # workers reacting too would print a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import cv2

        cv2.setNumThreads(1)  # the pool is the parallelism; threads would oversubscribe
        if os.environ.get(QUIET_ENV) == "1":
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except Exception:  # pragma: no cover - cv2 missing is reported by the reader
        pass
    try:
        _WORKER["fn"] = fn_factory(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, see above
        _WORKER["error"] = exc


def worker_chunk(items: list) -> list:
    """Pool task: the worker's function (`worker_init`) applied to each item."""
    if "error" in _WORKER:
        raise _WORKER["error"]
    fn = _WORKER["fn"]
    return [fn(item) for item in items]


def _watch_parent(parent_pid: int) -> None:
    # A pool worker outlives a parent killed with SIGKILL; make it exit instead of
    # finishing its queue into a pipe nobody reads.
    start_ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != start_ppid:
                os._exit(1)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass

    threading.Thread(target=watch, name="anpr-parent-watch", daemon=True).start()


def mp_context():
    """The multiprocessing context of reader pools (forkserver where there is one, else spawn)."""
    import multiprocessing as mp

    # forkserver/spawn start workers from a clean interpreter: forking a parent that
    # already runs onnxruntime or OpenCV threads can deadlock.
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def ordered_map(
    fn_factory: Callable[..., Callable[[Any], Any]],
    args: tuple,
    items: Sequence[Any],
    *,
    workers: int,
    chunksize: int | None = None,
    on_crash: Callable[[Any], Any],
    window: int | None = None,
) -> Iterator[Any]:
    """Apply ``fn_factory(*args)`` to every item in worker processes, in input order.

    Parameters
    ----------
    fn_factory : callable
        Picklable (module-level) callable run once per worker process; returns the
        function applied to each item (so the model loads once per worker).
    args : tuple
        Picklable arguments of ``fn_factory``.
    items : sequence
        Picklable work items.
    workers : int
        Number of processes (at least 1).
    chunksize : int, optional
        Items per task; default a few, fewer when there is little work.
    on_crash : callable
        ``on_crash(item)`` gives the result for an item whose worker process died
        while handling it. After a crash the items that were in flight are retried
        one at a time in a fresh single process, so only the culprit gets it.
    window : int, optional
        Tasks in flight at once (default ``4 * workers``): memory stays flat however
        many items there are.

    Yields
    ------
    Any
        ``fn(item)`` for each item, in the order of ``items``.

    Raises
    ------
    Exception
        Whatever ``fn_factory`` or ``fn`` raised (it stops the map).
    """
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    n = len(items)
    if chunksize is None:
        chunksize = max(1, min(4, n // (workers * 4)))
    window = window or 4 * workers
    chunks = deque(list(items[i : i + chunksize]) for i in range(0, n, chunksize))
    ctx = mp_context()

    def new_pool(size: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(size, mp_context=ctx, initializer=worker_init,
                                   initargs=(fn_factory, args, os.getpid()))

    pool: ProcessPoolExecutor | None = None
    pending: deque = deque()
    try:
        while chunks or pending:
            if pool is None:
                pool = new_pool(min(workers, max(1, len(chunks))))
            while chunks and len(pending) < window:
                chunk = chunks.popleft()
                pending.append((chunk, pool.submit(worker_chunk, chunk)))
            chunk, future = pending.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                suspects = list(chunk) + [item for c, _ in pending for item in c]
                pending.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                yield from _isolate(new_pool, suspects, on_crash)
                continue
            yield from results
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _isolate(new_pool: Callable, items: list, on_crash: Callable) -> Iterator[Any]:
    # One process, one item at a time: a crash now names its culprit exactly.
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    try:
        for item in items:
            if pool is None:
                pool = new_pool(1)
            try:
                yield from pool.submit(worker_chunk, [item]).result()
            except BrokenProcessPool:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                yield on_crash(item)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def record_reader(reader_kwargs: dict | None, crop: bool, max_pixels: int) -> Callable[[str], dict]:
    """A function path -> record with its own `PlateReader` (for worker processes)."""
    from .reader import PlateReader

    reader = PlateReader(**(reader_kwargs or {}))

    def read(path: str) -> dict:
        return read_record(reader, path, path, crop=crop, max_pixels=max_pixels)

    return read


def read_records(
    paths: Sequence[str],
    *,
    workers: int = 1,
    reader_kwargs: dict | None = None,
    crop: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    scheduler: str | None = None,
    reader: Any = None,
    send_bytes: bool = False,
) -> Iterator[dict]:
    """Records for ``paths`` in input order, read in this process, a pool, or on Dask.

    Parameters
    ----------
    paths : sequence of str
        Image paths; each record's ``"image"`` is the path as given.
    workers : int
        1 reads in this process (with ``reader`` when given); more starts a process
        pool where each worker loads the model once.
    reader_kwargs : dict, optional
        ``PlateReader`` keyword arguments (``model``, ``region``).
    crop, max_pixels
        See `read_record`.
    scheduler : str, optional
        A Dask scheduler address: read on that cluster with
        ``anpr.distributed.map_read`` instead (``workers`` is then ignored).
    reader : PlateReader, optional
        Reader to use when ``workers == 1``.
    send_bytes : bool
        With ``scheduler``: send each file's bytes from here instead of its path, for
        cluster nodes that do not see this filesystem.
    """
    paths = list(paths)
    if send_bytes and not scheduler:
        raise ValueError("send_bytes only applies with a Dask scheduler")
    if scheduler is not None and scheduler != "":
        from .distributed import map_read

        if max_pixels != DEFAULT_MAX_PIXELS:
            raise ValueError("a custom pixel limit is not supported with a Dask scheduler")
        yield from map_read(paths, scheduler=scheduler, reader_kwargs=dict(reader_kwargs or {}), crop=crop,
                            send_bytes=send_bytes)
        return
    if workers <= 1 or len(paths) <= 1:
        if reader is None:
            from .reader import PlateReader

            reader = PlateReader(**(reader_kwargs or {}))
        for path in paths:
            yield read_record(reader, path, path, crop=crop, max_pixels=max_pixels)
        return
    yield from ordered_map(
        record_reader,
        (dict(reader_kwargs or {}), crop, max_pixels),
        paths,
        workers=min(workers, len(paths)),
        on_crash=crash_record,
    )


# --------------------------------------------------------------------------- journal


def load_jsonl(path: str | os.PathLike[str]) -> tuple[list[dict], bool]:
    """Records of a JSON Lines results file, and whether the file was clean.

    A torn last line (a run killed mid-write), a line that is not a record, and a
    second record for an image already seen are dropped and make the file unclean.
    """
    data = Path(path).read_bytes()
    records: list[dict] = []
    seen: set[str] = set()
    clean = True
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        clean = False  # no final newline: the last write was cut short
        lines.pop()
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            clean = False
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("image"), str):
            clean = False
            continue
        key = _key(rec["image"])
        if key in seen:
            clean = False
            continue
        seen.add(key)
        records.append(rec)
    return records, clean


def _key(image: str) -> str:
    return os.path.normpath(image)


def write_jsonl_atomic(path: str | os.PathLike[str], records: Iterable[dict]) -> None:
    """Write ``records`` as JSON Lines through a temporary file renamed over ``path``."""
    _write_atomic(path, lambda fh: fh.writelines(record_json(r) + "\n" for r in records))


def _write_atomic(path: str | os.PathLike[str], write: Callable[[io.TextIOBase], Any],
                  newline: str | None = None) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class JsonlWriter:
    """Append records to a JSON Lines file, one ``write`` + flush per record."""

    def __init__(self, path: str | os.PathLike[str]):
        # unbuffered binary: each record reaches the kernel in one write() call, so a
        # SIGKILL leaves whole lines (and at worst a torn last one `load_jsonl` drops)
        self._fh = open(path, "ab", buffering=0)

    def write(self, record: dict) -> None:
        data = (record_json(record) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[self._fh.write(view) :]

    def close(self) -> None:
        if not self._fh.closed:
            try:
                os.fsync(self._fh.fileno())
            except OSError:  # pragma: no cover - e.g. a pipe
                pass
            self._fh.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------- CSV


def csv_row(record: dict) -> list[str]:
    """One CSV row (see `CSV_COLUMNS`) for a record."""
    plates = record.get("plates") or []
    best = plates[0] if plates else {}
    return [
        record["image"],
        "" if record.get("width") is None else str(record["width"]),
        "" if record.get("height") is None else str(record["height"]),
        best.get("text", ""),
        "" if "confidence" not in best else f"{best['confidence']:.4f}",
        "" if "box" not in best else json.dumps(best["box"]),
        json.dumps(plates, ensure_ascii=False, default=json_default),
        f"{record.get('time_ms') or 0.0:.1f}",
        record.get("error") or "",
    ]


def record_from_csv_row(row: dict[str, str]) -> dict:
    """The record a `csv_row` was made from (inverse of `csv_row`)."""
    return make_record(
        row["image"],
        int(row["width"]) if row.get("width") else None,
        int(row["height"]) if row.get("height") else None,
        json.loads(row["plates_json"]) if row.get("plates_json") else [],
        time_ms=float(row["time_ms"]) if row.get("time_ms") else 0.0,
        error=row.get("error") or None,
    )


def write_csv(path: str | os.PathLike[str], records: Iterable[dict]) -> None:
    """Write records as CSV through a temporary file renamed over ``path``."""

    def write(fh: io.TextIOBase) -> None:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for r in records:
            w.writerow(csv_row(r))

    _write_atomic(path, write, newline="")


def read_csv(path: str | os.PathLike[str]) -> list[dict]:
    """Records of a CSV results file written by `write_csv`."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [record_from_csv_row(row) for row in csv.DictReader(fh)]


# --------------------------------------------------------------------------- batch


@dataclass
class BatchSummary:
    """What a batch did; ``failed`` lists the images (this run and earlier) with errors."""

    output: str
    total: int = 0
    with_plate: int = 0
    no_plate: int = 0
    failed: list[str] = field(default_factory=list)
    skipped_files: int = 0
    already_done: int = 0
    seconds: float = 0.0
    earlier_failed: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Images read this run (with or without a plate)."""
        return self.with_plate + self.no_plate

    @property
    def ok(self) -> bool:
        return not self.failed and not self.earlier_failed

    def add(self, record: dict) -> None:
        if record.get("error"):
            self.failed.append(record["image"])
        elif record.get("plates"):
            self.with_plate += 1
        else:
            self.no_plate += 1

    def format(self, max_names: int = 10) -> str:
        """A short human summary (a few lines)."""
        lines = [
            f"read {self.read} image(s): {self.with_plate} with a plate, {self.no_plate} without",
        ]
        if self.failed:
            names = ", ".join(self.failed[:max_names]) + (" ..." if len(self.failed) > max_names else "")
            lines.append(f"failed {len(self.failed)}: {names}")
        else:
            lines.append("failed 0")
        if self.already_done:
            extra = f" ({len(self.earlier_failed)} of them failed earlier)" if self.earlier_failed else ""
            lines.append(f"resumed: {self.already_done} image(s) already in the output{extra}")
        lines.append(f"skipped {self.skipped_files} non-image file(s)")
        lines.append(f"time {self.seconds:.1f} s -> {self.output}")
        return "\n".join(lines)


def journal_path(output: str | os.PathLike[str]) -> Path:
    """Where the JSON Lines journal of ``output`` lives (itself unless CSV)."""
    out = Path(output)
    return out.with_name(out.name + JOURNAL_SUFFIX) if is_csv(out) else out


def is_csv(output: str | os.PathLike[str]) -> bool:
    return os.fspath(output).lower().endswith(".csv")


def prepare_output(output: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False) -> list[dict]:
    """Make ``output`` ready to append to; return the records already in it.

    Raises
    ------
    OutputExistsError
        When a results file (or a CSV's journal) exists and neither ``resume`` nor
        ``overwrite`` is set.
    ValueError
        When both are set.
    """
    if resume and overwrite:
        raise ValueError("--resume and --overwrite cannot be used together")
    out = Path(output)
    journal = journal_path(out)
    existing = [p for p in (out, journal) if p.exists()]
    if existing and not (resume or overwrite):
        raise OutputExistsError(
            f"{existing[0]}: already exists; use --resume to continue it or --overwrite to start again"
        )
    if out.is_dir():
        raise OutputExistsError(f"{out}: is a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    if overwrite:
        if journal.exists():
            journal.unlink()
        if not is_csv(out) and out.exists():
            out.unlink()
        return []
    if not resume:
        return []
    if journal.exists():
        records, clean = load_jsonl(journal)
        if not clean:  # drop the torn line so appended records start on their own
            write_jsonl_atomic(journal, records)
        return records
    if is_csv(out) and out.exists():
        records = read_csv(out)
        write_jsonl_atomic(journal, records)
        return records
    return []


def run_batch(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    reader_kwargs: dict | None = None,
    crop: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    on_start: Callable[[int], Any] | None = None,
    on_record: Callable[[dict], Any] | None = None,
    send_bytes: bool = False,
) -> BatchSummary:
    """Read every image under ``folder`` into ``output`` (see the module docstring).

    Parameters
    ----------
    folder : path
        Walked recursively (`find_images`).
    output : path
        ``*.csv`` for CSV, anything else for JSON Lines.
    workers : int
        Processes to read with (1: this process).
    scheduler : str, optional
        Dask scheduler address (see `read_records`).
    send_bytes : bool
        With ``scheduler``: send file bytes instead of paths (see `read_records`).
    resume, overwrite : bool
        Continue an existing output / replace it; with neither, an existing output
        is refused with `OutputExistsError`.
    reader_kwargs, crop, max_pixels
        See `read_records`.
    on_start : callable, optional
        Called with the number of images left to read, before reading.
    on_record : callable, optional
        Called with each record after it is written.

    Returns
    -------
    BatchSummary

    Raises
    ------
    OutputExistsError, NotADirectoryError, FileNotFoundError, ModelError
    """
    t0 = time.perf_counter()
    images, skipped = find_images(folder)
    with contextlib.ExitStack() as stack:
        if scheduler and isinstance(scheduler, str):
            from .distributed import connect

            # Before the output is touched: an unreachable cluster leaves no empty file.
            client = connect(scheduler)
            stack.callback(client.close)
            scheduler = client
        done = prepare_output(output, resume=resume, overwrite=overwrite)
        summary = BatchSummary(output=os.fspath(output), skipped_files=skipped)
        done_keys = {_key(r["image"]) for r in done}
        summary.already_done = sum(1 for p in images if _key(p) in done_keys)
        summary.earlier_failed = [r["image"] for r in done if r.get("error")]
        todo = [p for p in images if _key(p) not in done_keys]
        summary.total = len(images)

        reader = None
        if todo and not scheduler:
            # Load the model here first even for a pool: a bad model is one clear error
            # before any work starts, not one per worker.
            from .reader import PlateReader

            reader = PlateReader(**(reader_kwargs or {}))
        if on_start:
            on_start(len(todo))
        journal = journal_path(output)
        with JsonlWriter(journal) as writer:
            for record in read_records(
                todo,
                workers=workers,
                reader_kwargs=reader_kwargs,
                crop=crop,
                max_pixels=max_pixels,
                scheduler=scheduler,
                reader=reader,
                send_bytes=send_bytes,
            ):
                writer.write(record)
                summary.add(record)
                if on_record:
                    on_record(record)
        if is_csv(output):
            records, _ = load_jsonl(journal)
            write_csv(output, records)
            journal.unlink()
        summary.seconds = time.perf_counter() - t0
        return summary


__all__ = [
    "CSV_COLUMNS",
    "BatchSummary",
    "JsonlWriter",
    "OutputExistsError",
    "crash_record",
    "find_images",
    "load_jsonl",
    "make_record",
    "ordered_map",
    "prepare_output",
    "read_csv",
    "read_record",
    "read_records",
    "record_json",
    "run_batch",
    "write_csv",
    "write_jsonl_atomic",
]

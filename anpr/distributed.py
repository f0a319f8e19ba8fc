"""Read plates on a Dask distributed cluster when one machine is not enough.

Each photo is one task. A worker process builds its `PlateReader` once, on its first
task, and keeps it for every later one (`_reader`), so the model loads once per worker,
not once per photo. Results come back in input order while the rest are still running,
so a caller can stream them into an output file. Dask is an extra::

    pip install 'anpr[dask]'

On a multi-node cluster start ``dask scheduler`` on one host and ``dask worker
tcp://HOST:8786 --nworkers N --nthreads 1`` on each node (anpr installed on every
node), then pass ``scheduler="tcp://HOST:8786"``. When the nodes do not share the
filesystem the photos live on, pass ``send_bytes=True``: the client reads each file
and ships its bytes with the task.

>>> records = map_read(["car.jpg"], scheduler="tcp://10.0.0.1:8786",
...                    reader_kwargs={})              # doctest: +SKIP
>>> [p["text"] for p in next(records)["plates"]]      # doctest: +SKIP
['7ABC123']
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import SchedulerError, require  # SchedulerError still importable from here

DEFAULT_WINDOW = 256
"""Tasks kept in flight at once: enough to keep a cluster busy, while an archive of
millions of photos never sits in the scheduler (or, with bytes, in memory) at once."""

# Worker-side cache: reader_kwargs (as canonical JSON) -> PlateReader. A module global
# lives as long as the worker process, which is exactly the reader's intended lifetime.
_READERS: dict[str, Any] = {}
_READERS_LOCK = threading.Lock()


def _key(reader_kwargs: dict | None) -> str:
    return json.dumps(reader_kwargs or {}, sort_keys=True, default=str)


def _reader(key: str) -> Any:
    """The process's `PlateReader` for these (JSON-encoded) keyword arguments."""
    reader = _READERS.get(key)
    if reader is None:
        # A worker with several threads may start many tasks at once; one load is enough.
        with _READERS_LOCK:
            reader = _READERS.get(key)
            if reader is None:
                import cv2

                from .reader import PlateReader

                # Dask's worker processes are the parallelism (one single-threaded
                # worker per core, as the local pool does); OpenCV's own thread pool
                # on top would only oversubscribe the cores.
                cv2.setNumThreads(1)

                reader = PlateReader(**json.loads(key))
                _READERS[key] = reader
    return reader


def read_task(source: Any, name: str, key: str, crop: bool = False, max_pixels: int | None = None) -> dict:
    """Read one photo on a worker: the task `map_read` submits.

    Parameters
    ----------
    source : str or bytes
        A path the worker can open, or the file's bytes.
    name : str
        How the photo is named in the record and in error messages.
    key : str
        ``PlateReader`` keyword arguments as canonical JSON (see `_key`).
    crop : bool
        The photo is already a tight plate crop.
    max_pixels : int, optional
        Refuse bigger images (default: `anpr.images.DEFAULT_MAX_PIXELS`).
    """
    from .records import read_record

    if max_pixels is None:
        return read_record(_reader(key), source, name, crop=crop)
    return read_record(_reader(key), source, name, crop=crop, max_pixels=max_pixels)


def map_read(
    paths: Sequence[str],
    *,
    scheduler: Any,
    reader_kwargs: dict | None = None,
    crop: bool = False,
    send_bytes: bool = False,
    window: int = DEFAULT_WINDOW,
    max_pixels: int | None = None,
) -> Iterator[dict]:
    """Read plates from ``paths`` on a Dask cluster, yielding records in input order.

    Parameters
    ----------
    paths : sequence of str
        Photos to read.
    scheduler : str or distributed.Client
        Scheduler address (``"tcp://host:8786"``), or a connected client to reuse.
    reader_kwargs : dict, optional
        Keyword arguments for ``PlateReader`` on the workers (JSON-serialisable).
    crop : bool
        Each photo is a tight plate crop (``PlateReader.read_crop``).
    send_bytes : bool
        Ship each file's bytes with its task, for workers that cannot see the
        client's filesystem. Otherwise workers open the paths themselves.
    window : int
        Most tasks in flight at once.
    max_pixels : int, optional
        Refuse bigger images (default: `anpr.images.DEFAULT_MAX_PIXELS`).

    Yields
    ------
    dict
        ``{"image", "width", "height", "plates", "time_ms", "error"}``, the same
        record a local ``anpr batch`` writes (`anpr.records.read_record`), one per
        path, in the order of ``paths``; an unreadable photo gives a record with
        ``error`` set.

    Raises
    ------
    MissingExtraError
        When dask.distributed is not installed (raised by this call).
    SchedulerError
        When the scheduler cannot be reached (raised on the first record).
    ValueError
        For a bad ``window`` or ``scheduler``.
    ModelError
        When the workers cannot load the model (raised on the first record).
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    if not isinstance(scheduler, str):
        if not hasattr(scheduler, "submit"):
            raise ValueError(
                f"scheduler must be an address like 'tcp://host:8786' or a "
                f"distributed.Client, got {type(scheduler).__name__}"
            )
    elif not scheduler.strip():
        raise ValueError("scheduler address is empty")
    key = _key(reader_kwargs)  # fails here, not on the workers, when not JSON-able
    dd = require("dask.distributed", "dask")
    paths = [str(p) for p in paths]
    return _stream(dd, paths, scheduler, key, crop, send_bytes, window, max_pixels)


def connect(address: str) -> Any:
    """A ``distributed.Client`` for ``address``; `SchedulerError` when unreachable.

    `anpr.batch.run_batch` connects with this before it opens its output, so that an
    unreachable cluster leaves no file behind.
    """
    dd = require("dask.distributed", "dask")
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"scheduler address must be a non-empty string like 'tcp://host:8786', got {address!r}")
    return _connect(dd, address)


def _connect(dd: Any, address: str) -> Any:
    try:
        return dd.Client(address)
    except (OSError, TimeoutError, ValueError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise SchedulerError(f"{address}: cannot reach the Dask scheduler ({detail})") from None


def _stream(
    dd: Any,
    paths: list[str],
    scheduler: Any,
    key: str,
    crop: bool,
    send_bytes: bool,
    window: int,
    max_pixels: int | None,
) -> Iterator[dict]:
    from .records import crash_record

    own = isinstance(scheduler, str)
    client = _connect(dd, scheduler) if own else scheduler
    pending: deque = deque()
    try:
        todo = iter(paths)

        def submit_next() -> bool:
            path = next(todo, None)
            if path is None:
                return False
            # Workers resolve paths against their own working directory, so send an
            # absolute one; the record still names the photo as the caller did.
            source: Any = os.path.abspath(path)
            if send_bytes:
                try:
                    source = Path(path).read_bytes()
                except OSError:
                    pass  # the worker's image loader reports it in the usual words
            future = client.submit(read_task, source, path, key, crop, max_pixels, pure=False)
            pending.append((path, future))
            return True

        while len(pending) < window and submit_next():
            pass
        while pending:
            path, future = pending.popleft()
            try:
                record = future.result()
            except dd.KilledWorker:
                # The photo took down every worker that tried it (a decoder crash):
                # it alone fails, as with the local process pool.
                record = crash_record(path)
            future.release()
            submit_next()
            yield record
    finally:
        for _, f in pending:
            f.cancel()
        if own:
            client.close()

"""Reading on a Dask cluster gives the same records as reading locally.

A real LocalCluster of two worker processes reads a handful of real photos; every
record must match the local one except for its timing.
"""

from __future__ import annotations

import pytest

pytest.importorskip("dask.distributed")

from anpr.distributed import _key, map_read  # noqa: E402

N_PHOTOS = 6


def _comparable(record: dict) -> dict:
    r = dict(record)
    r.pop("time_ms")
    return r


@pytest.fixture(scope="module")
def cluster():
    import dask
    from dask.distributed import LocalCluster

    # One retry is enough for test_worker_crash_fails_only_that_photo to be quick.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=50,
        ) as c:
            yield c


@pytest.fixture(scope="module")
def photos(data_dir):
    from anpr.speed import find_photos

    return [str(p) for p in find_photos([data_dir / "scenes" / "eu"], limit=N_PHOTOS)]


@pytest.fixture(scope="module")
def local(photos):
    from anpr.batch import read_records

    return [_comparable(r) for r in read_records(photos, workers=1)]


@pytest.mark.slow
@pytest.mark.parametrize("send_bytes", [False, True])
def test_cluster_matches_local(cluster, photos, local, send_bytes):
    records = list(
        map_read(
            photos,
            scheduler=cluster.scheduler_address,
            reader_kwargs={},
            send_bytes=send_bytes,
            window=3,  # smaller than the job, so the sliding window is exercised
        )
    )
    assert [r["image"] for r in records] == photos
    assert [_comparable(r) for r in records] == local
    assert all(r["time_ms"] >= 0 for r in records)
    assert any(r["plates"] for r in records), "no plate read at all: nothing was compared"


@pytest.mark.slow
def test_cluster_reports_bad_files(cluster, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    missing = str(tmp_path / "missing.jpg")
    records = list(
        map_read([str(bad), missing], scheduler=cluster.scheduler_address, reader_kwargs={})
    )
    assert [r["image"] for r in records] == [str(bad), missing]
    assert all(r["error"] and r["plates"] == [] for r in records)
    assert str(bad) in records[0]["error"]


def test_map_read_validates_arguments():
    with pytest.raises(ValueError, match="window"):
        map_read(["a.jpg"], scheduler="tcp://127.0.0.1:1", reader_kwargs={}, window=0)
    with pytest.raises(ValueError, match="scheduler"):
        map_read(["a.jpg"], scheduler=42, reader_kwargs={})
    with pytest.raises(ValueError, match="empty"):
        map_read(["a.jpg"], scheduler=" ", reader_kwargs={})


def test_reader_cache_key_is_canonical():
    # Paths in reader_kwargs travel as strings; key order must not split the cache.
    from pathlib import Path

    assert _key({"model": Path("m.onnx"), "region": None}) == _key(
        {"region": None, "model": "m.onnx"}
    )


def test_unreachable_scheduler_is_one_clear_error():
    import dask

    from anpr.distributed import SchedulerError

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        records = map_read(["a.jpg"], scheduler="tcp://127.0.0.1:1", reader_kwargs={})
        with pytest.raises(SchedulerError, match="tcp://127.0.0.1:1: cannot reach"):
            next(records)


def _crash_on_bad(source, name, key, crop=False, max_pixels=None):
    # Stands in for read_task: a decoder crash takes the whole worker process down.
    import os

    if name.endswith(".bad"):
        os._exit(1)
    return {"image": name, "error": None}


@pytest.mark.slow
def test_worker_crash_fails_only_that_photo(cluster, monkeypatch):
    import anpr.distributed as D

    monkeypatch.setattr(D, "read_task", _crash_on_bad)
    records = list(
        D.map_read(["a.jpg", "x.bad", "b.jpg"], scheduler=cluster.scheduler_address, reader_kwargs={})
    )
    assert [r["image"] for r in records] == ["a.jpg", "x.bad", "b.jpg"]
    assert records[0]["error"] is None and records[2]["error"] is None
    assert "crashed" in records[1]["error"]


def test_batch_with_unreachable_scheduler_leaves_no_output(tmp_path):
    import dask

    from anpr.batch import run_batch
    from anpr.distributed import SchedulerError

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jpg").write_bytes(b"not read")
    out = tmp_path / "out.jsonl"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(SchedulerError, match="cannot reach"):
            run_batch(tmp_path / "in", out, scheduler="tcp://127.0.0.1:1")
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "in"]


@pytest.mark.slow
def test_batch_cli_send_bytes_on_cluster(cluster, photos, local, tmp_path):
    """`anpr batch --scheduler ADDR --send-bytes` writes the records of a local run."""
    import json
    import shutil

    from click.testing import CliRunner

    from anpr.cli import main

    src = tmp_path / "in"
    src.mkdir()
    for p in photos:
        shutil.copy(p, src)
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["batch", str(src), "-o", str(out), "--scheduler", cluster.scheduler_address,
                                  "--send-bytes", "--no-progress"])
    assert r.exit_code == 0, r.output
    got = {json.loads(line)["image"].rsplit("/", 1)[-1]: _comparable(json.loads(line)) for line in out.read_text().splitlines()}
    want = {p.rsplit("/", 1)[-1]: rec for p, rec in zip(photos, local)}
    assert {k: dict(v, image=None) for k, v in got.items()} == {k: dict(v, image=None) for k, v in want.items()}


def test_send_bytes_needs_a_scheduler(tmp_path):
    from click.testing import CliRunner

    from anpr.cli import main

    r = CliRunner().invoke(main, ["batch", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), "--send-bytes"])
    assert r.exit_code == 2 and "--send-bytes needs --scheduler" in r.output

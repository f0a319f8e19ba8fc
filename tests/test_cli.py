"""The CLI end to end, with the real reader: read-plate, batch, exit codes, bad inputs.

The robustness battery (tests/imagefiles.py) is read beside real photos from
../shared/data: every input gets its documented outcome, good photos are still read,
and no traceback reaches the user.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from anpr.cli import main

from imagefiles import battery

# name in the battery -> the error its line must carry (None: read like a photo)
OUTCOMES = {
    "zero-byte.jpg": r"empty file \(0 bytes\)",
    "truncated.jpg": r"truncated JPEG",
    "text-named.jpg": r"not an image \(unrecognised content\)",
    "random-bytes.png": r"not an image \(unrecognised content\)",
    "one-pixel.png": None,
    "gray16.png": None,
    "gray16.tiff": None,
    "rgba.png": None,
    "exif-rotated.jpg": None,
    "huge-20000x20000.png": r"image too large \(20000x20000 = 400\.0 MP; the limit is 60 MP\)",
    "huge-20000x20000.jpg": r"image too large \(20000x20000 = 400\.0 MP; the limit is 60 MP\)",
    "non-ascii path": None,
}

ANPR = [sys.executable, "-m", "anpr"]


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def good_photos() -> list[Path]:
    """Two real photos: from ../shared/data when present, else the shipped samples/."""
    found = sorted((ROOT.parent / "shared" / "data" / "scenes" / "us").glob("*.jpg"))[:2]
    if len(found) < 2:
        found = sorted(p for p in (ROOT / "samples").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:2]
    if len(found) < 2:
        pytest.skip("no real photos: neither ../shared/data nor samples/ is available")
    return found


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory, good_photos) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("battery")
    files = battery(folder, good_photos)
    (folder / "notes.txt").write_text("not a photo")  # skipped by batch
    (folder / "README").write_text("no extension")
    return folder, files


def _expected(files: dict[str, Path]) -> dict[str, str | None]:
    exp = {str(p): OUTCOMES.get(name) for name, p in files.items()}
    return exp


def _no_traceback(*texts: str) -> None:
    for t in texts:
        assert "Traceback" not in t and 'File "' not in t, t


# --------------------------------------------------------------------------- read-plate


def _check_read_plate_output(stdout: str, stderr: str, inputs: dict[str, str | None]) -> None:
    _no_traceback(stdout, stderr)
    out_lines = stdout.splitlines()
    err_lines = stderr.splitlines()
    for path, error in inputs.items():
        mine_out = [line for line in out_lines if line.startswith(path + ": ")]
        mine_err = [line for line in err_lines if line.startswith(path + ": error: ")]
        if error is None:
            assert len(mine_out) == 1 and not mine_err, (path, mine_out, mine_err)
            assert re.fullmatch(re.escape(path) + r": (no plate found|\S+  \(\d\.\d\d(, \w+ format)?\)(, \S+  \(\d\.\d\d(, \w+ format)?\))*)", mine_out[0])
        else:
            assert len(mine_err) == 1 and not mine_out, (path, mine_out, mine_err)
            assert re.search(error, mine_err[0]), (error, mine_err[0])
    # nothing but one line per input
    assert len(out_lines) + len(err_lines) == len(inputs)


def test_read_plate_battery(bad_folder):
    folder, files = bad_folder
    inputs = _expected(files)
    inputs[str(folder / "missing.jpg")] = r"no such file"
    inputs[str(folder)] = r"is a directory"
    result = _runner().invoke(main, ["read-plate", *inputs])
    assert result.exit_code == 1
    _check_read_plate_output(result.stdout, result.stderr, inputs)


def test_read_plate_json_battery(bad_folder):
    folder, files = bad_folder
    inputs = _expected(files)
    inputs[str(folder / "missing.jpg")] = r"no such file"
    result = _runner().invoke(main, ["read-plate", "--json", *inputs])
    assert result.exit_code == 1
    _no_traceback(result.stdout, result.stderr)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == list(inputs)
    for rec in records:
        assert set(rec) == {"image", "width", "height", "plates", "time_ms", "error"}
        error = inputs[rec["image"]]
        if error is None:
            assert rec["error"] is None and rec["width"] > 0 and rec["height"] > 0
            for p in rec["plates"]:
                assert set(p) >= {"text", "confidence", "box", "corners", "chars"} and len(p["box"]) == 4
        else:
            assert re.search(error, rec["error"]) and rec["plates"] == [] and rec["width"] is None
    exif = next(r for r in records if r["image"].endswith("exif-rotated.jpg"))
    assert (exif["width"], exif["height"]) == (40, 80)  # EXIF rotation applied


def test_read_plate_good_photos_exit_0(good_photos, tmp_path):
    annotate, debug = tmp_path / "ann", tmp_path / "dbg"
    args = ["read-plate", "--annotate", str(annotate), "--debug", str(debug), *map(str, good_photos)]
    result = _runner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(good_photos)
    assert sorted(p.name for p in annotate.iterdir()) == sorted(p.stem + ".jpg" for p in good_photos)
    stage_files = list(debug.rglob("*.png"))
    assert stage_files, "no pipeline stage written"


def test_read_plate_reads_standard_input(samples_dir, tmp_path):
    from conftest import read_labels

    row = read_labels(samples_dir / "labels.csv")[0]
    photo = (samples_dir / row["image"]).read_bytes()
    annotate = tmp_path / "ann"
    result = _runner().invoke(main, ["read-plate", "--annotate", str(annotate), "-"], input=photo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("-: ") and row["plate"].replace("O", "0") in result.stdout.replace("O", "0")
    assert [p.name for p in annotate.iterdir()] == ["stdin.jpg"]
    result = _runner().invoke(main, ["read-plate", "--json", "-"], input=b"not a photo")
    assert result.exit_code == 1
    _no_traceback(result.stdout, result.stderr)
    assert json.loads(result.stdout)["error"] == "-: not an image (unrecognised content)"


def test_read_plate_crop(data_dir):
    crops = sorted((data_dir / "plates" / "us").glob("*.*"))
    crops = [p for p in crops if p.suffix.lower() in (".jpg", ".png")][:3]
    result = _runner().invoke(main, ["read-plate", "--crop", "--json", *map(str, crops)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(crops) and all(r["error"] is None for r in records)


def test_usage_errors_exit_2(good_photos):
    runner = _runner()
    assert runner.invoke(main, ["read-plate"]).exit_code == 2
    assert runner.invoke(main, ["read-plate", "--region", "xx", str(good_photos[0])]).exit_code == 2
    assert runner.invoke(main, ["batch"]).exit_code == 2


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_bad_model_is_one_line(tmp_path, good_photos, kind):
    model = tmp_path / "chars.onnx"
    if kind == "corrupt":
        model.write_bytes(b"\x08\x01garbage, not a protobuf model" * 10)
    for args in (["read-plate", "--model", str(model), str(good_photos[0])],
                 ["batch", "--model", str(model), str(good_photos[0].parent), "-o", str(tmp_path / "r.jsonl")]):
        result = _runner().invoke(main, args)
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(model) in lines[0], result.stderr
        assert "default model" in lines[0]
        _no_traceback(result.stderr)


def test_read_plate_subprocess(bad_folder):
    """A real ``anpr`` process: same lines, exit code 1, no traceback."""
    folder, files = bad_folder
    inputs = _expected(files)
    inputs[str(folder / "missing.jpg")] = r"no such file"
    proc = subprocess.run([*ANPR, "read-plate", *inputs], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    _check_read_plate_output(proc.stdout, proc.stderr, inputs)


# --------------------------------------------------------------------------- batch


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_battery(bad_folder, tmp_path):
    folder, files = bad_folder
    out = tmp_path / "results.jsonl"
    result = _runner().invoke(main, ["batch", str(folder), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 1
    _no_traceback(result.stdout, result.stderr)
    records = _records(out)
    expected = _expected(files)
    assert sorted(r["image"] for r in records) == sorted(expected)
    assert [r["image"] for r in records] == sorted(r["image"] for r in records)  # walk order
    for rec in records:
        error = expected[rec["image"]]
        assert (rec["error"] is None) if error is None else re.search(error, rec["error"])
    n_failed = sum(e is not None for e in expected.values())
    assert f"failed {n_failed}: " in result.stderr
    assert "skipped 2 non-image file(s)" in result.stderr
    assert f"{len(expected) - n_failed} image(s)" in result.stderr


def test_batch_workers_match_single_process(bad_folder, tmp_path):
    folder, _ = bad_folder
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.jsonl"
        result = _runner().invoke(main, ["batch", str(folder), "-o", str(out), "--workers", str(workers), "--no-progress"])
        assert result.exit_code == 1, result.stderr
        outs.append([{k: v for k, v in r.items() if k != "time_ms"} for r in _records(out)])
    assert outs[0] == outs[1]


def test_batch_refuses_to_overwrite(good_photos, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(good_photos[0], folder)
    out = tmp_path / "r.jsonl"
    runner = _runner()
    assert runner.invoke(main, ["batch", str(folder), "-o", str(out), "--workers", "1"]).exit_code == 0
    before = out.read_bytes()
    result = runner.invoke(main, ["batch", str(folder), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "--resume" in result.stderr and "--overwrite" in result.stderr
    assert out.read_bytes() == before
    assert runner.invoke(main, ["batch", str(folder), "-o", str(out), "--overwrite", "--workers", "1"]).exit_code == 0
    assert len(_records(out)) == 1
    result = runner.invoke(main, ["batch", str(folder), "-o", str(out), "--resume", "--workers", "1"])
    assert result.exit_code == 0 and len(_records(out)) == 1
    assert "resumed: 1 image(s) already in the output" in result.stderr


def test_batch_csv(bad_folder, tmp_path):
    import csv

    folder, files = bad_folder
    out = tmp_path / "results.csv"
    result = _runner().invoke(main, ["batch", str(folder), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 1
    assert not (tmp_path / "results.csv.partial.jsonl").exists()
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["image", "width", "height", "text", "confidence", "box", "plates_json", "time_ms", "error"]
    assert sorted(r["image"] for r in rows) == sorted(_expected(files))
    huge = next(r for r in rows if r["image"].endswith("huge-20000x20000.png"))
    assert "image too large" in huge["error"] and huge["width"] == ""


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        found += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_batch_sigkill_then_resume(good_photos, tmp_path, workers):
    """Kill a batch with SIGKILL part way; --resume ends with every image exactly once."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [folder / f"photo-{i:02d}{good_photos[i % 2].suffix}" for i in range(12)]
    for i, p in enumerate(photos):
        shutil.copy(good_photos[i % 2], p)
    out = tmp_path / "results.jsonl"
    proc = subprocess.Popen(
        [*ANPR, "batch", str(folder), "-o", str(out), "--workers", str(workers), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 3:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        children = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = out.read_bytes().count(b"\n")
    assert 3 <= done_before < len(photos), "the run was not killed part way"
    # simulate the worst case too: a kill in the middle of writing a line
    with open(out, "ab") as fh:
        fh.write(b'{"image": "' + str(photos[-1]).encode() + b'", "width": 1')
    # orphaned pool workers notice the parent is gone and exit
    t0 = time.monotonic()
    while any(_alive(c) for c in children) and time.monotonic() - t0 < 15:
        time.sleep(0.2)
    assert not any(_alive(c) for c in children), "worker processes outlived the killed batch"

    result = subprocess.run(
        [*ANPR, "batch", str(folder), "-o", str(out), "--resume", "--workers", str(workers), "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    _no_traceback(result.stderr)
    records = _records(out)  # every line parses: the torn one is gone
    images = [r["image"] for r in records]
    assert sorted(images) == sorted(str(p) for p in photos)
    assert len(images) == len(set(images)) == len(photos)
    assert all(r["error"] is None for r in records)
    assert f"resumed: {done_before} image(s) already in the output" in result.stderr


# --------------------------------------------------------------------------- benchmark


def test_benchmark_accuracy_small_set(data_dir, tmp_path):
    src = data_dir / "scenes" / "us"
    folder = tmp_path / "us"
    folder.mkdir()
    lines = (src / "labels.csv").read_text().splitlines()[:4]  # header + 3 photos
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    for line in lines[1:]:
        shutil.copy(src / line.split(",")[0], folder)
    out = tmp_path / "report"
    result = _runner().invoke(main, ["benchmark", str(folder), "--region", "auto", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^us\s+3\s", result.stdout, re.M)
    assert json.loads((out / "summary.json").read_text())["total"]["n"] == 3


def test_benchmark_scores_other_stage_models(data_dir, tmp_path):
    # --verifier and --glyphs reach the reader: "none" reads without the learned stage,
    # a path is loaded (a missing one is a one-line error naming it).
    folder = data_dir / "scenes" / "eu"
    args = ["benchmark", str(folder), "--part", "check", "--no-progress"]
    plain = _runner().invoke(main, args + ["--verifier", "none", "--glyphs", "none", "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.stderr
    from anpr.verify import default_verifier_path

    shipped = _runner().invoke(main, args + ["--verifier", str(default_verifier_path()), "--out", str(tmp_path / "b")])
    assert shipped.exit_code == 0, shipped.stderr
    n = json.loads((tmp_path / "b" / "summary.json").read_text())["total"]["n"]
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["total"]["n"] == n > 0
    for opt, kind in (("--verifier", "verifier"), ("--glyphs", "glyph")):
        r = _runner().invoke(main, args + [opt, str(tmp_path / "nope.onnx")])
        assert r.exit_code == 1 and f"nope.onnx: {kind} model file not found" in r.stderr
        assert "Traceback" not in r.stderr


def test_benchmark_crop_folder_without_crop_is_usage_error(tmp_path):
    (tmp_path / "labels.csv").write_text("image,plate\na.jpg,AB123\n")
    r = _runner().invoke(main, ["benchmark", str(tmp_path), "--no-progress"])
    assert r.exit_code == 2
    assert "use --crop" in r.output and "internal error" not in r.output


def test_benchmark_missing_dir_is_usage_error(tmp_path):
    assert _runner().invoke(main, ["benchmark", str(tmp_path / "nope")]).exit_code == 2


def test_internal_error_is_one_line_unless_verbose(good_photos, monkeypatch):
    """A bug inside the reader on one photo: that photo's line says so, the rest go on."""
    from anpr.reader import PlateReader

    real_read = PlateReader.read
    bad = str(good_photos[0])

    def read(self, image, **kw):
        if image.shape[0] > 0 and read.calls == 0:
            read.calls += 1
            raise RuntimeError("simulated bug")
        return real_read(self, image, **kw)

    read.calls = 0
    monkeypatch.setattr(PlateReader, "read", read)
    result = _runner().invoke(main, ["read-plate", bad, str(good_photos[1])])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{bad}: error: internal error (RuntimeError: simulated bug)"]
    assert result.stdout.startswith(str(good_photos[1]) + ": ")
    read.calls = 0
    result = _runner().invoke(main, ["read-plate", "--verbose", bad])
    assert result.exit_code == 1 and "Traceback" in result.stderr and "simulated bug" in result.stderr


@pytest.mark.slow
def test_batch_on_dask_matches_local(bad_folder, tmp_path):
    """--scheduler hands the same paths to anpr.distributed and gets the same records."""
    dd = pytest.importorskip("dask.distributed")
    folder, _ = bad_folder
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    assert _runner().invoke(main, ["batch", str(folder), "-o", str(local), "--workers", "1"]).exit_code == 1
    with dd.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        result = _runner().invoke(main, ["batch", str(folder), "-o", str(remote), "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 1, result.stderr
    strip = lambda rs: [{k: v for k, v in r.items() if k != "time_ms"} for r in rs]  # noqa: E731
    assert strip(_records(remote)) == strip(_records(local))

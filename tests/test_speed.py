"""The speed benchmark collects the right photos and reports well-formed figures.

No timing bounds here (the CI machine's speed is nobody's business); the figures are
checked for shape and internal consistency only.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from anpr.speed import _check_targets, find_photos, format_speed, run_speed, time_photo


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_find_photos_walks_folders_sorted(tmp_path):
    _touch(tmp_path / "b" / "z.jpg")
    _touch(tmp_path / "a.JPEG")
    _touch(tmp_path / "c.txt")
    _touch(tmp_path / "b" / "y.png")
    names = [p.relative_to(tmp_path).as_posix() for p in find_photos([tmp_path])]
    assert names == ["a.JPEG", "b/y.png", "b/z.jpg"]


def test_find_photos_follows_labels_csv_and_limit(tmp_path):
    (tmp_path / "labels.csv").write_text("image,plate\nsecond.jpg,AB1\nfirst.jpg,CD2\n")
    _touch(tmp_path / "first.jpg")
    _touch(tmp_path / "second.jpg")
    _touch(tmp_path / "unlabelled.jpg")
    assert [p.name for p in find_photos([tmp_path])] == ["second.jpg", "first.jpg"]
    assert [p.name for p in find_photos([tmp_path], limit=1)] == ["second.jpg"]


def test_find_photos_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        find_photos([tmp_path / "missing"])
    with pytest.raises(ValueError, match="limit"):
        find_photos([tmp_path], limit=0)


def test_run_speed_rejects_empty_folder(tmp_path):
    with pytest.raises(ValueError, match="no photos"):
        run_speed([tmp_path], processes=False)


def test_targets_pass_and_fail():
    s = {
        "ratio": {"median": 12.0, "p90": 15.0},
        "import_s": 0.2,
        "cli_cold_s": None,
        "peak_rss_mb": 500.0,
    }
    t = _check_targets(s)
    assert t["ratio_median"] == (12.0, 10.0, False)
    assert t["ratio_p90"][2] is True
    assert t["import_s"][2] is True
    assert t["cli_cold_s"][2] is None
    assert t["peak_rss_mb"][2] is False


@pytest.fixture(scope="module")
def scenes(data_dir):
    return data_dir / "scenes" / "us"


def test_time_photo_is_consistent(scenes):
    from anpr import PlateReader

    photo = find_photos([scenes], limit=1)[0]
    r = time_photo(photo, PlateReader(), repeat=2)
    assert r["decode_ms"] > 0 and r["read_ms"] > 0
    assert math.isclose(r["ratio"], (r["decode_ms"] + r["read_ms"]) / r["decode_ms"])
    assert r["width"] > 0 and r["height"] > 0
    assert all(isinstance(t, str) for t in r["plates"])


@pytest.mark.slow
def test_run_speed_summary(scenes):
    seen = []
    s = run_speed(
        [scenes],
        limit=3,
        repeat=1,
        import_runs=1,
        cli_runs=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert s["photos"] + len(s["errors"]) == 3
    assert len(s["per_photo"]) == s["photos"]
    for key in ("decode_ms", "read_ms", "ratio"):
        assert s[key]["median"] <= s[key]["p90"] + 1e-9
    assert s["ratio"]["median"] > 1.0
    assert s["import_s"] > 0 and s["cli_cold_s"] > 0 and s["peak_rss_mb"] > 10
    text = format_speed(s)
    assert "(decode+read)/decode" in text and "peak RSS MB" in text
    assert "target ratio_median" in text


@pytest.mark.slow
def test_cli_benchmark_speed_writes_report(samples_dir, tmp_path):
    import json

    from click.testing import CliRunner

    from anpr.cli import main

    if not any(samples_dir.glob("*.jpg")):
        pytest.skip("no sample photos")
    result = CliRunner().invoke(
        main,
        ["benchmark", str(samples_dir), "--speed", "--limit", "2", "--no-progress", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "(decode+read)/decode" in result.output
    report = json.loads((tmp_path / "speed.json").read_text())
    assert report["photos"] == 2 and len(report["per_photo"]) == 2
    assert report["peak_rss_mb"] > 10


def test_per_set_groups_photos_by_folder(tmp_path):
    dirs = [tmp_path / "eu", tmp_path / "br"]
    rows = [{"image": str(dirs[0] / "a.jpg"), "decode_ms": 1.0, "read_ms": 20.0, "ratio": 21.0},
            {"image": str(dirs[1] / "b.jpg"), "decode_ms": 10.0, "read_ms": 40.0, "ratio": 5.0},
            {"image": str(dirs[1] / "c.jpg"), "decode_ms": 10.0, "read_ms": 60.0, "ratio": 7.0}]
    from anpr.speed import _per_set

    per = _per_set(rows, [str(d) for d in dirs])
    assert [v["photos"] for v in per.values()] == [1, 2]
    assert per[str(dirs[1])]["read_ms"]["median"] == 50.0
    assert _per_set(rows, [str(dirs[0])]) == {}

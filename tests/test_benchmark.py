"""The accuracy benchmark (anpr.benchmark)."""

from __future__ import annotations

import csv
import shutil

import pytest

from anpr import benchmark as B
from anpr.reader import Plate
from conftest import read_labels, subset_folder


def test_edit_distance_and_char_accuracy():
    assert B.edit_distance("", "ABC") == 3
    assert B.edit_distance("ABC", "ABC") == 0
    assert B.edit_distance("ABXC", "ABC") == 1
    assert B.char_accuracy("RK099AN", "RKO99AN") == 1.0  # O and 0 are one character
    assert B.char_accuracy("", "ABC") == 0.0
    assert B.char_accuracy("ABCDEFGH", "A") == 0.0  # floored
    with pytest.raises(ValueError):
        B.char_accuracy("A", "")


def test_score_scene_matching_rules():
    label_box = (100, 100, 120, 40)
    right = Plate("RK099AN", 0.9, (110, 105, 100, 30), [])
    wrong_place = Plate("RKO99AN", 0.95, (400, 100, 120, 40), [])
    s = B.score_scene([wrong_place, right], label_box, "RKO99AN")
    assert s["detected"] and s["exact"] and not s["exact_strict"]
    assert s["false_plates"] == 1 and s["read"] == "RK099AN"
    miss = B.score_scene([wrong_place], label_box, "RKO99AN")
    assert not miss["detected"] and not miss["exact"] and miss["char_acc"] == 0.0
    # A narrow box on the glyph row still matches: its centre is on the plate.
    narrow = Plate("RK099AN", 0.9, (150, 112, 30, 12), [])
    assert B.score_scene([narrow], label_box, "RK099AN")["detected"]


def test_summarize_rates():
    rows = [dict(exact=True, exact_strict=True, char_acc=1.0, detected=True, false_plates=0, ms=10.0, cpu_ms=9.0),
            dict(exact=False, exact_strict=False, char_acc=0.5, detected=True, false_plates=2, ms=30.0, cpu_ms=20.0)]
    s = B.summarize(rows)
    assert s["n"] == 2 and s["exact"] == 0.5 and s["char_acc"] == 0.75
    assert s["false_per_photo"] == 1.0 and s["ms_median"] == 20.0
    assert B.summarize([]) == {"n": 0}


def test_label_files_are_checked(tmp_path):
    with pytest.raises(ValueError, match="labels.csv"):
        B.run_benchmark([tmp_path])
    (tmp_path / "labels.csv").write_text("image,plate\na.jpg,AB12\n")
    with pytest.raises(ValueError, match="--crop"):
        B.run_benchmark([tmp_path])
    with pytest.raises(ValueError):
        B.run_benchmark([])


def _scene_folder(tmp_path, data_dir, name="eu", images=("test_021.jpg", "test_089.jpg")):
    src = data_dir / "scenes" / "eu"
    dst = tmp_path / name
    dst.mkdir()
    rows = [r for r in read_labels(src / "labels.csv") if r["image"] in images]
    for r in rows:
        shutil.copy(src / r["image"], dst / r["image"])
    # one photo whose label is deliberately wrong, so there is a failure to report
    r = dict(rows[0], image="wrong.jpg", plate="ZZ999ZZ")
    shutil.copy(src / rows[0]["image"], dst / "wrong.jpg")
    with open(dst / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["image", "x", "y", "w", "h", "plate"])
        w.writeheader()
        for row in rows + [r]:
            w.writerow({k: row[k] for k in ["image", "x", "y", "w", "h", "plate"]})
    return dst


def test_run_benchmark_on_scenes_writes_reports(tmp_path, data_dir):
    folder = _scene_folder(tmp_path, data_dir)
    seen = []
    out = tmp_path / "out"
    s = B.run_benchmark([folder], out_dir=out, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3)
    eu = s["sets"]["eu"]
    assert eu["n"] == 3
    assert eu["exact"] == pytest.approx(2 / 3)
    assert eu["detection"] == 1.0
    assert eu["ms_median"] > 0
    rows = read_labels(out / "results.csv")
    assert [r["image"] for r in rows] == ["test_021.jpg", "test_089.jpg", "wrong.jpg"]
    assert rows[2]["exact"] == "False"
    assert (out / "failures.png").stat().st_size > 0
    text = B.format_summary(s)
    assert "eu" in text and "66.7%" in text


def test_run_benchmark_on_crops_with_region_auto(tmp_path, data_dir):
    src = data_dir / "plates" / "br"
    dst = tmp_path / "br"
    dst.mkdir()
    rows = read_labels(src / "labels.csv")[:3]
    for r in rows:
        shutil.copy(src / r["image"], dst / r["image"])
    with open(dst / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    s = B.run_benchmark([dst], crop=True, region="auto")
    br = s["sets"]["br"]
    assert br["n"] == 3 and br["false_per_photo"] == 0.0
    assert br["detection"] > 0 and br["exact"] <= br["char_acc"] + 1e-9
    assert s["region"] == "auto"


def _boxes_folder(tmp_path, data_dir, n=12):
    dst = tmp_path / "oi"
    return dst, subset_folder(data_dir / "detect" / "openimages", dst, n)


def test_detection_scores_count_each_box_once():
    from anpr.reader import Plate

    p = lambda b: Plate("AB1", 0.9, b, [])  # noqa: E731
    # Two readings on one plate: one matches, the other is a false plate.
    s = B.score_detection([p((0, 0, 50, 20)), p((1, 0, 50, 20)), p((200, 0, 60, 20))], [(0, 0, 50, 20)])
    assert (s["found"], s["false_plates"], s["n_plates"]) == (1, 2, 3)
    rows = [dict(s, ms=10.0), dict(B.score_detection([], [(0, 0, 30, 10)]), ms=20.0)]
    v = B.summarize_detection(rows)
    assert v["recall"] == 0.5 and v["recall_wide"] == 1.0 and v["precision"] == pytest.approx(1 / 3)
    assert v["false_per_photo"] == 1.0


def test_run_detection_on_a_boxes_only_folder(tmp_path, data_dir):
    folder, rows = _boxes_folder(tmp_path, data_dir)
    assert B.folder_kind(folder, False) == "detect"
    s = B.run_detection([folder], out_dir=tmp_path / "out")
    v = s["sets"]["oi"]
    assert v["n"] == 12 and v["boxes"] == len(rows)
    assert 0 <= v["recall"] <= v["recall_wide"] + 1 and 0 <= v["precision"] <= 1
    lines = (tmp_path / "out" / "detections.csv").read_text().splitlines()
    assert len(lines) == 13
    assert "rec>=40px" in B.format_detection(s) and " AP " in B.format_detection(s)
    # The curve's image, its average precision and the candidates read are reported.
    assert (tmp_path / "out" / "pr_curve.png").stat().st_size > 1000
    assert 0.0 <= v["ap"] <= 1.0 and v["reads_per_photo"] > 0


def test_run_detection_reports_what_read_reports(tmp_path, data_dir):
    # The benchmark reads each photo once (readings, then report) and scores what
    # PlateReader.read reports; a reader given to it is left as it was.
    import csv

    from anpr.reader import PlateReader

    folder, rows = _boxes_folder(tmp_path, data_dir, n=8)
    rd = PlateReader()
    B.run_detection([folder], out_dir=tmp_path / "out", reader=rd)
    assert "_read_candidate" not in rd.__dict__
    with open(tmp_path / "out" / "detections.csv", newline="") as fh:
        got = {r["image"]: r["texts"] for r in csv.DictReader(fh)}
    for image in dict.fromkeys(r["image"] for r in rows):
        assert got[image] == " ".join(p.text for p in rd.read(folder / image))


def test_pr_curve_orders_readings_by_score():
    from anpr.reader import Plate

    # A false plate scored above the true one lowers precision at the top of the curve.
    pts = B.curve_points([Plate("A1", 0.9, (0, 0, 60, 20), [], plate_p=0.6),
                          Plate("ZZ", 0.9, (300, 0, 60, 20), [], plate_p=0.95)], [(0, 0, 60, 20)])
    assert pts == [(0.95, 0, 0), (0.6, 1, 1)]
    c = B.pr_curve([{"boxes_wide": 1, "curve": pts}])
    assert c["recall"] == [0.0, 1.0] and c["precision"] == [0.0, 0.5] and c["ap"] == pytest.approx(0.5)


def test_benchmark_command_scores_scenes_and_boxes_folders_by_part(tmp_path, data_dir):
    from click.testing import CliRunner

    from anpr.cli import main

    folder, _ = _boxes_folder(tmp_path, data_dir, n=30)
    r = CliRunner().invoke(main, ["benchmark", str(data_dir / "scenes" / "eu"), str(folder), "--part", "check",
                                  "--no-progress", "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert "exact" in r.output and "precision" in r.output
    n_check = len(B.load_labels(data_dir / "scenes" / "eu", False, "check"))
    assert f"eu       {n_check:>5}" in r.output
    assert (tmp_path / "rep" / "read" / "results.csv").exists() and (tmp_path / "rep" / "detect" / "summary.json").exists()


def test_lookalike_confusions_are_counted_per_set():
    assert B.confusions("8ANY976", "BANY976") == ["B/8"]
    assert B.confusions("CI110IS", "CY110KS") == []  # Y/I and K/I are no look-alike pair here
    assert B.confusions("S0Z", "5O2") == ["S/5", "O/0", "Z/2"]
    assert B.confusions("NA7506", "INA7506") == []  # a dropped end glyph is no confusion
    rows = [dict(B.score_crop([], "AB12"), ms=1.0), dict(B.score_crop([Plate("A812", 0.9, (0, 0, 1, 1), [])], "AB12"),
                                                          ms=1.0)]
    s = B.summarize(rows)
    assert s["confusions"]["B/8"] == 1 and sum(s["confusions"].values()) == 1
    text = B.format_summary({"sets": {"us": s}, "total": s})
    assert "Look-alike confusions" in text and "B/8" in text

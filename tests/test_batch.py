"""anpr.batch: folder walking, the append-only journal, resume, CSV, the ordered pool."""

from __future__ import annotations

import json
import operator

import numpy as np
import pytest

from anpr.batch import (
    CSV_COLUMNS,
    OutputExistsError,
    crash_record,
    find_images,
    load_jsonl,
    make_record,
    ordered_map,
    prepare_output,
    read_csv,
    read_record,
    record_json,
    write_csv,
)
from anpr.errors import ModelError

from imagefiles import encode, marked_photo
from workerfns import crash_on, failing_factory


class _Plate:
    def __init__(self, text):
        self.text = text

    def to_dict(self):
        return {"text": self.text, "confidence": np.float32(0.5), "box": (1, 2, 3, 4), "corners": [], "chars": []}


class _StubReader:
    """Stands in for PlateReader where only the record plumbing is under test."""

    def __init__(self, exc=None):
        self.exc = exc

    def read(self, image, debug=None):
        if self.exc:
            raise self.exc
        return [_Plate("AB12")]

    def read_crop(self, image):
        return [_Plate("CROP")]


def test_find_images_sorted_recursive_any_case(tmp_path):
    for rel in ["b.JPG", "a.png", "sub/z.TiFf", "sub/a.webp", "notes.txt", "sub/.DS_Store", "c.gif", "d.jpeg"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    images, skipped = find_images(tmp_path)
    rel = [str(p)[len(str(tmp_path)) + 1 :] for p in images]
    assert rel == ["a.png", "b.JPG", "c.gif", "d.jpeg", "sub/a.webp", "sub/z.TiFf"]
    assert skipped == 2


def test_find_images_refuses_file(tmp_path):
    f = tmp_path / "x.jpg"
    f.write_bytes(b"x")
    with pytest.raises(NotADirectoryError):
        find_images(f)
    with pytest.raises(FileNotFoundError):
        find_images(tmp_path / "missing")


def test_read_record_ok_and_json_safe():
    rec = read_record(_StubReader(), encode(marked_photo(), ".png"), "p.png")
    assert list(rec) == ["image", "width", "height", "plates", "time_ms", "error"]
    assert (rec["width"], rec["height"], rec["error"]) == (80, 40, None)
    assert rec["plates"][0]["box"] == [1, 2, 3, 4]
    assert json.loads(record_json(rec)) == rec  # numpy scalars were converted


def test_read_record_crop_uses_read_crop():
    rec = read_record(_StubReader(), np.zeros((5, 5, 3), np.uint8), "c", crop=True)
    assert rec["plates"][0]["text"] == "CROP"


def test_read_record_records_bad_image_and_bugs():
    assert read_record(_StubReader(), b"", "e.jpg")["error"] == "e.jpg: empty file (0 bytes)"
    rec = read_record(_StubReader(IndexError("boom")), np.zeros((5, 5, 3), np.uint8), "x.jpg")
    assert rec["error"] == "x.jpg: internal error (IndexError: boom)"
    assert rec["plates"] == [] and rec["width"] is None
    with pytest.raises(IndexError):
        read_record(_StubReader(IndexError("boom")), np.zeros((5, 5, 3), np.uint8), "x", raise_unexpected=True)


def test_read_record_lets_model_errors_stop_the_batch():
    with pytest.raises(ModelError):
        read_record(_StubReader(ModelError("m.onnx: gone")), np.zeros((5, 5, 3), np.uint8), "x")


def test_load_jsonl_repairs_torn_tail_junk_and_duplicates(tmp_path):
    out = tmp_path / "r.jsonl"
    good = [make_record(f"img{i}.jpg", 1, 1, []) for i in range(3)]
    text = "".join(record_json(r) + "\n" for r in good)
    out.write_text(text + "not json\n" + record_json(good[0]) + "\n" + '{"image": "img9.jpg", "wid')
    records, clean = load_jsonl(out)
    assert not clean
    assert [r["image"] for r in records] == ["img0.jpg", "img1.jpg", "img2.jpg"]
    out.write_text(text)
    assert load_jsonl(out) == (good, True)


def test_prepare_output_refuses_resumes_overwrites(tmp_path):
    out = tmp_path / "r.jsonl"
    assert prepare_output(out) == []  # nothing there yet
    rec = make_record("a.jpg", 1, 1, [])
    out.write_text(record_json(rec) + "\n" + '{"image": "b.j')
    with pytest.raises(OutputExistsError, match="already exists; use --resume"):
        prepare_output(out)
    assert prepare_output(out, resume=True) == [rec]
    assert out.read_text() == record_json(rec) + "\n"  # torn line gone
    assert prepare_output(out, overwrite=True) == [] and not out.exists()
    with pytest.raises(ValueError):
        prepare_output(out, resume=True, overwrite=True)


def test_csv_round_trip_and_columns(tmp_path):
    plates = [{"text": "AB12", "confidence": 0.91, "box": [1, 2, 3, 4], "corners": [], "chars": []}]
    records = [
        make_record("dossier à/a b.jpg", 640, 480, plates, time_ms=12.25),
        make_record("bad.jpg", None, None, [], error="bad.jpg: empty file (0 bytes)"),
        make_record("none.jpg", 10, 10, [], time_ms=3),
    ]
    path = tmp_path / "r.csv"
    write_csv(path, records)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    back = read_csv(path)
    assert [r["image"] for r in back] == [r["image"] for r in records]
    assert back[0]["plates"] == plates and back[0]["width"] == 640
    assert back[1]["error"] == "bad.jpg: empty file (0 bytes)" and back[1]["width"] is None
    assert back[2]["plates"] == [] and back[2]["error"] is None
    assert not list(tmp_path.glob(".*tmp*"))  # temporary file renamed away


def test_csv_resume_from_finished_csv(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, [make_record("a.jpg", 1, 1, [])])
    with pytest.raises(OutputExistsError):
        prepare_output(path)
    done = prepare_output(path, resume=True)
    assert [r["image"] for r in done] == ["a.jpg"]
    assert (tmp_path / "r.csv.partial.jsonl").exists()


def test_ordered_map_keeps_input_order():
    items = [f"w{i:03d}" for i in range(40)]
    out = list(ordered_map(operator.methodcaller, ("upper",), items, workers=2, chunksize=3, on_crash=str))
    assert out == [s.upper() for s in items]


def test_ordered_map_isolates_a_crashing_item():
    items = [f"i{i}" for i in range(12)]
    out = list(ordered_map(crash_on, ("i5",), items, workers=2, chunksize=2, on_crash=lambda it: f"crash:{it}"))
    assert out == [("crash:i5" if it == "i5" else it * 2) for it in items]


def test_ordered_map_reports_factory_errors():
    with pytest.raises(RuntimeError, match="no model here"):
        list(ordered_map(failing_factory, ("no model here",), ["a", "b"], workers=2, on_crash=str))


def test_crash_record_names_the_image():
    rec = crash_record("x/y.jpg")
    assert rec["error"].startswith("x/y.jpg: the reader crashed") and rec["plates"] == []

"""PlateReader, Plate and Char (anpr.reader) with the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from anpr.errors import ImageError  # noqa: E402
from anpr.reader import OUTLINE_SCALE, READ_RATIO, Char, Plate, PlateReader, _pick, final_readings  # noqa: E402
from conftest import read_labels  # noqa: E402


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


def _sample(samples_dir, k=0):
    row = read_labels(samples_dir / "labels.csv")[k]
    return samples_dir / row["image"], row["plate"]


def test_plate_to_dict_is_json_ready():
    p = Plate("AB12", np.float32(0.5), (1, 2, 3, 4), [(1.4, 2.0), (4, 2), (4, 6), (1, 6)],
              [Char("A", np.float64(0.9), (1, 2, 1, 4))], "eu")
    d = p.to_dict()
    json.dumps(d)
    assert d["box"] == [1, 2, 3, 4] and d["corners"][0] == [1, 2]
    assert d["chars"] == [{"char": "A", "probability": pytest.approx(0.9), "box": [1, 2, 1, 4]}]
    assert set(d) >= {"text", "confidence", "box", "corners", "chars"}


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="region"):
        PlateReader(region="atlantis")
    with pytest.raises(ValueError):
        PlateReader(model=42)
    with pytest.raises(ValueError):
        PlateReader(min_confidence=2.0)


def test_unreadable_inputs_raise_image_error(reader, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageError, match="x.jpg"):
        reader.read(bad)
    with pytest.raises(ImageError):
        reader.read(tmp_path / "missing.jpg")


def test_blank_photo_has_no_plates(reader):
    assert reader.read(np.full((240, 320, 3), 127, np.uint8)) == []
    assert reader.read_crop(np.full((3, 3), 0, np.uint8)) == []


def test_overlapping_readings_keep_the_whole_plate():
    whole = Plate("ABC1234", 0.80, (10, 10, 100, 20), [])
    piece = Plate("1234", 0.90, (60, 10, 50, 20), [])
    other = Plate("XYZ987", 0.70, (300, 10, 100, 20), [])
    low = Plate("QQQ111", 0.10, (500, 10, 100, 20), [])
    out = final_readings([piece, whole, other, low], 0.5)
    assert [p.text for p in out] == ["ABC1234", "XYZ987"]


def test_a_reading_the_verifier_rules_out_hides_no_plate():
    # "ALASKA" above the serial reads more confidently than the plate it lies on.
    state = Plate("ALASKA", 0.97, (128, 32, 366, 77), [], plate_p=0.70)
    plate = Plate("FRQ151", 0.87, (55, 44, 585, 270), [], plate_p=0.995)
    assert [p.text for p in final_readings([state, plate], 0.5, 0.15, (0.9, 0.75))] == ["FRQ151"]
    # ... while one the verifier lets through still does
    state.plate_p = 0.8
    assert [p.text for p in final_readings([state, plate], 0.5, 0.15, (0.9, 0.75))] == ["ALASKA"]
    # without a verifier overlap alone decides
    assert [p.text for p in final_readings([state, plate], 0.5, 0.15)] == ["ALASKA"]


def test_the_best_reading_has_a_lower_floor():
    best = Plate("AB1234", 0.40, (10, 10, 100, 20), [])
    second = Plate("XY987", 0.45, (300, 10, 100, 20), [])
    assert final_readings([best], 0.5) == []
    assert [p.text for p in final_readings([best, second], 0.5, 0.3)] == ["XY987"]
    assert [p.text for p in final_readings([best], 0.5, 0.3)] == ["AB1234"]


def test_read_gives_boxes_in_input_pixels(reader, samples_dir):
    path, text = _sample(samples_dir, 0)
    img = cv2.imread(str(path))
    debug: dict = {}
    plates = reader.read(path, debug=debug)
    assert plates and plates[0].text == text
    H, W = img.shape[:2]
    for p in plates:
        x, y, w, h = p.box
        assert 0 <= x and 0 <= y and x + w <= W and y + h <= H and w > h > 0
        assert len(p.corners) == 4 and len(p.chars) == len(p.text)
        for c in p.chars:
            cx, cy, cw, ch = c.box
            # every character lies on its plate
            assert x - 2 <= cx + cw / 2 <= x + w + 2 and y - 2 <= cy + ch / 2 <= y + h + 2
            assert 0.0 <= c.probability <= 1.0
    assert [p.confidence for p in plates] == sorted((p.confidence for p in plates), reverse=True)
    assert {"1-gray", "2-candidates", "3-plate-0"} <= set(debug)
    assert all(isinstance(v, np.ndarray) for v in debug.values())


def test_reported_box_is_the_glyph_outline_grown_by_outline_scale(reader, samples_dir, monkeypatch):
    import anpr.reader

    path, text = _sample(samples_dir, 0)
    plate = reader.read(path)[0]
    monkeypatch.setattr(anpr.reader, "OUTLINE_SCALE", (1.0, 1.0))
    row = reader.read(path)[0]
    assert plate.text == row.text == text
    (x, y, w, h), (rx, ry, rw, rh) = plate.box, row.box
    assert w == pytest.approx(OUTLINE_SCALE[0] * rw, abs=3) and h == pytest.approx(OUTLINE_SCALE[1] * rh, abs=3)
    # grown about the same centre
    assert abs((x + w / 2) - (rx + rw / 2)) <= 2 and abs((y + h / 2) - (ry + rh / 2)) <= 2


def test_read_accepts_arrays_bytes_and_upscaled_copies(reader, samples_dir):
    path, text = _sample(samples_dir, 0)
    img = cv2.imread(str(path))
    assert [p.text for p in reader.read(img)][:1] == [text]
    assert [p.text for p in reader.read(path.read_bytes())][:1] == [text]
    # The same photo at twice the size: the same plate, its box scaled with it.
    big = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    a, b = reader.read(img)[0], reader.read(big)[0]
    assert len(b.text) == len(text)
    for va, vb in zip(a.box, b.box):
        assert abs(vb - 2 * va) <= 0.1 * b.box[2]


def test_read_crop_reads_a_plate_cut_from_a_photo(reader, data_dir):
    row = read_labels(data_dir / "scenes" / "eu" / "labels.csv")
    row = next(r for r in row if r["image"] == "test_021.jpg")
    img = cv2.imread(str(data_dir / "scenes" / "eu" / row["image"]))
    x, y, w, h = (int(row[k]) for k in "xywh")
    plates = reader.read_crop(img[y : y + h, x : x + w])
    assert len(plates) == 1 and plates[0].box == (0, 0, w, h)
    assert plates[0].text == row["plate"]


@pytest.mark.slow
@pytest.mark.parametrize("angle", [15, -15])
def test_tilted_photo_is_read(reader, samples_dir, angle):
    path, text = _sample(samples_dir, 0)
    img = cv2.imread(str(path))
    plates = reader.read(img)
    x, y, w, h = plates[0].box
    M = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), angle, 1.0)
    rot = cv2.warpAffine(img, M, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    got = reader.read(rot)
    assert text in [p.text for p in got]
    p = next(p for p in got if p.text == text)
    top = np.subtract(p.corners[1], p.corners[0])
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(-angle, abs=5)


def test_pick_skips_candidates_far_below_the_best():
    from anpr.localize import Candidate

    def cand(x, score):
        c = np.array([[x, 0], [x + 40, 0], [x + 40, 10], [x, 10]], np.float32)
        return Candidate(c, (x, 0, 40, 10), "dark", score=score)

    best = cand(0, 0.9)
    close = cand(100, 0.9 * READ_RATIO + 0.01)
    far = cand(200, 0.9 * READ_RATIO - 0.01)
    assert _pick([best, close, far], 4) == [best, close]
    assert _pick([best, close, far], 1) == [best]
    assert _pick([cand(0, 0.9), cand(5, 0.8)], 4)[1:] == []  # same place: one read


def test_pick_adds_what_the_verifier_finds_most_plate_like():
    from anpr.localize import Candidate

    def cand(x, score, plate_p):
        c = np.array([[x, 0], [x + 40, 0], [x + 40, 10], [x, 10]], np.float32)
        return Candidate(c, (x, 0, 40, 10), "dark", score=score, plate_p=plate_p)

    best = cand(0, 0.9, 0.2)
    plate = cand(100, 0.02, 0.99)  # under MIN_CHEAP: the cheap score never reads it
    row = cand(102, 0.01, 0.95)  # the same place again
    sign = cand(200, 0.5, 0.1)
    # the places the cheap score leaves empty and n_verified more, one read per place
    assert _pick([best, sign, plate, row], 4) == [best, sign, plate]
    assert _pick([best, sign, plate, row], 1, 1) == [best, plate]
    assert _pick([best, sign, plate, row], 1) == [best]
    assert _pick([sign, best], 1, 1) == [sign, best]  # the cheap score's choice comes first


def test_variant_is_the_skipped_duplicate_of_a_candidate():
    import numpy as np

    from anpr import reader
    from anpr.localize import Candidate

    def cand(box, score):
        x, y, w, h = box
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
        return Candidate(corners, box, "dark", score=score)

    a, dup, other, weak_dup = cand((10, 10, 100, 30), 0.8), cand((12, 8, 100, 34), 0.6), cand((300, 10, 100, 30), 0.5), cand((10, 10, 96, 30), 0.1)
    cands = [a, dup, other, weak_dup]
    chosen = reader._pick(cands, 4)
    assert [c is dup for c in chosen] == [False, False] and chosen[1] is other
    assert reader._variant(cands, chosen, a) is dup
    assert reader._variant(cands, chosen, other) is None  # nothing overlaps it
    # A duplicate scoring under VARIANT_RATIO of the candidate is not worth a reading.
    assert reader._variant([a, weak_dup], [a], a) is None


def test_van_lettering_does_not_stop_the_search(reader, data_dir):
    # "205014" painted on a van reads at 0.96 from a candidate the verifier finds only
    # half plate-like; the search goes on to the truck's plate below it.
    from anpr.reader import EARLY_PLATE_P, _holding

    plates = reader.read(data_dir / "scenes" / "us" / "5b562a61-34ad-4f00-9164-d34abb7a38e4.jpg")
    assert "91A4ZA" in [p.text for p in plates]
    plate = Plate("205014", 0.96, (0, 0, 9, 3), [], [])
    cand = type("C", (), {"plate_p": EARLY_PLATE_P - 0.01})()
    assert _holding(plate, cand) == 0.0
    cand.plate_p = None  # no verifier: the reading counts as it is
    assert _holding(plate, cand) == 0.96


def test_a_close_up_is_looked_for_again_when_nothing_is_found(reader, data_dir, monkeypatch):
    # The plate fills the photo (569 x 304 px of 640): its glyphs are too tall for the
    # kernels at the usual working widths, so only the fallback width finds it.
    import anpr.reader as R
    from anpr.geometry import iou

    photo, box = data_dir / "detect" / "openimages" / "6310a7bf87ae0ab2.jpg", (24, 78, 569, 304)
    debug: dict = {}
    plates = reader.read(photo, debug=debug)
    assert any(iou(p.box, box) > 0.4 for p in plates)
    assert "2f-candidates" in debug
    monkeypatch.setattr(R, "FALLBACK_WIDTH", 10**6)  # wider than any photo: no fallback
    assert not any(iou(p.box, box) > 0.4 for p in reader.read(photo))


@pytest.mark.parametrize("backend", ["onnxruntime", "cv2"])
def test_one_reader_serves_many_threads(samples_dir, backend):
    # cv2.dnn's setInput/forward share the net's buffers: without the backend's lock,
    # threads sharing a reader fail an assertion inside OpenCV.
    from concurrent.futures import ThreadPoolExecutor

    from anpr.classify import CharClassifier

    photos = [samples_dir / r["image"] for r in read_labels(samples_dir / "labels.csv")] * 3
    rd = PlateReader(model=CharClassifier(backend=backend))
    alone = [[(p.text, p.box) for p in rd.read(x)] for x in photos]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda x: [(p.text, p.box) for p in rd.read(x)], photos))
    assert together == alone and any(alone)


def test_a_plate_squeezed_by_an_uneven_resize_is_read(samples_dir):
    # A photo resized to 30% of its width (as exports stretched to a square squeeze
    # plates): the plate is narrower than 2:1 and is read stretched back
    # (reader.READ_MIN_ASPECT); read as it is, it gave PII2953.
    import cv2

    img = cv2.imread(str(samples_dir / "br-PJU2853.jpg"))
    squeezed = cv2.resize(img, (int(img.shape[1] * 0.3), img.shape[0]), interpolation=cv2.INTER_AREA)
    assert [p.text for p in PlateReader().read(squeezed)][:1] == ["PJU2853"]

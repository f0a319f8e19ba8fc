"""Reading one plate crop: segmentation + one batched classifier call + decoding."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from anpr.normalize import CLASSES
from anpr.recognize import PlateText, plate_confidence, recognize_plate
from test_segment import draw_plate


class CountingStub:
    """Reads every crop as ``char`` (a unit-test stand-in, not a model); counts calls.

    ``second`` gives a runner-up class with probability ``q``.
    """

    def __init__(self, char: str = "A", p: float = 0.9, second: str | None = None, q: float = 0.0):
        self.calls, self.sizes, self.char, self.p, self.second, self.q = 0, [], char, p, second, q

    def predict_proba(self, crops):
        self.calls += 1
        self.sizes.append(len(crops))
        out = np.full((len(crops), 36), (1 - self.p - self.q) / 34, np.float32)
        out[:, CLASSES.index(self.char)] = self.p
        if self.second:
            out[:, CLASSES.index(self.second)] = self.q
        return out


def test_one_batched_call_and_boxes_in_input_coordinates():
    img = draw_plate("AB1234")
    big = cv2.resize(img, None, fx=3, fy=3)  # taller than MAX_HEIGHT: read downscaled
    stub = CountingStub()
    r = recognize_plate(big, stub)
    assert stub.calls == 1
    assert isinstance(r, PlateText) and r.text == "AAAAAA"
    assert r.probs.shape == (6, 36)
    xs = [c[2][0] for c in r.chars]
    assert xs == sorted(xs)
    small = recognize_plate(img, CountingStub())
    for (_, _, bb), (_, _, bs) in zip(r.chars, small.chars):
        assert abs(bb[0] - 3 * bs[0]) <= 9 and abs(bb[3] - 3 * bs[3]) <= 9


def test_region_applies_and_is_validated():
    img = draw_plate("ABC1234", size=(90, 360), scale=1.9)
    stub = CountingStub("8", 0.5, second="B", q=0.45)  # every glyph an 8 that might be a B
    # without a region, the layouts of real plates settle the look-alikes ...
    assert recognize_plate(img, stub).text == "BBB8888"
    # ... unless the classifier is sure
    assert recognize_plate(img, CountingStub("8", 0.9, second="B", q=0.01)).text == "8888888"
    r = recognize_plate(img, stub, region="br")
    assert r.text == "BBB8888" and r.pattern == "LLLNNNN"
    with pytest.raises(ValueError, match="unknown region"):
        recognize_plate(draw_plate("AB12"), CountingStub(), region="nowhere")


def test_not_a_plate_gives_none():
    assert recognize_plate(np.full((60, 200, 3), 200, np.uint8), CountingStub()) is None
    # Too few characters: no reading, or (from clutter around them) a far weaker one
    # than a real plate's, even from a classifier that is sure of everything.
    real = recognize_plate(draw_plate("AB1234"), CountingStub())
    few = recognize_plate(draw_plate("AB", size=(90, 200)), CountingStub())
    assert few is None or few.confidence < 0.5 * real.confidence
    with pytest.raises(ValueError):
        recognize_plate(np.zeros((2, 2), np.uint8), CountingStub())


def test_confidence_is_bounded_and_punishes_doubt():
    hi = plate_confidence(np.array([0.99] * 7), 1.0)
    one_bad = plate_confidence(np.array([0.99] * 6 + [0.3]), 1.0)
    poor_seg = plate_confidence(np.array([0.99] * 7), 0.3)
    assert 0.0 <= one_bad < 0.7 * hi and 0.0 <= poor_seg < 0.7 * hi and hi <= 1.0


@pytest.fixture(scope="module")
def classifier():
    from anpr.classify import CharClassifier

    try:
        return CharClassifier()
    except Exception as e:  # the model file ships with the package; say so if absent
        pytest.skip(f"no character model: {e}")


def _sample(data_dir, kind, n):
    rows = list(csv.DictReader(open(data_dir / "plates" / kind / "labels.csv")))
    step = len(rows) // n
    return [(cv2.imread(str(data_dir / "plates" / kind / r["image"])), r["plate"]) for r in rows[::step][:n]]


def _same(a, b):
    return a.replace("O", "0") == b.replace("O", "0")


def test_reads_real_brazilian_crops(data_dir, classifier):
    hits = 0
    for img, label in _sample(data_dir, "br", 10):
        r = recognize_plate(img, classifier, region="br")
        hits += r is not None and _same(r.text, label)
    assert hits >= 8


def test_reads_real_us_crops(data_dir, classifier):
    hits = 0
    for img, label in _sample(data_dir, "us", 10):
        r = recognize_plate(img, classifier)
        hits += r is not None and _same(r.text, label)
    assert hits >= 5


def test_real_plate_outranks_non_plate(data_dir, classifier):
    img, _ = _sample(data_dir, "br", 1)[0]
    plate = recognize_plate(img, classifier, region="br")
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, img.shape, dtype=np.uint8)
    other = recognize_plate(noise, classifier)
    assert plate is not None and plate.confidence > 0.5
    assert other is None or other.confidence < plate.confidence - 0.2


def test_two_row_plate_is_read_top_row_first():
    img = np.full((120, 160), 225, np.uint8)
    cv2.rectangle(img, (2, 2), (157, 117), 25, 2)
    cv2.putText(img, "AB", (45, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 25, 4, cv2.LINE_AA)
    cv2.putText(img, "1234", (22, 102), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 25, 4, cv2.LINE_AA)
    # The stub's probabilities mean nothing to the chooser: keep the most confident reading.
    r = recognize_plate(img, CountingStub(), chooser=False)
    assert r.rows == [2, 4] and len(r.text) == 6
    ys = [c[2][1] for c in r.chars]
    assert max(ys[:2]) < min(ys[2:])


def test_reads_the_letter_i_of_real_crops_without_region(data_dir, classifier):
    # Brazilian plates draw I and 1 as the same plain bar; without a region the
    # plate formats of all regions still tell the letter (LIL-NNNN: L1L fits none).
    rows = [r for r in csv.DictReader(open(data_dir / "plates" / "br" / "labels.csv")) if r["plate"][1] == "I"]
    hits = 0
    for r in rows[::3][:10]:
        img = cv2.imread(str(data_dir / "plates" / "br" / r["image"]))
        got = recognize_plate(img, classifier)
        hits += got is not None and _same(got.text, r["plate"])
    assert hits >= 7


def test_plate_readings_are_every_hypothesis_with_boxes_in_input_coordinates():
    from anpr.classify import CharClassifier
    from anpr.recognize import plate_readings

    img = cv2.resize(draw_plate("AB1234"), None, fx=3, fy=3)  # read downscaled, boxes scaled back
    clf = CharClassifier()
    reads = plate_readings(img, clf)
    chosen = recognize_plate(img, clf, chooser=False)
    assert reads and chosen is not None
    for text, boxes in reads:
        assert len(boxes) == len(text) >= 4
        assert all(0 <= x and x + w <= img.shape[1] + 3 and 0 <= y and y + h <= img.shape[0] + 3
                   for x, y, w, h in boxes)
    # the reading recognize_plate keeps is one of them, its boxes the same
    texts = [t for t, _ in reads]
    assert chosen.text in texts
    assert [b for _, _, b in chosen.chars] == reads[texts.index(chosen.text)][1]
    assert plate_readings(np.full((40, 120), 255, np.uint8), clf) == []
    with pytest.raises(ValueError, match="at least 4x4"):
        plate_readings(np.zeros((2, 50), np.uint8), clf)

"""Character segmentation on synthetic plates and on real crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from anpr.segment import cut_chars, find_segmentations, segment_plate


def draw_plate(text: str, dark_on_light: bool = True, size=(90, 300), scale=2.0, thick=5, tilt=0.0, gradient=False):
    """A plate-like image: a border frame and ``text`` in a plain font."""
    h, w = size
    bg, fg = (225, 25) if dark_on_light else (30, 230)
    img = np.full((h, w), bg, np.uint8)
    cv2.rectangle(img, (2, 2), (w - 3, h - 3), fg, 2)  # the plate frame
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    cv2.putText(img, text, ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, fg, thick, cv2.LINE_AA)
    if tilt:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
        img = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if gradient:  # a shadow darkening one side
        ramp = np.linspace(0.35, 1.0, w, dtype=np.float32)[None, :]
        img = (img.astype(np.float32) * ramp).astype(np.uint8)
    return img


@pytest.mark.parametrize("dark", [True, False])
@pytest.mark.parametrize("text", ["AB123", "7XK4", "H2O9PQ"])
def test_count_and_order_both_polarities(text, dark):
    img = draw_plate(text, dark_on_light=dark)
    boxes = segment_plate(img)
    assert len(boxes) == len(text)
    xs = [b[0] for b in boxes]
    assert xs == sorted(xs)
    # every box lies inside the plate and no two boxes overlap much
    for (x, y, w, h), (x2, _, w2, _) in zip(boxes, boxes[1:]):
        assert x + w <= x2 + 0.3 * min(w, w2)
    assert all(0 <= x and 0 <= y and x + w <= img.shape[1] and y + h <= img.shape[0] for x, y, w, h in boxes)


def test_bgr_input_and_box_coordinates_follow_input_size():
    small = cv2.cvtColor(draw_plate("KL55", size=(60, 200), scale=1.3, thick=3), cv2.COLOR_GRAY2BGR)
    big = cv2.resize(small, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    bs, bb = segment_plate(small), segment_plate(big)
    assert len(bs) == len(bb) == 4
    # boxes scale with the image: ~3x the x positions
    for (xs, *_), (xb, *_) in zip(bs, bb):
        assert abs(3 * xs - xb) <= 8


def test_uneven_light_and_tilt():
    img = draw_plate("RT8830", gradient=True, tilt=4)
    assert len(segment_plate(img)) == 6


def test_separator_and_bolts_are_not_characters():
    img = draw_plate("ABC 123")
    cv2.circle(img, (20, 12), 4, 25, -1)  # bolts near the corners
    cv2.circle(img, (280, 12), 4, 25, -1)
    cv2.rectangle(img, (146, 44), (154, 48), 25, -1)  # a dash between the groups
    assert len(segment_plate(img)) == 6


def test_touching_characters_are_split():
    img = np.full((90, 300), 225, np.uint8)
    x = 40
    for ch in "AB8D":  # drawn one by one, overlapping their neighbours a little
        cv2.putText(img, ch, (x, 68), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 25, 6, cv2.LINE_AA)
        x += 34
    stats = cv2.connectedComponentsWithStats((img < 128).astype(np.uint8))[2]
    assert (stats[1:, 2] > 80).any()  # really touching
    assert len(segment_plate(img)) == 4


def test_blank_and_noise_score_below_a_plate():
    assert segment_plate(np.full((60, 200), 128, np.uint8)) == []
    rng = np.random.default_rng(0)
    plate = find_segmentations(draw_plate("AB123"))[0].score
    for _ in range(3):
        segs = find_segmentations(rng.integers(0, 255, (60, 200), dtype=np.uint8))
        assert not segs or segs[0].score < 0.75 * plate


def test_hypotheses_ranked_and_distinct():
    segs = find_segmentations(draw_plate("AB123"), max_results=5)
    assert segs and len(segs[0].boxes) == 5
    scores = [s.score for s in segs]
    assert scores[0] == max(scores)  # best first (the other polarity's best may follow out of order)
    assert len({tuple(s.boxes) for s in segs}) == len(segs)
    assert all(0.0 <= s.score <= 1.0 for s in segs)


def test_cut_chars_pads_and_clips():
    img = np.arange(50 * 100, dtype=np.int64).reshape(50, 100).astype(np.uint8)
    crops = cut_chars(img, [(0, 0, 10, 40), (90, 10, 10, 40)], pad=0.1)
    assert crops[0].shape == (44, 14)  # clipped at the top-left corner
    assert crops[1].shape == (44, 14)  # clipped at the right edge and the bottom
    with pytest.raises(ValueError, match="no area"):
        cut_chars(img, [(1, 1, 0, 5)])
    with pytest.raises(ValueError, match="outside"):
        cut_chars(img, [(200, 1, 5, 5)])


@pytest.mark.parametrize("bad", [np.zeros((2, 50), np.uint8), np.zeros((20, 20, 2), np.uint8), np.zeros(5)])
def test_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        segment_plate(bad)


def test_real_brazilian_crops_have_seven_characters(data_dir):
    import csv

    rows = list(csv.DictReader(open(data_dir / "plates" / "br" / "labels.csv")))[:40]
    hits = sum(len(segment_plate(cv2.imread(str(data_dir / "plates" / "br" / r["image"])))) == 7 for r in rows)
    assert hits >= 30, hits  # 32 when written; the misses are faint, blurred plates


def test_two_row_plate_reads_top_row_first():
    img = np.full((120, 160), 225, np.uint8)
    cv2.rectangle(img, (2, 2), (157, 117), 25, 2)
    cv2.putText(img, "AB", (45, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 25, 4, cv2.LINE_AA)
    cv2.putText(img, "1234", (22, 102), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 25, 4, cv2.LINE_AA)
    two = [s for s in find_segmentations(img, 4) if s.rows == [2, 4]]
    assert two, "no two-row hypothesis"
    boxes = two[0].boxes
    assert all(b[1] + b[3] <= 60 for b in boxes[:2]) and all(b[1] >= 60 for b in boxes[2:])
    assert [b[0] for b in boxes[2:]] == sorted(b[0] for b in boxes[2:])


def test_single_row_plates_get_no_second_row():
    for text in ("AB123", "7XK4"):
        assert all(len(s.rows) == 1 for s in find_segmentations(draw_plate(text), 5))


def test_score_boxes_matches_segmentation_scores_and_validates():
    from anpr.segment import score_boxes

    img = np.full((60, 200), 230, np.uint8)
    cv2.putText(img, "AB12", (20, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 20, 4)
    seg = find_segmentations(img)[0]
    # Work-image scaling rounds boxes, so the score agrees closely, not bit for bit.
    assert abs(score_boxes(seg.boxes, img.shape[0]) - seg.score) < 0.1
    row = [(10 + 14 * i, 10, 10, 20) for i in range(6)]
    assert score_boxes(row, 40) > score_boxes(row[:5] + [(94, 4, 3, 32)], 40)
    assert score_boxes([], 40) == 0.0
    with pytest.raises(ValueError, match="height"):
        score_boxes(row, 0)


def test_trim_keeps_a_broad_end_glyph_but_drops_a_tall_bar():
    from anpr.segment import _trim

    binary = np.zeros((60, 200), np.uint8)
    boxes = []
    for x in (40, 60, 80, 100, 120):  # ring-shaped "glyphs" 12 x 30, strokes 3 wide
        cv2.rectangle(binary, (x, 15), (x + 11, 44), 255, 3)
        boxes.append([x, 14, 13, 32])
    color = binary[:, :, None].astype(np.float32)
    broad = [6, 12, 22, 36]  # a W or M with a bolt touching it: 1.7x wide, 1.13x tall
    cv2.rectangle(binary, (6, 13), (27, 47), 255, 3)
    kept, _ = _trim([broad] + boxes, binary, color)
    assert kept[0] == broad
    bar = [142, 11, 4, 37]  # the frame edge: a bar 1.16x as tall
    binary[11:48, 142:146] = 255
    kept, _ = _trim(boxes + [bar], binary, color)
    assert bar not in kept and len(kept) == 5


def test_free_glyph_cuts_a_touching_sticker_off_within_the_row():
    from anpr.segment import _free_glyph, _Line

    line = _Line(0.0, 20.0, 60.0)  # a row 40 px tall
    band = np.zeros((80, 120), np.uint8)
    band[20:60, 40:44] = 255  # an "N": two stems and a diagonal
    band[20:60, 60:64] = 255
    for k in range(40):
        band[20 + k, 40 + k // 2 : 44 + k // 2] = 255
    glyph = [40, 20, 24, 40]
    assert _free_glyph(band, line, glyph) == glyph  # no taller than the row: as boxed
    band[16:21, 25:50] = 255  # a sticker's lower edge, touching the N's top
    # Its columns left of the N go; its last rows, within the row's margin, stay.
    assert _free_glyph(band, line, [25, 16, 39, 44]) == [40, 18, 24, 42]
    band[59:70, 60:80] = 255  # and a picture under the N's foot, sticking out right
    assert _free_glyph(band, line, [25, 16, 55, 54]) == [40, 18, 24, 44]

"""The data engine's synthetic plates: deterministic, boxes on the drawn glyphs."""

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from anpr.normalize import CLASSES
from anpr.train.plates import contact_sheet, glyph_crops, random_text, synth_plate, synth_plates


def test_same_seed_same_plates_other_seed_other_plates():
    a, b, c = (list(synth_plates(5, seed=s)) for s in (3, 3, 4))
    assert [p.text for p in a] == [p.text for p in b]
    assert all(np.array_equal(p.image, q.image) and p.boxes == q.boxes for p, q in zip(a, b))
    assert [p.text for p in a] != [p.text for p in c]


def test_boxes_are_ordered_inside_the_plate_and_apart():
    for p in synth_plates(40, seed=1):
        h, w = p.image.shape[:2]
        assert len(p.boxes) == len(p.text) >= 5
        assert all(ch in CLASSES for ch in p.text)
        xs = [x for x, y, bw, bh in p.boxes]
        assert xs == sorted(xs)
        for x, y, bw, bh in p.boxes:
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw >= 1 and bh >= 8
        # neighbours overlap by less than a third of the narrower box
        for (x0, _, w0, _), (x1, _, w1, _) in zip(p.boxes, p.boxes[1:]):
            assert (x0 + w0) - x1 < min(w0, w1) / 3


def test_boxes_hold_the_glyphs_they_name():
    """The shipped character model reads the crops cut at the boxes as their labels."""
    from anpr.classify import CharClassifier

    crops, labels = [], []
    for p in synth_plates(30, seed=2):
        for crop, label in glyph_crops(p):
            crops.append(crop)
            labels.append(label)
    pred = CharClassifier().predict_proba(crops).argmax(axis=1)
    fold = {CLASSES.index("O"): CLASSES.index("0"), CLASSES.index("I"): CLASSES.index("1")}
    same = [fold.get(int(a), int(a)) == fold.get(b, b) for a, b in zip(pred, labels)]
    assert np.mean(same) > 0.85
    # ...and crops shifted by half a glyph do not read as their labels
    shifted = []
    for p in synth_plates(10, seed=2):
        from anpr.segment import cut_chars

        moved = [(x + bw // 2 + 1, y, bw, bh) for x, y, bw, bh in p.boxes[:-1]]
        shifted += list(zip(cut_chars(p.image, moved), [CLASSES.index(c) for c in p.text[:-1]]))
    pred = CharClassifier().predict_proba([c for c, _ in shifted]).argmax(axis=1)
    assert np.mean([int(a) == b for a, (_, b) in zip(pred, shifted)]) < 0.5


def test_layouts_and_sheet():
    rng = np.random.default_rng(0)
    assert random_text("NNN LLL", rng)[3] == " "
    with pytest.raises(ValueError):
        random_text("NX", rng)
    with pytest.raises(ValueError):
        list(synth_plates(-1))
    p = synth_plate(np.random.default_rng(0), layouts=("LLL NNNN",))
    assert p.text[:3].isalpha() and p.text[3:].isdigit()
    sheet = contact_sheet(list(synth_plates(7, seed=0)), cols=3)
    assert sheet.shape == (3 * 160, 3 * 250, 3)


def test_synth_plates_command_writes_a_plates_folder(tmp_path):
    from anpr.cli import main

    out = tmp_path / "synth"
    r = CliRunner().invoke(main, ["synth-plates", "--out", str(out), "-n", "6", "--seed", "1"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(open(out / "labels.csv")))
    assert len(rows) == 6 and all((out / row["image"]).exists() for row in rows)
    assert (out / "sheet.png").exists() and (out / "boxes.json").exists()
    assert [row["plate"] for row in rows] == [p.text for p in synth_plates(6, seed=1)]


@pytest.mark.parametrize("style, layouts", [("ar", {"LLLNNN"}), ("mercosur", {"LLNNNLL", "LLLNLNN"})])
def test_south_american_styles_draw_their_layouts_with_exact_boxes(style, layouts):
    import re

    from anpr.decode import layout_of
    from anpr.train.plates import plate_fonts, synth_plate

    rng = np.random.default_rng(5)
    for _ in range(6):
        p = synth_plate(rng, None, plate_fonts(), style=style)
        assert layout_of(p.text) in layouts and re.fullmatch("[0-9A-Z]+", p.text)
        h, w = p.image.shape[:2]
        assert len(p.boxes) == len(p.text)
        assert all(0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0 for x, y, bw, bh in p.boxes)
        xs = [x for x, _, _, _ in p.boxes]
        assert xs == sorted(xs)


def test_synth_plates_mixes_styles_by_share():
    from anpr.train.plates import synth_plates

    texts = [p.text for p in synth_plates(40, seed=1, south_share=1.0)]
    assert all(len(t) in (6, 7) for t in texts)
    # Without a south share, the stream is the one earlier runs drew.
    assert [p.text for p in synth_plates(5, seed=2)] == [p.text for p in synth_plates(5, seed=2, south_share=0.0)]
    with pytest.raises(ValueError, match="at most 1"):
        list(synth_plates(1, eu_share=0.6, south_share=0.6))

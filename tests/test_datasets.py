"""Loading class-folder trees and plate crops, and the grouped split."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from anpr.normalize import CLASSES  # noqa: E402
from anpr.train import datasets as ds  # noqa: E402


def glyph(ch: str, h: int = 40, w: int = 26) -> np.ndarray:
    img = np.full((h, w), 230, np.uint8)
    cv2.putText(img, ch, (2, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    return img


def make_tree(root, layout: dict[str, dict[str, int]]):
    """``{source: {class: n}}``; source "" means class folders directly under root."""
    for src, counts in layout.items():
        for ch, n in counts.items():
            d = root / src / ch if src else root / ch
            d.mkdir(parents=True, exist_ok=True)
            for k in range(n):
                cv2.imwrite(str(d / f"{src or 'x'}-{k:05d}.png"), glyph(ch))
    return root


def test_flat_class_tree(tmp_path):
    root = make_tree(tmp_path / "flat", {"": {"A": 3, "7": 2}})
    (root / "A" / "notes.txt").write_text("not an image")
    (root / "A" / "broken.png").write_bytes(b"")
    data = ds.load_class_folders(root)
    assert len(data) == 5
    assert sorted(CLASSES[i] for i in data.labels) == ["7", "7", "A", "A", "A"]
    assert set(data.sources) == {"flat"}
    assert all(c.ndim == 2 for c in data.crops)


def test_sources_and_thesis_layout(tmp_path):
    make_tree(tmp_path / "chars", {"gb": {"A": 2, "B": 1}, "br": {"0": 4}})
    make_tree(tmp_path / "thesis", {"train": {"K": 3}, "test": {"K": 1}})
    data = ds.load_many([tmp_path / "chars", tmp_path / "thesis"])
    assert data.counts() == {"br": {"0": 4}, "gb": {"A": 2, "B": 1}, "test": {"K": 1}, "train": {"K": 3}}


def test_lowercase_class_folders_are_accepted(tmp_path):
    make_tree(tmp_path, {"": {"a": 2}})
    assert [CLASSES[i] for i in ds.load_class_folders(tmp_path).labels] == ["A", "A"]


def test_no_class_folders_is_a_valueerror(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class folders"):
        ds.load_class_folders(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        ds.load_class_folders(tmp_path / "missing")


def test_sheet_groups_keep_neighbours_together():
    g = [ds.sheet_group("gb", "A", f"gb-{k:05d}.png", block=25) for k in range(100)]
    assert len(set(g)) == 4 and g[0] == g[24] != g[25]


def test_split_is_grouped_deterministic_and_disjoint():
    data = ds.CharSet()
    for k in range(2000):
        data.add(np.zeros((4, 4), np.uint8), k % 36, "s", f"g{k // 7}", f"p{k}")
    rest, test = ds.grouped_split(data, 0.2)
    assert len(rest) + len(test) == 2000
    assert not set(rest.groups) & set(test.groups)
    assert 0.1 < len(test) / 2000 < 0.3
    rest2, test2 = ds.grouped_split(data, 0.2)
    assert test2.paths == test.paths
    # a group's side does not depend on what else is loaded
    alone = ds.CharSet()
    alone.add(np.zeros((4, 4), np.uint8), 0, "s", test.groups[0], "x")
    assert len(ds.grouped_split(alone, 0.2)[1]) == 1


def test_train_val_split_is_grouped_and_seeded():
    groups = [f"g{k // 5}" for k in range(500)]
    tr, va = ds.train_val_split(groups, 0.2, seed=3)
    assert len(tr) + len(va) == 500 and abs(len(va) - 100) <= 5
    assert not {groups[i] for i in tr} & {groups[i] for i in va}
    tr2, va2 = ds.train_val_split(groups, 0.2, seed=3)
    assert (va == va2).all()


def test_bad_test_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        ds.is_test_group("g", 1.5)


def test_plate_crops_keep_only_exact_segmentations(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((30, 90, 3), 200, np.uint8))
    (tmp_path / "labels.csv").write_text("image,plate,region\na.png,AB1,x\nb.png,XY,x\nc.png,Q9,x\n")

    def segment(img):  # three boxes for every plate
        return [(0, 0, 30, 30), (30, 0, 30, 30), (60, 0, 30, 30)]

    def cut(img, boxes):
        return [img[y : y + h, x : x + w] for x, y, w, h in boxes]

    data, stats = ds.plate_crops(tmp_path, segment, cut, source="plates/t")
    assert stats == {"plates": 3, "kept": 1, "crops": 3}
    assert [CLASSES[i] for i in data.labels] == ["A", "B", "1"]
    assert set(data.groups) == {"plate:plates/t:AB1"}


def test_plate_crops_are_tested_exactly_on_the_check_part():
    from anpr.split import part_of

    texts = [f"AB{i:03d}" for i in range(200)]
    tested = [ds.is_test_group(ds.plate_group("plates/us", t)) for t in texts]
    assert tested == [part_of(t) == "check" for t in texts]
    assert 20 < sum(tested) < 60


def test_scene_folders_give_their_plates_cut_at_the_boxes(tmp_path):
    scenes = tmp_path / "scenes" / "zz"
    scenes.mkdir(parents=True)
    photo = np.full((200, 300, 3), 90, np.uint8)
    photo[100:130, 50:150] = 250  # the plate: 100 x 30 at (50, 100)
    cv2.imwrite(str(scenes / "car.png"), photo)
    (scenes / "labels.csv").write_text("image,x,y,w,h,plate\ncar.png,50,100,100,30,AB-12\n")
    [(path, img, text)] = list(ds.labelled_plates(scenes))
    m = ds.SCENE_MARGIN
    assert path.name == "car.png" and text == "AB12"
    assert img.shape[:2] == (30 + 2 * round(30 * m), 100 + 2 * round(100 * m))
    assert img[img.shape[0] // 2, img.shape[1] // 2].tolist() == [250, 250, 250]
    assert ds.plate_source(scenes) == "scenes/zz" and ds.plate_source(tmp_path / "x") == "plates/x"
    from anpr.split import part_of

    assert list(ds.labelled_plates(scenes, part=part_of("AB12")))
    assert not list(ds.labelled_plates(scenes, part="fit" if part_of("AB12") == "check" else "check"))


def test_real_scene_plates_feed_the_character_set(data_dir):
    data, stats = ds.plate_crops(data_dir / "scenes" / "br")
    assert stats["plates"] == 76 and stats["kept"] > 50 and set(data.sources) == {"scenes/br"}
    assert all(g.startswith("plate:scenes/br:") for g in data.groups)


def test_plate_labels_need_csv(tmp_path):
    with pytest.raises(ValueError, match="labels.csv"):
        ds.read_plate_labels(tmp_path)


def test_real_chars_tree_loads(data_dir):
    data = ds.load_class_folders(data_dir / "chars" / "netherlands")
    assert len(data) > 500 and set(data.sources) == {"netherlands"}
    x, y = ds.to_arrays(data.subset(np.arange(len(data)) < 50))
    assert x.shape == (50, 28, 28, 1) and y.shape == (50,)


def _drawn_plate(text: str = "AB12", h: int = 160, pitch: int = 70):
    """A light plate with dark glyphs at known boxes."""
    img = np.full((h, pitch * len(text) + 20, 3), 215, np.uint8)
    boxes = []
    for k, ch in enumerate(text):
        x0 = 10 + k * pitch + 8
        cv2.putText(img, ch, (x0, 125), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (25, 25, 25), 8)
        ink = np.argwhere(img[:, x0 - 8 : x0 + pitch - 8, 0] < 128)
        (y0, xa), (y1, xb) = ink.min(0), ink.max(0)
        boxes.append((x0 - 8 + int(xa), int(y0), int(xb - xa + 1), int(y1 - y0 + 1)))
    return img, boxes


def test_far_copy_is_a_small_plate_whose_boxes_still_hold_the_glyphs():
    img, boxes = _drawn_plate()
    for seed in range(20):
        small, scaled = ds.far_copy(img, boxes, np.random.default_rng(seed))
        assert ds.FAR_HEIGHT[0] - 1 <= small.shape[0] <= ds.FAR_HEIGHT[1] + 1
        assert small.shape[2] == 3 and len(scaled) == len(boxes)
        gray = small[..., 0].astype(float)
        dark = gray < (gray.max() + gray.min()) / 2
        inside = np.zeros_like(dark)
        for x, y, w, h in scaled:
            inside[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1] = True
        # Every glyph's box holds ink, and nearly all the ink lies in a box.
        assert all(dark[y : y + h, x : x + w].any() for x, y, w, h in scaled)
        assert dark[inside].sum() >= 0.97 * dark.sum()


def test_far_copy_never_enlarges_a_plate_already_far():
    img, boxes = _drawn_plate(h=160)
    small = cv2.resize(img, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    far, scaled = ds.far_copy(small, [(1, 1, 5, 10)], np.random.default_rng(0))
    assert far.shape == small.shape and scaled == [(1, 1, 5, 10)]


def test_far_copies_are_training_crops_drawn_the_same_every_run(tmp_path):
    from anpr.split import part_of

    fit_text = next(t for t in (f"AB{i:02d}" for i in range(100)) if part_of(t) == "fit")
    check_text = next(t for t in (f"AB{i:02d}" for i in range(100)) if part_of(t) == "check")
    img, boxes = _drawn_plate(fit_text)
    cv2.imwrite(str(tmp_path / "fit.png"), img)
    cv2.imwrite(str(tmp_path / "check.png"), img)
    (tmp_path / "labels.csv").write_text(f"image,plate,region\nfit.png,{fit_text},x\ncheck.png,{check_text},x\n")

    def run():
        return ds.plate_crops(tmp_path, lambda im: boxes, source="plates/t", far_copies=2)

    (a, stats), (b, _) = run(), run()
    assert stats == {"plates": 2, "kept": 2, "crops": 8, "far_crops": 8}
    far = [i for i, s in enumerate(a.sources) if s == "plates/t/far"]
    assert len(far) == 8 and {a.groups[i] for i in far} == {ds.plate_group("plates/t", fit_text)}
    assert [CLASSES[a.labels[i]] for i in far] == list(fit_text) * 2
    assert all(np.array_equal(a.crops[i], b.crops[i]) for i in range(len(a)))
    assert all(np.asarray(a.crops[i]).shape[0] < 60 for i in far)

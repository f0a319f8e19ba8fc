"""Plate proposal, cheap scoring and rectification (anpr.localize)."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from anpr import geometry as G  # noqa: E402
from anpr import localize as L  # noqa: E402
from anpr.numeric import fit_line, median  # noqa: E402
from conftest import read_labels  # noqa: E402


def synthetic_scene(angle: float = 0.0, text: str = "AB 1234") -> tuple[np.ndarray, tuple]:
    """A gray 'car' with a light plate of dark glyphs, rotated by ``angle`` degrees."""
    img = np.full((360, 480), 80, np.uint8)
    cv2.rectangle(img, (60, 60), (420, 300), 110, -1)  # body
    x, y, w, h = 170, 170, 150, 38
    cv2.rectangle(img, (x, y), (x + w, y + h), 235, -1)
    cv2.putText(img, text, (x + 8, y + 29), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 20, 2)
    if angle:
        M = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), angle, 1.0)
        img = cv2.warpAffine(img, M, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return img, (x, y, w, h)


def on_plate(cand: L.Candidate, box: tuple) -> bool:
    """The candidate's glyph row (or rectangle) sits on the labelled plate."""
    quad = cand.row if cand.row is not None else cand.corners
    cx, cy = np.mean(quad, axis=0)
    w, _ = G.quad_size(quad)
    x, y, bw, bh = box
    return x <= cx <= x + bw and y <= cy <= y + bh and 0.4 * bw <= w <= 1.6 * bw


def test_iou_and_matrix_agree():
    a = np.array([[0, 0, 10, 10], [5, 5, 10, 10]], float)
    b = np.array([[5, 0, 10, 10], [100, 100, 3, 3]], float)
    m = G.box_iou_matrix(a, b)
    for i in range(2):
        for j in range(2):
            assert m[i, j] == pytest.approx(G.iou(a[i], b[j]))
    assert G.iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def test_order_corners_puts_long_edge_on_top_left_to_right():
    # A tall rectangle whose long side is vertical is a plate turned by 90 degrees.
    pts = np.array([[0, 0], [4, 0], [4, 20], [0, 20]], float)
    c = L.order_corners(pts[[2, 0, 3, 1]])
    w, h = G.quad_size(c)
    assert w == pytest.approx(20) and h == pytest.approx(4)


def test_plate_like_rejects_wrong_shapes():
    assert L.plate_like(120, 30, 800, 600)
    assert not L.plate_like(30, 30, 800, 600)  # square
    assert not L.plate_like(300, 20, 800, 600)  # too long
    assert not L.plate_like(10, 4, 800, 600)  # too small
    assert not L.plate_like(700, 100, 800, 600)  # most of the photo


def test_default_widths():
    assert L.default_widths(300) == [300]
    assert max(L.default_widths(4000)) <= 1280
    with pytest.raises(ValueError):
        L.default_widths(0)


def test_propose_finds_a_synthetic_plate_and_ranks_it_first():
    img, box = synthetic_scene()
    cands = L.find_candidates(img)
    assert cands, "no candidates"
    assert on_plate(cands[0], box)
    assert cands[0].polarity == "dark"
    assert cands[0].row is not None


@pytest.mark.parametrize("angle", [15.0, -20.0])
def test_tilted_plate_is_found_and_rectified_upright(angle):
    img, box = synthetic_scene(angle)
    best = L.find_candidates(img)[0]
    cx, cy = np.mean(best.row, axis=0)
    x, y, w, h = box
    assert abs(cx - (x + w / 2)) < 15 and abs(cy - (y + h / 2)) < 15
    # cv2 angles are counter-clockwise; image y runs down, so the top edge slopes by -angle.
    d = best.row[1] - best.row[0]
    assert np.degrees(np.arctan2(d[1], d[0])) == pytest.approx(-angle, abs=4)
    plate, _ = L.rectify(img, G.expand_corners(best.row, 0.05, 0.3))
    # Upright: dark glyph pixels form one horizontal band, not a slanted one.
    dark = plate < 128
    rows = np.flatnonzero(dark.mean(axis=1) > 0.05)
    assert rows.size and (rows.max() - rows.min()) < 0.9 * plate.shape[0]


def test_propose_on_flat_and_tiny_images():
    assert L.propose(np.full((200, 300), 128, np.uint8)) == []
    assert L.propose(np.zeros((4, 4), np.uint8)) == []
    with pytest.raises(ValueError):
        L.propose(np.zeros((50, 50), np.uint8), polarities=("both",))
    with pytest.raises(ValueError):
        L.propose(np.zeros((5, 5, 2), np.uint8))


def test_rectify_maps_back_to_the_image():
    img = np.random.default_rng(0).integers(0, 255, (120, 200), dtype=np.uint8)
    quad = np.array([[40, 30], [160, 50], [155, 80], [35, 60]], float)
    plate, M = L.rectify(img, quad)
    back = G.map_points(M, [[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]])
    assert np.allclose(back, quad, atol=1e-3)
    assert plate.shape[0] >= 40  # small plates are enlarged
    with pytest.raises(ValueError):
        L.rectify(img, np.zeros((4, 2)))


def test_merge_neighbours_joins_pieces_of_one_line():
    a = L.Candidate(np.array([[10, 10], [50, 10], [50, 30], [10, 30]], np.float32), (10, 10, 40, 20), "dark")
    b = L.Candidate(np.array([[60, 11], [120, 11], [120, 31], [60, 31]], np.float32), (60, 11, 60, 20), "dark")
    far = L.Candidate(np.array([[300, 10], [340, 10], [340, 30], [300, 30]], np.float32), (300, 10, 40, 20), "dark")
    merged = L.merge_neighbours([a, b, far], 640, 480)
    assert any(m.box[0] <= 11 and m.box[0] + m.box[2] >= 119 and m.box[2] < 200 for m in merged)
    assert not any(m.box[0] + m.box[2] >= 300 for m in merged)


def test_labelled_plates_are_among_the_candidates(data_dir):
    # A few real photos per country: the labelled plate must be proposed.
    for country in ("us", "eu", "br"):
        rows = read_labels(data_dir / "scenes" / country / "labels.csv")[:4]
        for r in rows:
            img = cv2.imread(str(data_dir / "scenes" / country / r["image"]), cv2.IMREAD_GRAYSCALE)
            box = tuple(int(r[k]) for k in "xywh")
            cands = L.find_candidates(img)
            assert any(on_plate(c, box) for c in cands), (country, r["image"])


def test_order_corners_matches_a_plain_rotation_for_every_start():
    # Every rotation and reflection of one rectangle's corners gives the same order.
    rect = np.array([[10, 5], [50, 8], [49, 20], [9, 17]], np.float32)
    want = L.order_corners(rect)
    for k in range(4):
        got = L.order_corners(np.roll(rect, k, axis=0))
        assert got.dtype == np.float32 and np.array_equal(got, want)
        assert np.array_equal(L.order_corners(np.roll(rect[::-1], k, axis=0)), want)


def test_find_candidates_scores_only_the_largest_proposals():
    img = np.full((300, 600), 200, np.uint8)
    for i in range(12):  # twelve text lines of growing size
        x, y = 20 + (i % 4) * 140, 50 + (i // 4) * 90
        cv2.putText(img, f"AB{i}23", (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5 + 0.05 * i, 20, 2)
    all_ = L.find_candidates(img, max_scored=None)
    some = L.find_candidates(img, max_scored=5)
    assert len(all_) > 5 and len(some) == 5
    area = sorted((np.prod(c.size) for c in all_), reverse=True)
    assert sorted(np.prod(c.size) for c in some) == sorted(area[:5])
    with pytest.raises(ValueError, match="max_scored"):
        L.find_candidates(img, max_scored=0)


# ----------------------------------------------------------------------------- fast paths
# The proposer and the cheap score take shortcuts (batched corner maths, shared
# morphology, plain-float statistics) that must give exactly what the plain NumPy /
# OpenCV formulation gives: these compare the two bit for bit.


def _random_rects(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    rects = []
    for _ in range(n):
        h = rng.uniform(3, 120)
        aspect = rng.uniform(0.5, 1.5) if rng.random() < 0.5 else rng.uniform(1.2, 10)
        angle = float(rng.integers(-90, 91)) if rng.random() < 0.3 else rng.uniform(-90, 90)
        size = (h * aspect, h) if rng.random() < 0.5 else (h, h * aspect)
        rects.append(((rng.uniform(-20, 2000), rng.uniform(-20, 1500)), size, angle))
    return rects


def test_batched_corner_maths_equals_one_rectangle_at_a_time():
    rects = _random_rects(3000)
    s = 400 / 1920
    pts = np.stack([cv2.boxPoints(r) for r in rects]) / s
    many = L.order_corners_many(pts)
    tilt_ok = L._tilt_ok(many)
    boxes = L.bounding_boxes_many(many, (1500, 2000))
    for i, p in enumerate(pts):
        one = L.order_corners(p)
        assert many[i].dtype == one.dtype and np.array_equal(many[i], one)
        d = one[1] - one[0]
        assert bool(tilt_ok[i]) == (not abs(np.degrees(np.arctan2(d[1], d[0]))) > L.MAX_TILT)
        assert boxes[i] == G.bounding_box(one, (1500, 2000))
    up = L._upright_corners_many(pts)
    assert up.dtype == np.float32 and up.shape == pts.shape
    # The top edge of an upright box is its most horizontal one.
    e = np.roll(up, -1, axis=1) - up
    cos = e[..., 0] / np.hypot(e[..., 0], e[..., 1])
    assert np.array_equal(cos.argmax(axis=1), np.zeros(len(up), int))


def test_quad_size_is_the_norm_of_its_edges():
    rng = np.random.default_rng(1)
    for q in rng.uniform(-500, 2500, (2000, 4, 2)):
        w = float(np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
        h = float(np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
        assert G.quad_size(q) == (w, h)


def test_candidate_size_follows_new_corners():
    c = L.Candidate(np.array([[0, 0], [10, 0], [10, 4], [0, 4]], np.float32), (0, 0, 10, 4), "dark")
    assert c.size == (10.0, 4.0)
    c.corners = np.array([[0, 0], [20, 0], [20, 5], [0, 5]], np.float32)
    assert c.size == (20.0, 5.0)


def test_blobs_close_once_for_all_threshold_levels():
    # Closing and opening commute with a threshold: the shared gray morphology gives the
    # masks that thresholding first and closing and opening each level would.
    img, _ = synthetic_scene(10.0)
    hat = cv2.morphologyEx(img, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 7)))
    noise = np.random.default_rng(2).integers(0, 60, hat.shape).astype(np.uint8)
    for resp in (hat, cv2.add(hat, noise)):
        ck = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3))
        ok = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        shared = cv2.morphologyEx(cv2.morphologyEx(resp, cv2.MORPH_CLOSE, ck), cv2.MORPH_OPEN, ok)
        for level in (12.0, 20.5, 37.0, 80.0):
            one = cv2.threshold(resp, level, 255, cv2.THRESH_BINARY)[1]
            one = cv2.morphologyEx(cv2.morphologyEx(one, cv2.MORPH_CLOSE, ck), cv2.MORPH_OPEN, ok)
            assert np.array_equal(cv2.threshold(shared, level, 255, cv2.THRESH_BINARY)[1], one)


def test_glyph_statistics_helpers_equal_numpy():
    rng = np.random.default_rng(3)
    for _ in range(500):
        k = int(rng.integers(1, 30))
        v = rng.integers(0, 600, k) / 2.0
        assert L._std(v) == float(np.std(v))
        x, y = rng.integers(0, 512, k) + rng.integers(0, 9, k) / 2.0, rng.integers(0, 64, k) / 2.0
        if k >= 3 and np.ptp(x) > 0:
            assert np.array_equal(fit_line(x, y), np.polyfit(x, y, 1))
        assert median(list(v)) == float(np.median(v))
    for _ in range(50):
        patch = rng.integers(0, 256, (32, int(rng.integers(8, 300))), dtype=np.uint8)
        assert np.array_equal(cv2.bitwise_not(L._binarize(patch, "dark")), L._binarize(patch, "light"))


def test_glyph_stats_of_a_synthetic_row():
    patch = np.full((32, 200), 220, np.uint8)
    cv2.putText(patch, "AB1234", (6, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 20, 2)
    g = L.glyph_stats(patch, "dark")
    assert 5 <= g["n"] <= 7 and g["contrast"] > 0.5 and g["hstd"] < 0.2
    assert L.glyph_stats(patch, "light")["n"] <= 2

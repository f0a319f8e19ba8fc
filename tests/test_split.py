"""The fit/check split (anpr.split) and the benchmark's --part."""

from __future__ import annotations

from anpr.split import CHECK_PERCENT, group_key, part_of


def test_split_is_stable_grouped_and_about_the_right_size():
    keys = [f"PLATE{i}" for i in range(2000)]
    parts = [part_of(k) for k in keys]
    share = parts.count("check") / len(parts)
    assert abs(share - CHECK_PERCENT / 100) < 0.03
    assert parts == [part_of(k) for k in keys]  # the same on every call
    assert part_of(" plate7 ") == part_of("PLATE7")  # the key, not its spelling
    assert part_of("x", check_percent=0) == "fit" and part_of("x", check_percent=100) == "check"


def test_group_key_keeps_views_of_one_plate_together():
    assert group_key("eu/test_058.jpg", "rk485af") == group_key("other.jpg", "RK485AF") == "RK485AF"
    assert group_key("detect/openimages/0002a5b67e5f0909.jpg") == "0002a5b67e5f0909"
    assert group_key("a\\b\\c.png", "") == "c"


def test_benchmark_part_selects_disjoint_halves(data_dir):
    from anpr.benchmark import load_labels

    folder = data_dir / "scenes" / "eu"
    every = load_labels(folder, False)
    fit, check = load_labels(folder, False, "fit"), load_labels(folder, False, "check")
    assert len(fit) + len(check) == len(every) and check
    assert not {r["plate"] for r in fit} & {r["plate"] for r in check}

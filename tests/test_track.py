"""PlateTracker: grouping readings into vehicles and voting their text (no model)."""

import pytest

from anpr.track import PlateEvent, PlateTracker, edit_distance, vote, Reading


def feed(tracker, frames, fps=10.0):
    """frames: a list (one item per frame) of lists of (text, conf, box)."""
    events = []
    for k, plates in enumerate(frames):
        events += tracker.observe(plates, k / fps, k)
    return events + tracker.close()


BOX = (100, 100, 80, 20)


def moving(k, x0=100):
    return (x0 + 3 * k, 100 + k, 80 + k, 20)


def test_a_minority_misread_is_outvoted():
    texts = ["7ABC123"] * 7 + ["7A8C123", "1ABC123", "7ABC12"]
    events = feed(PlateTracker(), [[(t, 0.9, moving(k))] for k, t in enumerate(texts)])
    assert len(events) == 1
    e = events[0]
    assert e.text == "7ABC123" and e.frames == 10
    assert set(e.candidates) == {"7A8C123", "1ABC123", "7ABC12"}
    assert 0.5 < e.confidence <= 0.9


def test_votes_are_weighted_by_confidence():
    # Three unsure readings of a wrong character lose to two sure ones.
    texts = [("7ABC123", 0.95), ("7A8C123", 0.3), ("7A8C123", 0.3), ("7ABC123", 0.95), ("7A8C123", 0.3)]
    e = feed(PlateTracker(), [[(t, c, moving(k))] for k, (t, c) in enumerate(texts)])[0]
    assert e.text == "7ABC123"
    assert e.best_frame in (0, 3)


def test_two_cars_in_view_at_once_are_two_events():
    frames = [[("ABC1234", 0.9, moving(k, 50)), ("XYZ9876", 0.8, moving(k, 600))] for k in range(12)]
    events = feed(PlateTracker(), frames)
    assert sorted(e.text for e in events) == ["ABC1234", "XYZ9876"]
    assert all(e.frames == 12 for e in events)


def test_a_car_that_leaves_and_comes_back_after_the_gap_is_two_events():
    frames = [[("ABC1234", 0.9, BOX)]] * 10 + [[]] * 20 + [[("ABC1234", 0.9, BOX)]] * 10
    events = feed(PlateTracker(gap_s=1.5), frames)
    assert [e.text for e in events] == ["ABC1234", "ABC1234"]
    assert events[0].last_time_s == pytest.approx(0.9)
    assert events[1].first_time_s == pytest.approx(3.0)


def test_a_short_absence_within_the_gap_is_one_event():
    frames = [[("ABC1234", 0.9, BOX)]] * 10 + [[]] * 10 + [[("ABC1234", 0.9, BOX)]] * 10
    assert len(feed(PlateTracker(gap_s=1.5), frames)) == 1


def test_next_car_at_the_same_spot_is_a_new_event():
    frames = [[("ABC1234", 0.9, BOX)]] * 10 + [[("XYZ9876", 0.9, BOX)]] * 10
    events = feed(PlateTracker(), frames)
    assert [e.text for e in events] == ["ABC1234", "XYZ9876"]
    assert events[1].first_time_s == pytest.approx(1.0)


def test_a_plate_read_once_or_unsure_is_no_event():
    assert feed(PlateTracker(), [[("ABC1234", 0.95, BOX)]]) == []
    assert feed(PlateTracker(), [[("ABC1234", 0.3, BOX)]] * 10) == []
    assert len(feed(PlateTracker(min_frames=1), [[("ABC1234", 0.95, BOX)]])) == 1


def test_events_close_on_time_and_in_order():
    t = PlateTracker(gap_s=1.0)
    assert t.observe([("AAA111", 0.9, BOX)], 0.0) == []
    assert t.observe([("AAA111", 0.9, BOX)], 0.5) == []
    assert t.open_tracks == 1
    closed = t.observe([], 1.6)
    assert [e.text for e in closed] == ["AAA111"] and t.open_tracks == 0
    d = closed[0].to_dict()
    assert set(d) == {"text", "confidence", "first_time_s", "last_time_s", "frames", "best_frame", "box",
                      "candidates", "source"}


def test_keep_frames_gives_the_best_frame_image():
    t = PlateTracker(keep_frames=True)
    t.observe([("AAA111", 0.6, BOX)], 0.0, 0, image="frame0")
    t.observe([("AAA111", 0.9, BOX)], 0.1, 1, image="frame1")
    t.observe([("AAA111", 0.7, BOX)], 0.2, 2, image="frame2")
    (e,) = t.close()
    assert isinstance(e, PlateEvent) and e.best_frame == 1 and e.image == "frame1"


def test_vote_and_edit_distance_basics():
    assert edit_distance("ABC", "ABC") == 0 and edit_distance("ABC", "XBCD") == 2
    with pytest.raises(ValueError):
        vote([])
    assert vote([Reading("AB1", 1.0, BOX, 0, 0)])[0] == "AB1"


def test_bad_settings_are_refused():
    for kw in ({"gap_s": 0}, {"min_frames": 0}, {"min_confidence": 1.5}):
        with pytest.raises(ValueError):
            PlateTracker(**kw)


def test_a_partial_second_reading_of_the_same_plate_is_no_second_vehicle():
    frames = [[("RK855AP", 0.95, (100, 100, 120, 30)), ("855AP", 0.9, (140, 100, 80, 30))]] * 6
    events = feed(PlateTracker(), frames)
    assert [e.text for e in events] == ["RK855AP"]


def test_a_plate_cut_in_two_for_a_few_frames_is_still_one_vehicle():
    whole = [[("RK855AP", 0.95, (100, 100, 120, 30))]] * 10
    cut = [[("RK85", 0.9, (100, 100, 70, 30)), ("855AP", 0.9, (140, 100, 80, 30))]] * 4
    events = feed(PlateTracker(), whole + cut + whole)
    assert [e.text for e in events] == ["RK855AP"]

"""End to end: the shipped model reads the sample photos (no mocks)."""

from __future__ import annotations

import pytest

from conftest import read_labels

pytest.importorskip("cv2")


def _samples(samples_dir):
    return read_labels(samples_dir / "labels.csv")


def test_samples_are_listed_and_present(samples_dir):
    rows = _samples(samples_dir)
    assert 4 <= len(rows) <= 6
    assert {r["image"].split("-")[0] for r in rows} >= {"us", "eu", "br"}
    for r in rows:
        assert (samples_dir / r["image"]).is_file(), r["image"]


def test_shipped_model_reads_every_sample(samples_dir):
    from anpr import PlateReader

    reader = PlateReader()
    for r in _samples(samples_dir):
        plates = reader.read(samples_dir / r["image"])
        assert plates, f"{r['image']}: no plate found"
        assert plates[0].text == r["plate"], (r["image"], [p.text for p in plates])
        assert plates[0].confidence >= 0.5


def test_samples_with_their_region(samples_dir):
    from anpr import PlateReader

    readers: dict = {}
    for r in _samples(samples_dir):
        region = r["image"].split("-")[0]
        reader = readers.setdefault(region, PlateReader(region=region))
        texts = [p.text for p in reader.read(samples_dir / r["image"])]
        assert r["plate"] in texts, (r["image"], region, texts)


def test_samples_say_which_region_format_they_fit(samples_dir):
    """Without --region the record names the region whose format the text fits; the
    samples' file names say their region."""
    from anpr import PlateReader

    reader = PlateReader()
    for r in _samples(samples_dir):
        plate = reader.read(samples_dir / r["image"])[0]
        assert plate.format is not None and plate.format[0] == r["image"].split("-")[0], (r["image"], plate.format)
        assert plate.to_dict()["format"] == {"region": plate.format[0], "pattern": plate.format[1]}

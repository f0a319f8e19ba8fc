"""Shared fixtures: the data folder and the sample photos."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` next to the repository, or skip when it is absent."""
    if not (DATA / "README.md").exists():
        pytest.skip("../shared/data is not available")
    return DATA


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


def read_labels(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def subset_folder(src: Path, dst: Path, n: int) -> list[dict[str, str]]:
    """Copy the first ``n`` photos of a labelled folder, with all their label rows,
    into a new folder ``dst``; return those rows."""
    import shutil

    rows = read_labels(src / "labels.csv")
    images = list(dict.fromkeys(r["image"] for r in rows))[:n]
    rows = [r for r in rows if r["image"] in images]
    dst.mkdir(parents=True)
    for im in images:
        shutil.copy(src / im, dst / im)
    with open(dst / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows

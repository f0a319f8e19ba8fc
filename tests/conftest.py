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

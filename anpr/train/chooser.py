"""Fit `anpr.choose`: which of a plate's reading hypotheses reads it right.

Each labelled plate crop of the fit part is read with every hypothesis kept
(`anpr.recognize.recognize_plate` with a ``trace``); a hypothesis is a positive when
its text is the label (O and 0 merged). One logistic regression over all hypotheses of
all plates gives the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Hypotheses:
    """The reading hypotheses of one labelled plate crop."""

    source: str  # "plates/us", with ":br" when read for a strict region
    part: str  # anpr.split part of its label
    label: str
    texts: list[str]
    x: np.ndarray  # anpr.choose.features of the hypotheses

    @property
    def right(self) -> np.ndarray:
        from ..decode import merge_o0

        return np.array([merge_o0(t) == merge_o0(self.label) for t in self.texts])


def regions_of(folder: str | Path) -> list[str | None]:
    """The regions a plate folder is read for: none, and the folder's own when it is a
    strict region (``br``, ``ar``: users read those plates with ``--region``).

    >>> regions_of("data/plates/br"), regions_of("data/plates/us")
    ([None, 'br'], [None])
    """
    from ..decode import available_regions, load_region

    name = Path(folder).name
    return [None] + ([name] if name in available_regions() and load_region(name).strict else [])


def collect(folder: str | Path, region: str | None, progress: Callable[[int], None] | None = None) -> list[Hypotheses]:
    """Hypotheses of every labelled crop of ``folder`` (both parts), read for ``region``."""
    from ..images import load_image
    from ..reader import PlateReader
    from ..recognize import recognize_plate
    from ..split import part_of
    from .datasets import plate_source, read_plate_labels

    reader = PlateReader(region=region, verifier=False)  # its character model and glyph finder
    source = plate_source(folder) + (f":{region}" if region else "")
    out = []
    for path, text in read_plate_labels(folder):
        if progress is not None:
            progress(1)
        if not text:
            continue
        trace: list = []
        img = load_image(path)
        if min(img.shape[:2]) < 4:
            continue
        recognize_plate(img, reader.classifier, region, reader.glyphs, chooser=False, trace=trace)
        if trace:
            texts, x = trace[-1]
            out.append(Hypotheses(source, part_of(text), text, list(texts), x))
    return out


def fit(plates: list[Hypotheses], c: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias of the logistic regression of `Hypotheses.right` on the features."""
    from ..errors import require

    if not plates:
        raise ValueError("no plate hypotheses to fit")
    x = np.concatenate([p.x for p in plates])
    y = np.concatenate([p.right for p in plates])
    if y.all() or not y.any():
        raise ValueError("the hypotheses are all right or all wrong: nothing to learn")
    m = require("sklearn.linear_model", "train").LogisticRegression(C=c, max_iter=5000).fit(x, y)
    return m.coef_[0].astype(np.float64), float(m.intercept_[0])


def accuracy(plates: list[Hypotheses], chooser=None) -> float:
    """Share of ``plates`` whose kept hypothesis is right: ``chooser``'s choice, or the
    most confident one without (before `anpr.decode.settle_layout`)."""
    from ..choose import FEATURES

    if not plates:
        return float("nan")
    conf = FEATURES.index("log_confidence")
    hits = 0
    for p in plates:
        k = chooser.choose(p.x) if chooser is not None else int(np.argmax(p.x[:, conf]))
        hits += bool(p.right[k])
    return hits / len(plates)

"""A logistic model over named features, stored as JSON: the learned stages that weigh a
reading's properties (`anpr.choose.Chooser`, `anpr.calibrate.Calibration`) are one each.

A subclass names its ``FEATURES`` and what it is (``KIND``, for error messages); the file
holds ``features``, ``weights``, ``bias`` and whatever its trainer says of the fit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, TypeVar

import numpy as np

T = TypeVar("T", bound="LinearModel")


class LinearModel:
    """Log-odds as a weighted sum of `FEATURES`, plus a bias.

    Parameters
    ----------
    weights : sequence of float
        One weight per feature, in ``FEATURES`` order.
    bias : float
    info : dict, optional
        What the model file says of its fitting.
    """

    FEATURES: ClassVar[tuple[str, ...]] = ()
    KIND: ClassVar[str] = "linear model"

    def __init__(self, weights: Sequence[float] | np.ndarray, bias: float = 0.0, info: dict | None = None):
        w = np.asarray(weights, np.float64)
        if w.shape != (len(self.FEATURES),):
            where = f"{type(self).__module__}.FEATURES"
            raise ValueError(f"need {len(self.FEATURES)} weights ({where}), got shape {w.shape}")
        self.weights, self.bias, self.info = w, float(bias), dict(info or {})

    @classmethod
    def from_file(cls: type[T], path: str | Path) -> T:
        """Load a model file written by its trainer; `anpr.errors.ModelError` names the
        file when it is missing, unreadable or made for other features."""
        from .errors import ModelError

        path = Path(path)
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            if list(info["features"]) != list(cls.FEATURES):
                raise ValueError(f"its features {info['features']} are not {cls.__module__}.FEATURES")
            return cls(info["weights"], info["bias"], info)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a usable {cls.KIND} ({exc}); reinstall anpr or run "
                             "`git checkout models/` to get the shipped one back") from None

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Log-odds of each row of features."""
        return np.asarray(x, np.float64).reshape(-1, len(self.FEATURES)) @ self.weights + self.bias

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.get('date', 'unsaved')!r})"

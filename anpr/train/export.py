"""Saving the trained model: Keras file and ONNX, with a parity check."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def export_onnx(model, path: str | Path, check: np.ndarray | None = None, atol: float = 1e-4,
                runner=None) -> float:
    """Write ``model`` as ONNX to ``path`` atomically and return the max |Keras - ONNX|.

    ``runner(path) -> predict(x)`` loads the file as the reader will (default: the
    character classifier's ``predict_normalized``).

    The file is written next to ``path`` under a temporary name and renamed only after
    the parity check passes, so readers using ``path`` never see a half-written or
    wrong model.

    Raises
    ------
    RuntimeError
        When ONNX outputs differ from Keras by more than ``atol`` on ``check``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", prefix=".tmp-", dir=path.parent)
    os.close(fd)
    try:
        # A freshly loaded model has never been called, and Keras refuses to export it.
        model.predict(np.zeros((1,) + tuple(model.input_shape[1:]), np.float32), verbose=0)
        model.export(tmp, format="onnx", verbose=False)
        diff = 0.0
        if check is not None and len(check):
            if runner is None:
                from ..classify import CharClassifier

                runner = lambda p: CharClassifier(p).predict_normalized  # noqa: E731
            # The runtime the reader will use (onnxruntime, else cv2.dnn) checks the file.
            got = np.asarray(runner(tmp)(check)).reshape(len(check), -1)
            want = np.asarray(model.predict(check, verbose=0, batch_size=256)).reshape(len(check), -1)
            diff = float(np.max(np.abs(got - want)))
            if diff > atol:
                raise RuntimeError(f"ONNX export differs from Keras by {diff:.2e} > {atol:.0e}")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is a shipped file
        os.replace(tmp, path)
        return diff
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_keras(model, path: str | Path) -> None:
    """Write the Keras model atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    model.save(tmp)
    os.replace(tmp, path)

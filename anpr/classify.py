"""The character classifier used at read time: the shipped ONNX CNN, no TensorFlow.

Inference runs on onnxruntime with one intra-op thread when it is installed: on batches
of 1-16 crops (one plate) it measured 1.2-2x faster than ``cv2.dnn`` on the shared
2-core machine (shipped model, two runs: 0.17 vs 0.22-0.36 ms for 1 crop, 2.3 vs
2.7-3.6 ms for 16; same outputs within 1e-6), and one thread keeps many readers in
parallel processes from fighting over cores. Without onnxruntime, OpenCV's DNN module
runs the same file, so reading needs only the core dependencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError
from .normalize import CLASSES, SIZE, normalize_batch

MODEL_NAME = "chars.onnx"

_RESTORE = "reinstall anpr or run `git checkout models/` to get the default model back"
_OTHER = ("use CharClassifier() for the shipped default model"
          " (if it is missing, reinstall anpr or run `git checkout models/`)")


def default_model_path() -> Path:
    """Path of the shipped model (installed package data, or ``models/`` in a checkout)."""
    try:
        from importlib.resources import files

        p = Path(str(files("anpr.models") / MODEL_NAME))
        if p.exists():
            return p
    except (ModuleNotFoundError, TypeError, ValueError):
        pass
    return Path(__file__).resolve().parents[1] / "models" / MODEL_NAME


def side_model_path(name: str) -> Path:
    """Path of a shipped model beside the character model (the verifier, the glyph
    finder, the plate map): installed package data, or ``models/`` in a checkout."""
    return default_model_path().with_name(name)


class _OrtBackend:
    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]


class _DnnBackend:
    def __init__(self, path: Path, threads: int):
        import threading

        import cv2

        self.net = cv2.dnn.readNetFromONNX(str(path))
        # setInput and forward share the net's buffers: two threads interleaving them
        # fail an assertion or, worse, swap their outputs (onnxruntime's run is safe).
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            self.net.setInput(x)
            return np.asarray(self.net.forward())


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none), for the
    one-line errors that name a bad model file."""
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def open_onnx(path: Path, threads: int = 1, backend: str = "auto"):
    """An inference backend (``.run(x) -> y``) for an ONNX file: onnxruntime when
    installed (or asked for), else OpenCV's DNN module.

    Raises
    ------
    ImportError
        When ``backend="onnxruntime"`` and it is not installed.
    Exception
        Whatever the runtime raises on a file it cannot load.
    """
    use_ort = backend == "onnxruntime"
    if backend == "auto":
        try:
            import onnxruntime  # noqa: F401

            use_ort = True
        except ImportError:
            use_ort = False
    return _OrtBackend(path, threads) if use_ort else _DnnBackend(path, threads)


def open_side_model(path: str | Path | None, default: Path, kind: str, probe: np.ndarray,
                    out_size: int, expected: str, threads: int = 1):
    """Load one of the small models beside the character model (the plate verifier, the
    glyph finder): ``(path, backend, info)``, ``info`` being the JSON file beside it
    (thresholds chosen with the model; ``{}`` when absent).

    Raises
    ------
    ModelError
        When the file is missing, unreadable, or its output for ``probe`` does not have
        ``out_size`` values (``expected`` names the shape in the message).
    """
    import json

    chosen = Path(default if path is None else path)
    hint = "; reinstall anpr or run `git checkout models/` to get the default back" if path is None else ""
    if not chosen.is_file():
        raise ModelError(f"{chosen}: {kind} model file not found{hint}")
    try:
        backend = open_onnx(chosen, threads)
        out = np.asarray(backend.run(probe))
    except Exception as exc:  # noqa: BLE001 - both runtimes raise their own types
        raise ModelError(f"{chosen}: not a usable {kind} model ({first_line(exc)}){hint}") from None
    if out.size != out_size:
        raise ModelError(f"{chosen}: {kind} model outputs shape {out.shape}, expected {expected}{hint}")
    card = chosen.with_suffix(".json")
    return chosen, backend, (json.loads(card.read_text()) if card.is_file() else {})


class CharClassifier:
    """Recognize single characters (``0-9A-Z``) with the CNN.

    Parameters
    ----------
    path : str or Path, optional
        An ONNX model reading ``(N, 28, 28, 1)`` float32 and returning ``(N, 36)``
        probabilities in `anpr.normalize.CLASSES` order. Defaults to the shipped model.
    threads : int
        Intra-op threads for onnxruntime.
    backend : {"auto", "onnxruntime", "cv2"}
        Inference engine; ``auto`` prefers onnxruntime when installed.

    Raises
    ------
    ModelError
        When the file is missing, unreadable or has the wrong input/output shape.

    Examples
    --------
    >>> import numpy as np
    >>> clf = CharClassifier()
    >>> crop = np.full((40, 24), 255, np.uint8)
    >>> crop[4:36, 10:14] = 0                       # a dark vertical bar on white
    >>> clf.classify([crop])[0][0]
    '1'
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1, backend: str = "auto"):
        if backend not in ("auto", "onnxruntime", "cv2"):
            raise ValueError(f"backend must be 'auto', 'onnxruntime' or 'cv2', got {backend!r}")
        default = path is None
        self.path = Path(default_model_path() if path is None else path)
        hint = f"; {_RESTORE}" if default else f"; {_OTHER}"
        if not self.path.is_file():
            raise ModelError(f"{self.path}: model file not found{hint}")
        self.backend = self._load(backend, threads, hint)
        self._check_shapes(hint)

    def _load(self, backend: str, threads: int, hint: str):
        try:
            return open_onnx(self.path, threads, backend)
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - both runtimes raise their own types
            raise ModelError(f"{self.path}: not a usable ONNX model ({first_line(exc)}){hint}") from None

    def _check_shapes(self, hint: str) -> None:
        probe = np.zeros((1, SIZE, SIZE, 1), np.float32)
        try:
            out = self.backend.run(probe)
        except Exception as exc:  # noqa: BLE001
            raise ModelError(
                f"{self.path}: model does not accept (N, {SIZE}, {SIZE}, 1) input ({first_line(exc)})"
                f"{hint}"
            ) from None
        if out.ndim != 2 or out.shape[1] != len(CLASSES):
            raise ModelError(
                f"{self.path}: model outputs shape {tuple(out.shape)}, expected (N, {len(CLASSES)})"
                f"{hint}"
            )

    def predict_normalized(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, 36)`` float32 for an already normalized batch.

        Parameters
        ----------
        batch : ndarray
            ``(N, 28, 28, 1)`` (or ``(N, 28, 28)``) values in ``[0, 1]``, light glyph on dark.
        """
        x = np.asarray(batch, np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[1:] != (SIZE, SIZE, 1):
            raise ValueError(f"batch must have shape (N, {SIZE}, {SIZE}, 1), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        return np.asarray(self.backend.run(np.ascontiguousarray(x)), np.float32)

    def predict_proba(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities ``(N, 36)`` for raw crops (any size, gray or BGR)."""
        if isinstance(crops, np.ndarray) and crops.ndim == 2:
            raise ValueError("crops must be a list of images; wrap a single crop in a list")
        return self.predict_normalized(normalize_batch(list(crops)))

    def classify(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """Best class and its probability for each crop, in one inference call.

        >>> CharClassifier().classify([])
        []
        """
        p = self.predict_proba(crops)
        best = p.argmax(axis=1) if len(p) else np.zeros(0, int)
        return [(CLASSES[i], float(p[k, i])) for k, i in enumerate(best)]

    def __repr__(self) -> str:
        return f"CharClassifier({str(self.path)!r}, backend={type(self.backend).__name__})"

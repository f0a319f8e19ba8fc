"""Scoring the CNN on labelled crops, and the figures and model card that report it.

Accuracy is given two ways: *strict* (``O`` and ``0`` are different classes) and
*O/0-merged* (confusing them is not an error), because several plate labels write the
digit zero as the letter O and many plate fonts draw them identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..normalize import CLASSES

_O, _ZERO = CLASSES.index("O"), CLASSES.index("0")
_I, _ONE = CLASSES.index("I"), CLASSES.index("1")


def merge_o0(idx: np.ndarray) -> np.ndarray:
    """Map class ``O`` to ``0``.

    >>> merge_o0(np.array([24, 0, 5])).tolist()
    [0, 0, 5]
    """
    idx = np.asarray(idx).copy()
    idx[idx == _O] = _ZERO
    return idx


def merge_lookalikes(idx: np.ndarray) -> np.ndarray:
    """Map ``O`` to ``0`` and ``I`` to ``1``: pairs that Brazilian (and some other)
    plate fonts draw identically, so only the plate format can tell them apart.

    >>> merge_lookalikes(np.array([24, 18, 1])).tolist()
    [0, 1, 1]
    """
    idx = merge_o0(idx)
    idx[idx == _I] = _ONE
    return idx


def separability(
    x: np.ndarray,
    y: Sequence[int] | np.ndarray,
    groups: Sequence[str] | np.ndarray,
    pair: tuple[str, str],
    *,
    max_per_class: int = 400,
    folds: int = 5,
    seed: int = 0,
) -> tuple[float, int]:
    """How well the pixels alone tell two classes apart, whatever the CNN does.

    A balanced sample of both classes is scored by grouped ``folds``-fold
    cross-validation of an RBF support-vector machine on the normalized 28x28 crops.
    About 0.5 means the two glyphs are drawn alike (no classifier can separate them);
    near 1.0 means the data allows it.

    Parameters
    ----------
    x : ndarray
        ``(N, 28, 28, 1)`` normalized crops.
    y : sequence of int
        Class indices into `CLASSES`.
    groups : sequence of str
        Crops of one group (plate, sheet) stay in one fold.
    pair : (str, str)
        The two classes, e.g. ``("O", "0")``.

    Returns
    -------
    (accuracy, n_per_class)
        ``accuracy`` is NaN when either class has fewer than ``folds`` * 2 crops or the folds cannot hold both classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((80, 28, 28, 1)).astype(np.float32)
    >>> y = np.repeat([CLASSES.index("O"), CLASSES.index("0")], 40)
    >>> x[y == 0, 10:18, 10:18] += 2.0                     # "0" drawn differently
    >>> acc, n = separability(x, y, [str(i) for i in range(80)], ("O", "0"))
    >>> n, acc > 0.9
    (40, True)
    """
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
    from sklearn.svm import SVC

    for c in pair:
        if c not in CLASSES:
            raise ValueError(f"unknown class {c!r}; classes are {CLASSES}")
    ya = np.asarray(y)
    ga = np.asarray(groups)
    a, b = (np.flatnonzero(ya == CLASSES.index(c)) for c in pair)
    n = min(len(a), len(b), max_per_class)
    if n < 2 * folds:
        return float("nan"), n
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(a, n, replace=False), rng.choice(b, n, replace=False)])
    X = np.asarray(x)[idx].reshape(len(idx), -1)
    Y = (ya[idx] == CLASSES.index(pair[0])).astype(int)
    try:
        acc = cross_val_score(SVC(C=10, gamma="scale"), X, Y, cv=StratifiedGroupKFold(folds),
                              groups=ga[idx], error_score="raise")
    except ValueError:  # too few groups, or a fold left with one class (sheets of one glyph)
        return float("nan"), n
    return float(acc.mean()), n


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(CLASSES)) -> np.ndarray:
    """``(n, n)`` counts, rows true class, columns predicted.

    >>> confusion(np.array([0, 1, 1]), np.array([0, 1, 0]), n=2).tolist()
    [[1, 0], [1, 1]]
    """
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def score(
    y_true: Sequence[int] | np.ndarray, probs: np.ndarray, sources: Sequence[str] | None = None
) -> dict:
    """Accuracy (strict and O/0-merged), per-class recall/precision and per-source accuracy.

    >>> p = np.eye(36)[[0, 24, 5]]
    >>> s = score([0, 0, 5], p)
    >>> round(s["accuracy"], 3), s["accuracy_o0_merged"]
    (0.667, 1.0)
    """
    y = np.asarray(y_true, np.int64)
    probs = np.asarray(probs)
    if len(y) != len(probs):
        raise ValueError(f"{len(y)} labels but {len(probs)} predictions")
    pred = probs.argmax(1) if len(probs) else np.zeros(0, np.int64)
    ok = pred == y
    ok_m = merge_o0(pred) == merge_o0(y)
    ok_l = merge_lookalikes(pred) == merge_lookalikes(y)
    cm = confusion(y, pred)
    support = cm.sum(1)
    predicted = cm.sum(0)
    diag = np.diag(cm)
    per_class = {
        c: {
            "support": int(support[i]),
            "recall": float(diag[i] / support[i]) if support[i] else None,
            "precision": float(diag[i] / predicted[i]) if predicted[i] else None,
        }
        for i, c in enumerate(CLASSES)
    }
    per_source: dict[str, dict] = {}
    if sources is not None:
        src = np.asarray(sources)
        for s in sorted(set(src.tolist())):
            m = src == s
            per_source[s] = {
                "n": int(m.sum()),
                "accuracy": float(ok[m].mean()),
                "accuracy_o0_merged": float(ok_m[m].mean()),
                "accuracy_lookalike_merged": float(ok_l[m].mean()),
            }
    pairs = [
        (CLASSES[i], CLASSES[j], int(cm[i, j]))
        for i in range(len(CLASSES))
        for j in range(len(CLASSES))
        if i != j and cm[i, j]
    ]
    pairs.sort(key=lambda t: -t[2])
    return {
        "n": int(len(y)),
        "accuracy": float(ok.mean()) if len(y) else float("nan"),
        "accuracy_o0_merged": float(ok_m.mean()) if len(y) else float("nan"),
        "accuracy_lookalike_merged": float(ok_l.mean()) if len(y) else float("nan"),
        "per_class": per_class,
        "per_source": per_source,
        "top_confusions": pairs[:15],
        "confusion": cm.tolist(),
    }


def worst_classes(result: dict, min_support: int = 30, k: int = 5) -> list[tuple[str, float, int]]:
    """The ``k`` lowest-recall classes with at least ``min_support`` test crops."""
    rows = [
        (c, v["recall"], v["support"])
        for c, v in result["per_class"].items()
        if v["support"] >= min_support and v["recall"] is not None
    ]
    return sorted(rows, key=lambda t: t[1])[:k]


def report_text(y_true: Sequence[int] | np.ndarray, probs: np.ndarray) -> str:
    """scikit-learn's classification report, over the classes present."""
    from ..errors import require

    metrics = require("sklearn.metrics", "train")
    y = np.asarray(y_true)
    pred = np.asarray(probs).argmax(1)
    labels = sorted(set(y.tolist()) | set(pred.tolist()))
    return metrics.classification_report(
        y, pred, labels=labels, target_names=[CLASSES[i] for i in labels], digits=4, zero_division=0
    )


def _pyplot():
    from ..errors import require

    mpl = require("matplotlib", "train")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(cm: np.ndarray, path: str | Path, title: str = "Confusion matrix (test)") -> None:
    """Confusion matrix as a PNG; the diagonal is masked so that errors stand out."""
    plt = _pyplot()
    cm = np.asarray(cm)
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    fig, ax = plt.subplots(figsize=(11, 10))
    im = ax.imshow(np.log1p(off), cmap="Reds")
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            if cm[i, j]:
                color = "tab:green" if i == j else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=5.5, color=color)
    ax.set_xticks(range(len(CLASSES)), list(CLASSES), fontsize=7)
    ax.set_yticks(range(len(CLASSES)), list(CLASSES), fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}; diagonal (green) = correct, red = errors (log scale)")
    fig.colorbar(im, ax=ax, fraction=0.04, label="log(1 + errors)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(history: dict | Sequence[dict], path: str | Path) -> None:
    """Training and validation loss and accuracy per epoch (one history, or one per
    member of an averaged model)."""
    plt = _pyplot()
    histories = [history] if isinstance(history, dict) else list(history)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for k, h in enumerate(histories):
            tag = f" (member {k})" if len(histories) > 1 else ""
            for prefix, style in (("", "-"), ("val_", "--")):
                vals = h.get(prefix + key)
                if vals:
                    ax.plot(range(1, len(vals) + 1), vals, style, color=f"C{k}",
                            label=(prefix or "train_") + key + tag)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_predictions(
    x: np.ndarray, y_true: Sequence[int] | np.ndarray, probs: np.ndarray, path: str | Path, n: int = 24, seed: int = 0
) -> None:
    """A grid of correct (top rows) and incorrect (bottom rows) test predictions."""
    plt = _pyplot()
    y = np.asarray(y_true)
    pred = np.asarray(probs).argmax(1)
    conf = np.asarray(probs).max(1)
    rng = np.random.default_rng(seed)
    good = np.flatnonzero(pred == y)
    bad = np.flatnonzero(pred != y)
    good = rng.choice(good, min(n, len(good)), replace=False) if len(good) else good
    bad = bad[np.argsort(-conf[bad])][:n]  # most confident mistakes first
    cols = 12
    rows_g, rows_b = -(-len(good) // cols), max(1, -(-len(bad) // cols))
    fig, axes = plt.subplots(rows_g + rows_b, cols, figsize=(cols * 1.05, (rows_g + rows_b) * 1.3))
    axes = np.atleast_2d(axes)
    for ax in axes.ravel():
        ax.axis("off")
    for k, i in enumerate(good):
        ax = axes[k // cols, k % cols]
        ax.imshow(x[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{CLASSES[pred[i]]} {conf[i]:.2f}", fontsize=8, color="tab:green")
    for k, i in enumerate(bad):
        ax = axes[rows_g + k // cols, k % cols]
        ax.imshow(x[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{CLASSES[y[i]]}->{CLASSES[pred[i]]} {conf[i]:.2f}", fontsize=8, color="tab:red")
    if not len(bad):
        axes[rows_g, 0].set_title("no errors", fontsize=8)
    fig.suptitle("correct (green: predicted, confidence) / incorrect (red: true->predicted)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def format_summary(result: dict, min_support: int = 30) -> str:
    """Short text: overall, merged, per source, worst classes, top confusions."""
    lines = [
        f"test crops: {result['n']}",
        f"accuracy (O/0 strict): {result['accuracy']:.4f}",
        f"accuracy (O/0 merged): {result['accuracy_o0_merged']:.4f}",
        f"accuracy (O/0 and I/1 merged): {result['accuracy_lookalike_merged']:.4f}",
    ]
    for s, v in result["per_source"].items():
        lines.append(
            f"  {s:<16} n={v['n']:<6} strict={v['accuracy']:.4f} O/0-merged={v['accuracy_o0_merged']:.4f}"
            f" +I/1={v['accuracy_lookalike_merged']:.4f}"
        )
    worst = worst_classes(result, min_support)
    if worst:
        lines.append(
            f"lowest recall (>= {min_support} crops): "
            + ", ".join(f"{c}={r:.3f} (n={n})" for c, r, n in worst)
        )
    if result["top_confusions"]:
        lines.append(
            "top confusions (true->pred): "
            + ", ".join(f"{a}->{b} x{k}" for a, b, k in result["top_confusions"][:10])
        )
    return "\n".join(lines)

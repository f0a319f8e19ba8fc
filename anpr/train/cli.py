"""``anpr train`` and ``anpr evaluate``: the thesis workflow as two commands.

train: load class folders (and plate crops labelled through the segmenter) -> show shapes
and class counts -> scale to float (shared normalization) -> grouped held-out test split
-> 80/20 train/validation split -> fit the CNN -> save Keras + ONNX -> evaluate on the
held-out test crops -> curves, confusion matrix, prediction grid, model card.

TensorFlow, scikit-learn and matplotlib are imported inside the commands only.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np

from ..errors import AnprError, MissingExtraError, require

_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _need_train_stack() -> None:
    for mod in ("keras", "tensorflow", "tf2onnx", "onnx", "sklearn", "matplotlib"):
        require(mod, "train")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's logging and warnings (call before it is first imported)."""
    import os

    # Must be set before TensorFlow is first imported to silence its C++ logging.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")


def _synth_plate_set(n: int, seed: int, templates: Path | None):
    """Crops of ``n`` synthetic US plates cut at their exact glyph boxes (training only)."""
    from .datasets import CharSet
    from .plates import glyph_crops, load_templates, synth_plates

    out = CharSet()
    with click.progressbar(synth_plates(n, seed, load_templates(templates)), length=n,
                           label="drawing synthetic plates", file=sys.stderr) as plates:
        for k, plate in enumerate(plates):
            for j, (crop, label) in enumerate(glyph_crops(plate)):
                out.add(crop, label, "synthetic/us", f"synthetic-plate:{k}", f"synthetic-plate#{k}.{j}")
    return out


def _load(data: tuple[Path, ...], plates: tuple[Path, ...], synthetic: int, seed: int,
          synth_plates: int = 0, templates: Path | None = None, far: tuple[Path, ...] = (), far_copies: int = 0):
    from . import datasets as ds

    allset = ds.CharSet()
    stats: dict[str, dict] = {}
    plate_set = {Path(p).resolve() for p in plates}
    stray = [f for f in far if Path(f).resolve() not in plate_set]
    if stray:
        raise click.UsageError(f"--far {stray[0]}: give the folder to --plates as well")
    far_set = {Path(f).resolve() for f in far}
    for root in data:
        part = ds.load_class_folders(root)
        click.echo(f"loaded {len(part)} crops from {root}")
        allset.extend(part)
    for folder in plates:
        n = len(ds.read_plate_labels(folder))
        with click.progressbar(length=n, label=f"segmenting plates in {folder}", file=sys.stderr) as bar:
            copies = far_copies if Path(folder).resolve() in far_set else 0
            part, st = ds.plate_crops(folder, progress=bar.update, far_copies=copies)
        stats[ds.plate_source(folder)] = st
        click.echo(
            f"{folder}: {st['kept']} of {st['plates']} plates segmented into exactly len(text) "
            f"boxes -> {st['crops']} crops"
            + (f" (and {st['far_crops']} of {copies} far copies of each fit plate)" if copies else "")
        )
        allset.extend(part)
    synth = None
    if synthetic:
        from .synth import synth_set

        synth = synth_set(synthetic, seed=seed)
        click.echo(f"drew {len(synth)} synthetic glyphs")
    if synth_plates:
        drawn = _synth_plate_set(synth_plates, seed, templates)
        click.echo(f"cut {len(drawn)} glyphs from {synth_plates} synthetic plates")
        synth = drawn if synth is None else synth.extend(drawn)
    return allset, synth, stats


def _summary(name: str, x: np.ndarray, data) -> None:
    from ..normalize import CLASSES

    click.echo(f"{name}: x {x.shape} {x.dtype} in [{x.min():.2f}, {x.max():.2f}], {len(data)} labels")
    for src, counts in data.counts().items():
        total = sum(counts.values())
        missing = "".join(c for c in CLASSES if c not in counts)
        line = " ".join(f"{c}:{n}" for c, n in counts.items())
        click.echo(f"  {src:<18} {total:>6}  {line}" + (f"  (none of {missing})" if missing else ""))


@click.command()
@click.argument("data", nargs=-1, type=_DIR)
@click.option("--out", default="models", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for chars.keras, chars.onnx, figures and MODEL_CARD.md.")
@click.option("--plates", multiple=True, type=_DIR,
              help="Folder of plate images + labels.csv (image,plate), or a scene folder (image,x,y,w,h,plate: "
                   "plates cut out at their boxes); crops are cut with anpr.segment.")
@click.option("--epochs", default=40, show_default=True, help="Maximum epochs (early stopping ends sooner).")
@click.option("--seed", default=0, show_default=True)
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1),
              help="Train this many seeds (SEED, SEED+1, ...) and write the mean of their class "
                   "probabilities as the one model.")
@click.option("--synthetic", default=0, show_default=True, help="Synthetic font glyphs to add to training.")
@click.option("--synth-plates", default=0, show_default=True, type=click.IntRange(min=0),
              help="Synthetic US plates (anpr.train.plates) whose glyphs are added to training.")
@click.option("--templates", type=_DIR, default=None,
              help="Blank plate images for --synth-plates (e.g. ../shared/data/templates/us).")
@click.option("--far", multiple=True, type=_DIR,
              help="A --plates folder whose fit plates are also trained on as a far camera sees them "
                   "(anpr.train.datasets.far_copy: smaller, blurred, JPEG), cut at the same boxes.")
@click.option("--far-copies", default=2, show_default=True, type=click.IntRange(min=1),
              help="Far copies of each plate of the --far folders.")
@click.option("--augment/--no-augment", default=True, show_default=True, help="Random distortions per batch.")
@click.option("--test-fraction", default=0.15, show_default=True, help="Share of groups held out for testing.")
@click.option("--batch-size", default=64, show_default=True)
@click.option("--patience", default=6, show_default=True, help="Early-stopping patience (epochs).")
@click.option("--weighting", type=click.Choice(["pairs", "half-pairs", "none", "balanced"]), default="half-pairs",
              show_default=True,
              help="Class weights: (half-)balance the O/0 and I/1 look-alike pairs, none, or all classes.")
def train(data, out, plates, epochs, seed, seeds, synthetic, synth_plates, templates, far, far_copies, augment,
          test_fraction, batch_size, patience, weighting):
    """Train the character CNN on class-per-folder trees DATA... and plate folders.

    Crops of a labelled plate are held out for testing exactly when the plate is in the
    check part of `anpr.split`, so `anpr benchmark --part check` never reads a plate the
    model was trained on.
    """
    try:
        quiet_tensorflow()
        _need_train_stack()
        _train(data, out, plates, epochs, seed, synthetic, augment, test_fraction, batch_size, patience,
               weighting, synth_plates, templates, seeds, far, far_copies)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _train(data, out, plates, epochs, seed, synthetic, augment, test_fraction, batch_size, patience, weighting,
           synth_plates=0, templates=None, seeds=1, far=(), far_copies=2):
    from .. import __version__
    from . import datasets as ds
    from . import evaluate as ev
    from .augment import augment_batch
    from .export import export_onnx, save_keras
    from .fit import fit

    if not data and not plates:
        raise click.UsageError("give at least one DATA folder or --plates folder")
    command = _command_line(data, out, plates, epochs, seed, synthetic, augment, test_fraction,
                            batch_size, patience, weighting, synth_plates, templates, seeds, far, far_copies)
    t_start = time.perf_counter()
    allset, synth, plate_stats = _load(data, plates, synthetic, seed, synth_plates, templates, far, far_copies)
    rest, test = ds.grouped_split(allset, test_fraction)
    if synth is not None:
        rest.extend(synth)  # synthetic glyphs are never test data
    if len(rest) < 10:
        raise ValueError(f"only {len(rest)} training crops; need at least 10")

    x_rest, y_rest = ds.to_arrays(rest)
    x_test, y_test = ds.to_arrays(test)
    _summary("train+validation", x_rest, rest)
    _summary("held-out test", x_test, test)

    out.mkdir(parents=True, exist_ok=True)
    aug = augment_batch if augment else None
    results, members, splits = [], [], []
    for s in range(seed, seed + seeds):
        # Each seed draws its own validation groups, as a run with --seed S alone does.
        tr, va = ds.train_val_split(rest.groups, 0.2, s)
        splits.append((tr, va))
        click.echo(f"seed {s}: split by group: {len(tr)} train / {len(va)} validation / {len(test)} test crops")
        with click.progressbar(length=epochs, label=f"training seed {s}", file=sys.stderr,
                               item_show_func=lambda t: t) as bar:
            def on_epoch(epoch, logs):
                bar.update(1, f"loss {logs.get('loss', 0):.3f} val_acc {logs.get('val_accuracy', 0):.4f}")

            result = fit(x_rest[tr], y_rest[tr], x_rest[va], y_rest[va], epochs=epochs, seed=s,
                         batch_size=batch_size, patience=patience, augment=aug, on_epoch=on_epoch,
                         weighting=weighting)
        click.echo(f"seed {s}: trained {result.epochs_run} epochs in {result.seconds:.0f} s "
                   f"(best epoch {result.best_epoch})")
        results.append(result)
        if seeds > 1:
            p = result.model.predict(x_test, verbose=0, batch_size=256) if len(x_test) else np.zeros((0, 36))
            t = ev.score(y_test, p, test.sources)
            members.append({"seed": s, "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                            "seconds": round(result.seconds, 1),
                            "test": {k: t[k] for k in ("n", "accuracy", "accuracy_o0_merged",
                                                       "accuracy_lookalike_merged")}})
    if seeds > 1:
        from .ensemble import average_models

        model = average_models([r.model for r in results])
    else:
        model = results[0].model
    save_keras(model, out / "chars.keras")
    check = x_test[:512] if len(x_test) else x_rest[splits[0][1]][:512]
    diff = export_onnx(model, out / "chars.onnx", check=check)
    click.echo(f"wrote {out / 'chars.onnx'} (max |keras - onnx| = {diff:.1e})")

    from ..classify import CharClassifier

    clf = CharClassifier(out / "chars.onnx")
    probs = clf.predict_normalized(x_test) if len(x_test) else np.zeros((0, 36), np.float32)
    res = ev.score(y_test, probs, test.sources)
    ev.plot_curves([r.history for r in results], out / "curves.png")
    if len(x_test):
        ev.plot_confusion(np.array(res["confusion"]), out / "confusion.png")
        ev.plot_predictions(x_test, y_test, probs, out / "predictions.png", seed=seed)
        click.echo(ev.report_text(y_test, probs))
    click.echo(ev.format_summary(res))
    total = time.perf_counter() - t_start
    meta = {
        "command": command,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "anpr_version": __version__,
        "versions": library_versions(),
        "train_seconds_fit": round(sum(r.seconds for r in results), 1),
        "train_seconds_total": round(total, 1),
        "epochs_run": results[0].epochs_run,
        "best_epoch": results[0].best_epoch,
        "seed": seed,
        "seeds": seeds,
        "members": members,
        "augment": augment,
        "weighting": weighting,
        "synthetic": synthetic,
        "synth_plates": synth_plates,
        "test_fraction": test_fraction,
        "counts_train_val": rest.counts(),
        "counts_test": test.counts(),
        "n_train": int(len(splits[0][0])),
        "n_val": int(len(splits[0][1])),
        "plate_stats": plate_stats,
        "onnx_parity_max_abs": diff,
        "test": {k: v for k, v in res.items() if k != "confusion"},
        "machine": f"{platform.machine()}, {_cpus()} CPU cores",
    }
    (out / "chars.json").write_text(json.dumps(meta, indent=1))
    (out / "MODEL_CARD.md").write_text(_model_card(meta, res))
    click.echo(f"wrote {out}/MODEL_CARD.md; total {total:.0f} s")


def _command_line(data, out, plates, epochs, seed, synthetic, augment, test_fraction, batch_size,
                  patience, weighting, synth_plates=0, templates=None, seeds=1, far=(), far_copies=2) -> str:
    """The command, with every option spelled out, that reproduces this run."""
    parts = ["anpr", "train", *map(str, data), "--out", str(out)]
    for p in plates:
        parts += ["--plates", str(p)]
    parts += ["--epochs", str(epochs), "--seed", str(seed)]
    if seeds > 1:
        parts += ["--seeds", str(seeds)]
    parts += ["--synthetic", str(synthetic),
              "--augment" if augment else "--no-augment", "--test-fraction", str(test_fraction),
              "--batch-size", str(batch_size), "--patience", str(patience), "--weighting", weighting]
    for f in far:
        parts += ["--far", str(f)]
    if far:
        parts += ["--far-copies", str(far_copies)]
    if synth_plates:
        parts += ["--synth-plates", str(synth_plates)]
    if templates:
        parts += ["--templates", str(templates)]
    return " ".join(shlex.quote(a) for a in parts)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def library_versions() -> dict[str, str]:
    """Versions of Python and the training libraries, for model cards."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("tensorflow-cpu", "tensorflow", "keras", "onnxruntime", "opencv-python-headless", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _model_card(meta: dict, res: dict) -> str:
    from ..normalize import CLASSES
    from .evaluate import worst_classes

    def counts_table(counts: dict) -> list[str]:
        rows = ["| source | crops | classes | fewest |", "| --- | ---: | ---: | --- |"]
        for s, c in counts.items():
            lo = min(c, key=c.get)
            rows.append(f"| {s} | {sum(c.values())} | {len(c)} | {lo}: {c[lo]} |")
        return rows

    t = meta["test"]
    n_members = meta["seeds"]
    mean_of = (f"The mean of the class probabilities of {n_members} such CNNs trained with seeds "
               f"{meta['seed']}-{meta['seed'] + n_members - 1} (`anpr.train.ensemble`), in one file. "
               if n_members > 1 else "")
    lines = [
        "# Character model `chars.onnx`",
        "",
        "36-class CNN (`0-9A-Z`, order of `anpr.normalize.CLASSES`) reading 28x28x1 float32 crops from",
        "`anpr.normalize.normalize_batch` (light glyph on dark). Three blocks, each a 3x3 convolution",
        "(32, 64, 128 filters), BatchNorm, LeakyReLU, 2x2 max-pool and dropout; dense 256 head with",
        "BatchNorm, LeakyReLU and dropout; softmax. " + mean_of
        + "Exported with `model.export(format=\"onnx\")`;",
        f"max |Keras - ONNX| on test crops: {meta['onnx_parity_max_abs']:.1e}.",
        "",
        "## How it was trained",
        "",
        f"- date: {meta['date']}; anpr {meta['anpr_version']}; "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"- machine: {meta['machine']} (shared with other jobs while training)",
        f"- command (from the repository root): `{meta['command']}`",
        f"- time: {meta['train_seconds_fit'] / 60:.1f} min fitting, "
        f"{meta['train_seconds_total'] / 60:.1f} min for the whole command "
        + (f"({meta['epochs_run']} epochs, best {meta['best_epoch']}, seed {meta['seed']})" if n_members == 1
           else f"({n_members} seeds: " + "; ".join(
               f"seed {m['seed']} {m['epochs_run']} epochs, best {m['best_epoch']}" for m in meta["members"]) + ")"),
        f"- augmentation: {'on' if meta['augment'] else 'off'}; synthetic glyphs: {meta['synthetic']}; "
        f"synthetic US plates (`anpr.train.plates`, vendored FHWA-style and DIN fonts): "
        f"{meta.get('synth_plates', 0)}; "
        f"class weighting: {meta['weighting']}",
        "- split: crops are grouped (same plate text, or for the character sheets, blocks of "
        "25 consecutive file numbers within a source since no sheet id exists); plate crops are "
        "held out exactly when the plate is in the `anpr.split` check part; "
        f"{meta['test_fraction']:.0%} of the other groups are held out for testing by a hash of the group id, "
        "decided before training. The rest is split 80/20 (by group, seeded) into train and validation; "
        "early stopping on validation loss. Synthetic glyphs are used for training only.",
        "- plate crops: each labelled plate is cut with `anpr.segment.segment_plate` / `cut_chars` and "
        "kept only when the segmenter returns exactly `len(text)` boxes.",
        "",
    ]
    for src, st in meta["plate_stats"].items():
        far_note = f", and {st['far_crops']} crops of far copies (training only)" if st.get("far_crops") else ""
        lines.append(f"  - {src}: {st['kept']} of {st['plates']} plates kept, {st['crops']} crops{far_note}")
    lines += ["", "### Data (train + validation)", ""] + counts_table(meta["counts_train_val"])
    lines += ["", f"train {meta['n_train']} / validation {meta['n_val']} crops", ""]
    lines += ["### Held-out test data", ""] + counts_table(meta["counts_test"])
    lines += ["", "## Test results (held-out real crops)", ""]
    if n_members > 1:
        lines += ["Each member alone, then the mean:", "",
                  "| model | strict | O/0 merged | O/0 + I/1 merged |", "| --- | ---: | ---: | ---: |"]
        for m in meta["members"] + [{"seed": "mean", "test": t}]:
            name = f"seed {m['seed']}" if m["seed"] != "mean" else "**mean (shipped)**"
            mt = m["test"]
            lines.append(f"| {name} | {mt['accuracy']:.4f} | {mt['accuracy_o0_merged']:.4f} "
                         f"| {mt['accuracy_lookalike_merged']:.4f} |")
        lines += [""]
    lines += [
        f"- accuracy, O/0 strict: **{t['accuracy']:.4f}** ({t['n']} crops)",
        f"- accuracy, O/0 merged: **{t['accuracy_o0_merged']:.4f}**",
        f"- accuracy, O/0 and I/1 merged: {t['accuracy_lookalike_merged']:.4f} (Brazilian plates draw "
        "`I` like `1` and `O` like `0`; the reader settles these with the region's plate formats)",
        "",
        "| source | crops | strict | O/0 merged | O/0 + I/1 merged |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s, v in t["per_source"].items():
        lines.append(
            f"| {s} | {v['n']} | {v['accuracy']:.4f} | {v['accuracy_o0_merged']:.4f} "
            f"| {v['accuracy_lookalike_merged']:.4f} |"
        )
    lines += ["", "Per class (test):", "", "| class | crops | recall | precision |", "| --- | ---: | ---: | ---: |"]
    for c in CLASSES:
        v = t["per_class"][c]
        if v["support"]:
            prec = "-" if v["precision"] is None else f"{v['precision']:.3f}"
            lines.append(f"| {c} | {v['support']} | {v['recall']:.3f} | {prec} |")
    worst = worst_classes(res, 30)
    lines += [
        "",
        "Lowest recall among classes with >= 30 test crops: "
        + ", ".join(f"{c} {r:.3f} (n={n})" for c, r, n in worst),
        "",
        "Most frequent confusions (true -> predicted): "
        + ", ".join(f"{a}->{b} x{k}" for a, b, k in t["top_confusions"][:10]),
        "",
        "Figures: `curves.png` (loss/accuracy per epoch), `confusion.png` (test confusion matrix),",
        "`predictions.png` (correct and the most confident incorrect test predictions).",
        "",
        "## Limits",
        "",
        "- Trained on OpenALPR character sets (GB, BR, and scanned EU sheets) and US/BR plate crops;",
        "  other plate fonts may read worse. `O` and `0` look the same on many plates: use",
        "  plate-format rules (regions) to settle them.",
        "- Data: OpenALPR benchmarks / train-ocr (AGPL-3.0); not vendored in this repository.",
        "",
    ]
    return "\n".join(lines)


@click.command()
@click.argument("data", nargs=-1, type=_DIR)
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="ONNX model (default: the shipped one).")
@click.option("--plates", multiple=True, type=_DIR, help="Plate folders (labels.csv) to cut crops from.")
@click.option("--split", type=click.Choice(["test", "all"]), default="test", show_default=True,
              help="Score only the held-out test groups (as anpr train split them), or every crop.")
@click.option("--test-fraction", default=0.15, show_default=True)
@click.option("--out", default="evaluation", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the PNGs and metrics.json.")
@click.option("--pairs", default="", metavar="AB,CD",
              help="Also measure, per source, whether the pixels can tell these class pairs apart "
                   "(e.g. O0,I1,D0): balanced grouped 5-fold SVM accuracy, 0.5 = drawn alike.")
def evaluate(data, model_path, plates, split, test_fraction, out, pairs):
    """Score the character model on class-per-folder trees DATA... (and plate folders)."""
    try:
        for mod in ("sklearn", "matplotlib"):
            require(mod, "train")
        pair_list = _parse_pairs(pairs)
        _evaluate(data, model_path, plates, split, test_fraction, out, pair_list)
    except (MissingExtraError, AnprError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _parse_pairs(text: str) -> list[tuple[str, str]]:
    from ..normalize import CLASSES

    out = []
    for tok in filter(None, (t.strip().upper() for t in text.split(","))):
        if len(tok) != 2 or any(c not in CLASSES for c in tok):
            raise click.BadParameter(f"{tok!r}: give two classes from 0-9A-Z, e.g. O0", param_hint="--pairs")
        out.append((tok[0], tok[1]))
    return out


def _evaluate(data, model_path, plates, split, test_fraction, out, pairs=()):
    from ..classify import CharClassifier
    from . import datasets as ds
    from . import evaluate as ev

    if not data and not plates:
        raise click.UsageError("give at least one DATA folder or --plates folder")
    clf = CharClassifier(model_path)
    full, _, _ = _load(data, plates, 0, 0)
    allset = ds.grouped_split(full, test_fraction)[1] if split == "test" else full
    if not len(allset):
        raise ValueError("no crops to evaluate")
    x, y = ds.to_arrays(allset)
    probs = clf.predict_normalized(x)
    res = ev.score(y, probs, allset.sources)
    click.echo(f"model: {clf.path}; crops: {len(y)} ({split})")
    click.echo(ev.report_text(y, probs))
    click.echo(ev.format_summary(res))
    out.mkdir(parents=True, exist_ok=True)
    ev.plot_confusion(np.array(res["confusion"]), out / "confusion.png")
    ev.plot_predictions(x, y, probs, out / "predictions.png")
    (out / "metrics.json").write_text(json.dumps({k: v for k, v in res.items()}, indent=1))
    click.echo(f"wrote {out}/confusion.png, {out}/predictions.png, {out}/metrics.json")
    if pairs:
        # On every crop given (not just the test split): a property of the data, not of the model.
        xa, ya = (x, y) if split == "all" else ds.to_arrays(full)
        src, grp = np.asarray(full.sources), np.asarray(full.groups)
        click.echo("pixel separability (balanced, grouped 5-fold SVM; 0.5 = drawn alike):")
        for s in sorted(set(src.tolist())):
            m = src == s
            for a, b in pairs:
                acc, n = ev.separability(xa[m], ya[m], grp[m], (a, b))
                if n >= 10:
                    click.echo(f"  {s:<16} {a} vs {b}: {acc:.3f} ({n}+{n} crops)")

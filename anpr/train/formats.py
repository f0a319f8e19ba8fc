"""``anpr count-formats``: how often each plate layout occurs, per region, in labelled data.

The character model cannot tell ``O`` from ``0`` on most plates (many fonts draw them
alike), and often hesitates between ``I`` and ``1`` or ``D`` and ``0``; the layout can
tell. `anpr.decode.settle_layout` writes each such glyph as the letter or the digit
that makes the reading most probable: its layout's frequency (``L`` letter, ``N``
digit) in these counts times the classifier's probabilities. Only the *fit* part of
each folder (`anpr.split`) is counted.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
from collections import Counter
from pathlib import Path

import click

from ..decode import layout_of
from ..split import part_of


def count_layouts(folder: Path) -> Counter:
    """Layouts of the fit-part labels of one folder (``labels.csv`` with a ``plate`` column)."""
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise click.ClickException(f"{folder}: no labels.csv")
    out: Counter = Counter()
    seen: set[str] = set()
    with open(labels, newline="") as f:
        for row in csv.DictReader(f):
            text = (row.get("plate") or "").strip().upper()
            if not text or text in seen or part_of(text) != "fit":
                continue
            seen.add(text)  # views of one plate count once
            out[layout_of(text)] += 1
    return out


@click.command("count-formats")
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("anpr/layouts.json"), show_default=True)
def count_formats(folders: tuple[Path, ...], out: Path) -> None:
    """Count plate layouts per region in FOLDERS (the region is each folder's name:
    scenes/us and plates/us both count for us)."""
    counts: dict[str, Counter] = {}
    for folder in folders:
        counts.setdefault(folder.name, Counter()).update(count_layouts(folder))
    data = {
        "description": "Plate layouts (L letter, N digit) counted in the fit part of labelled "
                       "plates, per region; used by anpr.decode.settle_layout.",
        "command": "anpr count-formats " + " ".join(str(f) for f in folders) + f" --out {out}",
        "date": _dt.date.today().isoformat(),
        "counts": {r: dict(c.most_common()) for r, c in sorted(counts.items())},
    }
    out.write_text(json.dumps(data, indent=1) + "\n")
    for r, c in sorted(counts.items()):
        click.echo(f"{r}: {sum(c.values())} plates, {len(c)} layouts; most common {c.most_common(3)}")
    click.echo(f"wrote {out}")

"""``anpr synth-plates``: draw synthetic plates to look at, or to train on."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click


@click.command("synth-plates")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the plates, labels.csv, boxes.json and sheet.png.")
@click.option("-n", "count", default=48, show_default=True, type=click.IntRange(min=1), help="Plates to draw.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same plates.")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Blank plate images to draw on (e.g. ../shared/data/templates/us); plain plates if left out.")
@click.option("--sheet-size", default=48, show_default=True, type=click.IntRange(min=0),
              help="Plates on the contact sheet (0: none).")
def synth_plates(out: Path, count: int, seed: int, templates: Path | None, sheet_size: int) -> None:
    """Draw COUNT synthetic US plates with their glyph boxes into OUT.

    OUT gets one PNG per plate, labels.csv (image,plate,region: the layout
    `anpr benchmark --crop` and `anpr train --plates` read), boxes.json (each glyph's
    x, y, w, h) and sheet.png, a contact sheet with every glyph box drawn.
    """
    import cv2

    from .plates import contact_sheet, load_templates
    from .plates import synth_plates as draw

    try:
        bgs = load_templates(templates)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    shown: list = []
    boxes: dict = {}
    rows: list = []
    with click.progressbar(draw(count, seed, bgs), length=count, label="drawing plates", file=sys.stderr) as bar:
        for k, plate in enumerate(bar):
            name = f"synth-{seed}-{k:05d}.png"
            if not cv2.imwrite(str(out / name), plate.image):
                raise click.ClickException(f"{out / name}: cannot write")
            rows.append((name, plate.text, "us"))
            boxes[name] = [list(b) for b in plate.boxes]
            if len(shown) < sheet_size:
                shown.append(plate)
    with open(out / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate", "region"])
        w.writerows(rows)
    (out / "boxes.json").write_text(json.dumps(boxes))
    if shown:
        cv2.imwrite(str(out / "sheet.png"), contact_sheet(shown))
    click.echo(f"wrote {count} plates, labels.csv, boxes.json" + (" and sheet.png" if shown else "") + f" to {out}")

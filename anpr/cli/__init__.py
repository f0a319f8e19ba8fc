"""The ``anpr`` command line.

Each command lives in a module of its own and is imported only when it runs, so
``anpr read-plate`` never pays for the training stack and ``anpr --help`` stays quick.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__

# command name -> "module:attribute" of a click.Command
COMMANDS = {
    "read-plate": "anpr.cli.read:read_plate",
    "batch": "anpr.cli.batch:batch",
    "benchmark": "anpr.cli.bench:benchmark",
    "train": "anpr.train.cli:train",
    "evaluate": "anpr.train.cli:evaluate",
    "train-verifier": "anpr.train.verifier_cli:train_verifier",
    "read-video": "anpr.cli.video:read_video",
    "serve": "anpr.cli.serve:serve",
    "synth-plates": "anpr.train.plates_cli:synth_plates",
    "count-formats": "anpr.train.formats:count_formats",
    "train-glyphs": "anpr.train.glyphs_cli:train_glyphs",
    "train-ocr": "anpr.train.ocr_cli:train_ocr",
    "train-chooser": "anpr.train.chooser_cli:train_chooser",
    "train-platemap": "anpr.train.platemap_cli:train_platemap",
    "train-calibration": "anpr.train.calibration_cli:train_calibration",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="anpr")
def main() -> None:
    """Read vehicle number plates from photos."""


if __name__ == "__main__":  # pragma: no cover
    main()

"""``anpr batch FOLDER --output results.jsonl``: read every photo in a folder."""

from __future__ import annotations

import sys

import click

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    crop_option,
    default_workers,
    display,
    echo_err,
    errors_to_exit,
    max_pixels,
    max_pixels_option,
    model_option,
    quiet_opencv,
    reader_kwargs,
    region_option,
    verbose_option,
)


@click.command("batch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Results file: .jsonl (JSON Lines) or .csv.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to read with; default: all cores.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Read on a Dask cluster (tcp://host:8786) instead; needs anpr[dask].",
)
@click.option(
    "--send-bytes",
    is_flag=True,
    help="With --scheduler: send the files' bytes from here, for workers that cannot see this filesystem.",
)
@click.option("--resume", is_flag=True, help="Continue an existing output: skip the images already in it.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@region_option
@model_option
@crop_option
@max_pixels_option
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar on stderr.")
@verbose_option
def batch(
    folder: str,
    output: str,
    workers: int | None,
    scheduler: str | None,
    send_bytes: bool,
    resume: bool,
    overwrite: bool,
    region: str | None,
    model: str | None,
    crop: bool,
    max_megapixels: float,
    progress: bool,
    verbose: bool,
) -> None:
    """Read every photo under FOLDER (recursively) into the --output file.

    Files ending in .jpg .jpeg .png .bmp .tif .tiff .webp (any case) are read in
    sorted path order; other files are skipped and counted. Each image gets one
    record, in the same form as `anpr read-plate --json`, appended and flushed as
    soon as it is read, so a killed run keeps its work: run it again with --resume
    to finish. A .csv output is assembled at the end from a journal
    (OUTPUT.partial.jsonl) and renamed into place; its columns are image, width,
    height, text, confidence, box (of the best plate), plates_json (all plates),
    time_ms, error. An existing output is never overwritten without --overwrite.

    Exit code 0 when every image was read (with or without a plate), 1 when some
    could not be.
    """
    if resume and overwrite:
        raise click.UsageError("--resume and --overwrite cannot be used together")
    if send_bytes and not scheduler:
        raise click.UsageError("--send-bytes needs --scheduler")
    from ..batch import OutputExistsError, journal_path, run_batch

    bar = None
    failed = False
    with errors_to_exit(verbose, model):
        quiet_opencv(verbose)

        def on_start(n: int) -> None:
            nonlocal bar
            if progress and n:
                bar = click.progressbar(length=n, label="reading", file=sys.stderr)
                bar.__enter__()

        def on_record(record: dict) -> None:
            if bar is not None:
                bar.update(1)

        try:
            summary = run_batch(
                folder,
                output,
                workers=workers or default_workers(),
                scheduler=scheduler,
                send_bytes=send_bytes,
                resume=resume,
                overwrite=overwrite,
                reader_kwargs=reader_kwargs(model, region),
                crop=crop,
                max_pixels=max_pixels(max_megapixels),
                on_start=on_start,
                on_record=on_record,
            )
        except (OutputExistsError, ValueError) as exc:  # ValueError: options that clash
            _close(bar)
            echo_err(f"error: {exc}")
            raise SystemExit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            _close(bar)
            echo_err(
                f"interrupted: the images read so far are in {journal_path(output)}; "
                "run again with --resume to finish"
            )
            raise SystemExit(130) from None
        finally:
            _close(bar)
        click.echo(display(summary.format()), err=True)
        failed = not summary.ok
    raise SystemExit(EXIT_FAILED if failed else EXIT_OK)


def _close(bar) -> None:
    if bar is not None and not getattr(bar, "_anpr_closed", False):
        bar.__exit__(None, None, None)
        bar._anpr_closed = True

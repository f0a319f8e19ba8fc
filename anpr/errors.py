"""Exceptions raised by anpr.

Every error that a user can cause (a bad file, a bad array, a missing model) is one of
these, with a one-line message that names the input and the problem, so the CLI can
print it without a traceback.
"""

from __future__ import annotations


class AnprError(Exception):
    """Base class of the errors anpr raises on purpose."""


class ImageError(AnprError, ValueError):
    """The input is not an image anpr can read (missing, empty, truncated, too big...)."""


class ModelError(AnprError, RuntimeError):
    """The character model is missing, corrupt or of the wrong shape."""


class MissingExtraError(AnprError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


def require(module: str, extra: str):
    """Import ``module`` or raise `MissingExtraError` naming the pip extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            f"{module} is needed for this; install it with: pip install 'anpr[{extra}]'"
        ) from exc


class VideoError(AnprError, ValueError):
    """A video source cannot be opened or read (not a video, empty, unreachable...)."""


class OutputExistsError(AnprError):
    """The results file exists and neither resume nor overwrite was asked for."""


class SchedulerError(AnprError):
    """The Dask scheduler cannot be reached."""

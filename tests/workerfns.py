"""Module-level functions for process-pool tests (worker processes import them by name)."""

from __future__ import annotations

import os


def crash_on(bad: str):
    """Factory: a function that returns ``item * 2``, or kills its process on ``bad``."""

    def fn(item: str) -> str:
        if item == bad:
            os._exit(3)  # what a segfault in a decoder looks like to the pool
        return item * 2

    return fn


def failing_factory(message: str):
    """Factory that cannot start (like a reader whose model is missing)."""
    raise RuntimeError(message)

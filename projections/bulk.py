"""Bulk work (an import, a rebuild) without the cyclic garbage collector's passes.

Such work allocates hundreds of thousands of objects that live until it ends, and every
automatic collection walks them again: a third of an import's time, measured. Events,
states and rows hold no reference cycles, so reference counting frees what a bulk job
drops; the collector is paused for the job and resumes when it ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause automatic cyclic collection for a bulk job (nested uses are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_young() -> None:
    """Collect cycles among the newest objects only (cheap): what a long bulk job calls
    between batches, so that a cycle it did not expect cannot pile up."""
    gc.collect(0)

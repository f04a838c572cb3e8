"""Bulk work (an import, a rebuild) without the cyclic garbage collector's passes.

Such work allocates hundreds of thousands of objects that live until it ends, and every
automatic collection walks them again: a third of an import's time, measured. Events,
states and rows hold no reference cycles, so reference counting frees what a bulk job
drops; the collector is paused for the job and resumes when it ends.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


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


def next_answer(reader: Any, failure: Callable[[str | None], Exception]) -> Any:
    """The next object a process sharing a bulk job sent through its pipe (`reader`, a
    multiprocessing Connection). A process that died (its end closed) or sent a traceback
    (text) instead raises what `failure` makes of it: of None if it died, else of the
    traceback."""
    try:
        answer = reader.recv()
    except EOFError:
        raise failure(None) from None
    if isinstance(answer, str):
        raise failure(answer)
    return answer

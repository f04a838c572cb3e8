"""Every process the composition root wires collects its youngest objects every
`collector.YOUNGEST` new ones (`cmsbot.collector`), and still frees the loops it makes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsbot import collector
from tests.conftest import make_container


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    """CPython's own thresholds for the test; the process's again after it."""
    kept = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*kept)


@pytest.mark.usefixtures("default_thresholds")
def test_the_composition_root_tunes_the_collector(tmp_path: Path) -> None:
    made = make_container(f"sqlite:///{tmp_path}/cmsbot.sqlite")
    try:
        assert gc.get_threshold() == (collector.YOUNGEST, 10, 10)
    finally:
        made.close()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.mark.usefixtures("default_thresholds")
def test_a_loop_is_still_freed_without_being_asked() -> None:
    collector.tune()
    gc.collect()  # a clean start: nothing of the test's is in the older generations
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    kept: list[list[int]] = [[] for _ in range(collector.YOUNGEST * 2)]  # new, still alive
    assert gone() is None
    assert len(kept) == collector.YOUNGEST * 2

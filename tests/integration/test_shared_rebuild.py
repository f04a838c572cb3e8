"""The shared rebuild (`projections.parallel_rebuild`) is a fast path of the plain one: a
long log is rebuilt by two processes, each decoding and applying half of the items'
events. The views must be exactly those one process rebuilds, on both stores, and a helper
that fails must leave a rebuild in one process, not a broken one."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import pytest

from cmsbot.app.auth import Principal
from cmsbot.bootstrap import Container
from cmsbot.digests.notices import unsent
from cmsbot.digests.service import Subscriptions
from cmsbot.eventstore.tracker import Tracker
from domain.provenance import Source
from projections.parallel_rebuild import PAGES_AHEAD, LogRow
from projections.projector import Projector
from projections.source import Positioned
from tests.integration.rebuilds import SHARED, every_view


class HelperFails:
    """The store as a rebuild reads it, except that decoding in any other process (the
    helper the rebuild forks) does `fail` first."""

    def __init__(self, tracker: Tracker, fail: Callable[[], None]) -> None:
        self.tracker, self.fail, self.pid = tracker, fail, os.getpid()

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        return self.tracker.read(after, limit)

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        return list(self.tracker.item_events(aggregate_id, up_to_version=up_to_version))

    def head(self) -> int:
        return self.tracker.head()

    def read_rows(self, after: int, limit: int) -> list[LogRow]:
        return self.tracker.read_rows(after, limit)

    def decode_rows(self, rows: Sequence[LogRow]) -> Sequence[Positioned]:
        if os.getpid() != self.pid:
            self.fail()
        return self.tracker.decode_rows(rows)

    def originators_of(self, *event_types: type[Any]) -> set[str]:
        return self.tracker.originators_of(*event_types)

    def last_positions(self, after: int, through: int) -> dict[str, int]:
        return self.tracker.last_positions(after, through)


class HelperWaits(HelperFails):
    """The store as a rebuild reads it, except that the helper decodes nothing until this
    process has decoded its own part of `PAGES_AHEAD` pages, as when an item's events fill
    the helper's first pages: the rebuilding process must not wait for its answers page by
    page."""

    def __init__(self, tracker: Tracker) -> None:
        super().__init__(tracker, self.wait)
        self.ahead = multiprocessing.get_context("fork").Event()
        self.decoded = 0

    def wait(self) -> None:
        if not self.ahead.wait(30):
            raise TimeoutError("the rebuilding process waited for each page's answers")

    def decode_rows(self, rows: Sequence[LogRow]) -> Sequence[Positioned]:
        if os.getpid() == self.pid:
            self.decoded += 1
            if self.decoded == PAGES_AHEAD:
                self.ahead.set()
        return super().decode_rows(rows)


def rebuilt(container: Container, caplog: pytest.LogCaptureFixture, *, shared: bool,
            source: Any = None, **options: Any) -> tuple[dict[str, Any], bool]:
    """The views a rebuild makes (by a `Projector` with these options besides), and
    whether it was shared with a second process to the end."""
    projector = Projector(container.engine, source or container.tracker,
                          share_rebuild_from=0 if shared else None, **options)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="projections"):
        assert projector.rebuild() == container.tracker.head()
    return every_view(container), SHARED in caplog.text


def test_a_shared_rebuild_gives_the_views_of_one_process(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    one, was_shared = rebuilt(long_history, caplog, shared=False)
    assert not was_shared  # the plain rebuild, unless asked for
    shared, was_shared = rebuilt(long_history, caplog, shared=True)
    # It was shared: the helper answered to the end (revised items never reached it, or
    # it would have failed and the rebuild gone to one process).
    assert was_shared
    assert shared == one
    assert len(shared["activity"]) > 600


def test_the_rebuilding_process_runs_pages_ahead_of_a_busy_helper(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    one, _ = rebuilt(long_history, caplog, shared=False)
    # Pages of 15 events: the history's hundreds make dozens, and answers come in late.
    ahead, was_shared = rebuilt(long_history, caplog, shared=True, batch_size=3,
                                source=HelperWaits(long_history.tracker))
    assert "waited for each page" not in caplog.text
    assert was_shared
    assert ahead == one


def test_a_helper_that_dies_leaves_a_rebuild_in_one_process(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    one, _ = rebuilt(long_history, caplog, shared=False)
    again, was_shared = rebuilt(long_history, caplog, shared=True,
                                source=HelperFails(long_history.tracker, lambda: os._exit(3)))
    assert again == one
    assert not was_shared
    assert "Rebuilding in one process" in caplog.text
    assert "ended without an answer" in caplog.text


def test_a_helper_that_fails_says_why_and_the_rebuild_is_whole(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    one, _ = rebuilt(long_history, caplog, shared=False)

    def fail() -> None:
        raise MemoryError("out of memory in the helper")

    again, was_shared = rebuilt(long_history, caplog, shared=True,
                                source=HelperFails(long_history.tracker, fail))
    assert again == one
    assert not was_shared
    assert "out of memory in the helper" in caplog.text


def test_notices_still_owed_to_a_follower_keep_a_rebuild_in_one_process(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    editor = Principal("U0EDITOR", may_record=True)
    Subscriptions(long_history.tracker, long_history.readmodel).follow(editor, "C1", "IWC JWP",
                                                            in_channel=True)
    long_history.recorder.record(editor, key="iwc-jwp", what="progress reported",
                            occurred="late 2016", fields={"summary": "a step"},
                            source=Source("TEST/1", "2"))
    # The views, and the notices with them, are behind the log: only a process holding
    # every item's state can make the notice.
    _, was_shared = rebuilt(long_history, caplog, shared=True)
    assert not was_shared
    assert [notice.text for notice in unsent(long_history.engine)] == [
        "Progress reported: a step (late 2016) — TEST/1 ¶2"]

"""A bulk transaction (a rebuild, a long catch-up) writes an item's rows and forgets it as
soon as it has applied the item's last event in the log (`projections.batch.Bulk`), when
the store can say where each item's events end. The views must be exactly those it makes
holding every item to the end, as it does with a store that cannot say; and the events
recorded after it began are left to the next catch-up."""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, insert

from bench.synth import history as synthetic
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.eventstore.tracker import Tracker
from domain.provenance import Source
from projections import batch
from projections import tables as t
from projections.projector import Projector
from projections.source import Ends, Positioned
from projections.tables import VIEW_TABLES
from tests.audit.helpers import top_version
from tests.integration.rebuilds import SHAPE, SHARED, every_view

PAGE = 3  # a projector's batch; a bulk page is five of them, so most items span pages
AT_ONCE = 3  # ended items written together (`batch.ITEMS_A_WRITE`), few: the history is short


@pytest.fixture(autouse=True)
def _few_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "ITEMS_A_WRITE", AT_ONCE)


class NoEnds:
    """The store as a bulk transaction reads it, without saying where items' events end."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        return self.tracker.read(after, limit)

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        return list(self.tracker.item_events(aggregate_id, up_to_version=up_to_version))


class EndsEarlier(NoEnds):
    """The store as it stood when it held only its first `head` events: as a bulk
    transaction sees it when the rest are recorded while it runs."""

    def __init__(self, tracker: Tracker, head: int) -> None:
        super().__init__(tracker)
        self.at = head

    def head(self) -> int:
        return self.at

    def last_positions(self, after: int, through: int) -> dict[str, int]:
        return self.tracker.last_positions(after, through)


def interleave(container: Container) -> None:
    """Events on a dozen items in turn, so that each item's last event is pages after its
    first: notes, meetings put off to dates told out of order, and corrections and
    retractions of those events."""
    items = synthetic(SHAPE)["items"]
    meetings = [entry["key"] for entry in items if entry["kind"] == "meeting"
                and entry["events"][-1]["type"] == "rescheduled"][:3]  # not held
    keys = meetings + [entry["key"] for entry in items if entry["kind"] != "meeting"][:9]
    assert len(meetings) == 3
    first: dict[str, int] = {}  # each item's first event here, by its version
    for round_, key in itertools.product(range(3), keys):
        source = Source("TEST/2", str(round_ + 1))
        record = functools.partial(container.recorder.record, LOCAL_OPERATOR, key=key,
                                   occurred=f"{2017 - round_}-06-01", source=source)
        if key in meetings:
            record(what="rescheduled", fields={"dates": f"{2021 - round_}-05"})
        else:
            record(what="noted", fields={}, note=f"step {round_}")
        if round_ == 0:
            first[key] = top_version(container, key)
        elif round_ == 1 and keys.index(key) % 3 == 0:
            record(what="corrected", fields={"corrects": first[key], "reason": "misread",
                                             "changes": {"dates": "2030-01"} if key in meetings
                                             else {"note": "another step"}})
        elif round_ == 2 and keys.index(key) % 3 == 1:
            record(what="retracted", fields={"retracts": first[key], "reason": "twice"})


def restore(container: Container, held: dict[str, Any]) -> None:
    """Put the views back as `every_view` read them."""
    with container.engine.begin() as conn:
        for table in (*VIEW_TABLES, t.positions):
            conn.execute(delete(table))
            name = "positions" if table is t.positions else table.name
            rows = [dict(zip(table.columns.keys(), row, strict=True)) for row in held[name]]
            if rows:
                conn.execute(insert(table), rows)


def test_the_tracker_says_where_each_items_events_end(long_history: Container) -> None:
    tracker = long_history.tracker
    assert isinstance(tracker, Ends)
    head = tracker.head()
    ends = tracker.last_positions(0, head)
    every: dict[str, int] = {}
    for logged in tracker.iter_log():
        every[str(logged.event.originator_id)] = logged.position
    assert ends == every
    middle = head // 2
    assert tracker.last_positions(middle, head) == {
        key: end for key, end in every.items() if end > middle}
    assert max(tracker.last_positions(0, middle).values()) == middle


def test_a_rebuild_that_writes_items_as_they_end_makes_the_same_views(
        long_history: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    interleave(long_history)
    Projector(long_history.engine, NoEnds(long_history.tracker), batch_size=PAGE).rebuild()
    held = every_view(long_history)
    kept: list[int] = []  # how many items the rebuild still held when its log ended
    write_items = batch.write_items

    def counting(conn: Any, source: Any, bulk: batch.Bulk) -> None:
        kept.append(len(bulk.states))
        write_items(conn, source, bulk)

    monkeypatch.setattr(batch, "write_items", counting)
    Projector(long_history.engine, long_history.tracker, batch_size=PAGE).rebuild()
    assert every_view(long_history) == held
    # Every item's events end in the log: only ended items waiting for a write are left,
    # fewer than a write takes (without the ends, every item is: 83).
    assert kept and kept[0] < AT_ONCE


def test_a_shared_rebuild_in_small_pages_makes_the_same_views(
        long_history: Container, caplog: pytest.LogCaptureFixture) -> None:
    """Its forked process writes its items as they end too: it sends their rows after
    the page that ended them, and the rebuilding process runs them as they come, while it
    applies the pages it has sent ahead."""
    interleave(long_history)
    Projector(long_history.engine, NoEnds(long_history.tracker), batch_size=PAGE).rebuild()
    held = every_view(long_history)
    shared = Projector(long_history.engine, long_history.tracker, batch_size=PAGE,
                       share_rebuild_from=0)
    with caplog.at_level(logging.INFO, logger="projections"):
        shared.rebuild()
    assert SHARED in caplog.text
    assert every_view(long_history) == held


def test_a_long_catch_up_that_writes_items_as_they_end_makes_the_same_views(
        long_history: Container) -> None:
    before = every_view(long_history)
    interleave(long_history)
    long_history.catch_up()  # a batch at a time
    caught = every_view(long_history)
    restore(long_history, before)  # as if the views had stopped before these events
    Projector(long_history.engine, NoEnds(long_history.tracker), batch_size=PAGE).catch_up_in_bulk()
    assert every_view(long_history) == caught
    restore(long_history, before)
    Projector(long_history.engine, long_history.tracker, batch_size=PAGE).catch_up_in_bulk()
    assert every_view(long_history) == caught


def test_a_bulk_transaction_leaves_what_was_recorded_after_it_began(
        long_history: Container) -> None:
    interleave(long_history)
    Projector(long_history.engine, NoEnds(long_history.tracker)).rebuild()
    whole = every_view(long_history)
    head = long_history.tracker.head()
    earlier = head - 20
    projector = Projector(long_history.engine, EndsEarlier(long_history.tracker, earlier),
                          batch_size=PAGE)
    assert projector.rebuild() == earlier
    assert projector.position() == earlier
    projector.catch_up()
    assert every_view(long_history) == whole

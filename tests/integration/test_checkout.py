"""A writer checks the cached item out to itself (`Tracker.item_checked_out`, the fast path)
instead of changing a copy of its own (`Tracker.item`, the plain path): the cached item
after each command and save is the item folded afresh from the store, whatever failed on
the way; and no other thread loads or copies it meanwhile."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.app.recording import Recorder
from cmsbot.bootstrap import Container
from domain.dates import PartialDate
from domain.errors import DomainError, UnknownItemError
from domain.items import Item, item_id
from domain.provenance import Fact, Source
from tests.conftest import make_container

KEY = "unep-mts"


def fresh_fold(container: Container, key: str) -> tuple[Any, ...]:
    """The item folded from its stored events alone, as a comparable value."""
    item: Any = None
    for event in container.tracker.item_events(item_id(key)):
        item = event.mutate(item)
    assert isinstance(item, Item)
    return seen(item)


def seen(item: Item) -> tuple[Any, ...]:
    return (item.version, item.state.to_dict(), list(item.history), set(item.refs),
            list(item.pending_events))


def cached(container: Container, key: str) -> tuple[Any, ...]:
    """What the next writer would be handed, seen without changing it."""
    with container.tracker.item_checked_out(key) as item:
        return seen(item)


def fact(number: int) -> Fact:
    return Fact(PartialDate.parse("2016"), "tester", Source("TEST/C", str(number)))


def record(recorder: Recorder, summary: str) -> int:
    return recorder.record(LOCAL_OPERATOR, key=KEY, what="progress noted",
                           fields={"summary": summary}, occurred="2016",
                           source=Source("TEST/C", summary)).version


class TestTheCheckedOutItemIsTheStoredOne:
    def test_after_each_record(self, seeded: Container) -> None:
        for number in range(5):
            record(seeded.recorder, f"step {number}")
            assert cached(seeded, KEY) == fresh_fold(seeded, KEY)
        assert seeded.tracker.item(KEY).version == fresh_fold(seeded, KEY)[0]

    def test_after_a_command_that_is_refused(self, seeded: Container) -> None:
        before = fresh_fold(seeded, KEY)
        with pytest.raises(DomainError):
            seeded.recorder.record(LOCAL_OPERATOR, key=KEY, what="corrected",
                                   fields={"corrects": 999, "changes": {"summary": "x"},
                                           "reason": "none"},
                                   occurred="2016", source=Source("TEST/C", "bad"))
        assert cached(seeded, KEY) == fresh_fold(seeded, KEY) == before

    def test_after_a_block_that_fails_once_its_command_changed_the_item(
            self, seeded: Container) -> None:
        before = fresh_fold(seeded, KEY)
        with pytest.raises(RuntimeError), seeded.tracker.item_checked_out(KEY) as item:
            item.link_document(fact(1), document="DOC/NEVER")
            raise RuntimeError("failed before the save")
        assert cached(seeded, KEY) == before

    def test_after_a_block_that_leaves_its_event_unsaved(self, seeded: Container) -> None:
        before = fresh_fold(seeded, KEY)
        with seeded.tracker.item_checked_out(KEY) as item:
            item.link_document(fact(2), document="DOC/UNSAVED")
        assert cached(seeded, KEY) == before

    def test_after_another_process_saved_first(self, seeded: Container,
                                               database_url: str) -> None:
        """A save that loses the race stores nothing, and the next writer is handed the
        item with the winner's event, not the loser's."""
        other = make_container(database_url)  # another process's store
        try:
            with seeded.tracker.item_checked_out(KEY) as item:
                item.link_document(fact(3), document="DOC/LOSER")
                record(other.recorder, "winner")
                with pytest.raises(IntegrityError):
                    seeded.tracker.save(item)
        except IntegrityError:
            pass
        finally:
            other.close()
        after = cached(seeded, KEY)
        assert after == fresh_fold(seeded, KEY)
        assert "DOC/LOSER" not in after[1]["documents"]
        assert record(seeded.recorder, "after the race") == after[0] + 1

    def test_the_items_own_error_for_an_unknown_key(self, seeded: Container) -> None:
        with pytest.raises(UnknownItemError, match="no-such-item"), \
                seeded.tracker.item_checked_out("no-such-item"):
            pass


class TestOneThreadAtATime:
    def test_a_copy_waits_for_the_writer_and_then_has_its_event(
            self, seeded: Container) -> None:
        copies: list[Item] = []
        reader = threading.Thread(target=lambda: copies.append(seeded.tracker.item(KEY)))
        with seeded.tracker.item_checked_out(KEY) as item:
            reader.start()
            reader.join(0.3)
            assert reader.is_alive()  # it waits for the item to be checked in
            item.link_document(fact(4), document="DOC/SAVED")
            seeded.tracker.save(item)
        reader.join(30)
        assert copies and seen(copies[0]) == fresh_fold(seeded, KEY)
        assert copies[0].state.documents[-1] == "DOC/SAVED"

    def test_a_thread_holding_one_item_may_load_another_and_itself(
            self, seeded: Container) -> None:
        with seeded.tracker.item_checked_out(KEY) as item:
            assert seeded.tracker.item("iwc-jwp").state.key == "iwc-jwp"
            assert seeded.tracker.item(KEY).version == item.version

    def test_writers_in_threads_are_each_told_their_own_event(
            self, seeded: Container) -> None:
        told: dict[str, int] = {}
        start = threading.Barrier(6)

        def writer(name: str) -> None:
            start.wait()
            for number in range(5):
                summary = f"{name}-{number}"
                told[summary] = record(seeded.recorder, summary)

        threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        events = seeded.tracker.item_events(item_id(KEY))
        by_version = {e.originator_version: getattr(e, "summary", None) for e in events}
        assert len(told) == 30
        assert all(by_version[version] == summary for summary, version in told.items())
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        assert cached(seeded, KEY) == fresh_fold(seeded, KEY)

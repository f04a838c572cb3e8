"""Each bulk fast path of the event store (`cmsbot.eventstore.bulk_rows`) gives what the
library's slow path it stands for gives, on both stores."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from cmsbot.app.auth import Principal
from cmsbot.bootstrap import Container
from cmsbot.digests.service import Subscriptions
from cmsbot.eventstore.bulk_rows import encode_rows, event_row
from domain.channels import Schedule
from domain.dates import PartialDate
from domain.items import Engagement, Partner, item_id, partner_id
from domain.provenance import Fact, Source

EDITOR = Principal("U0EDITOR", may_record=True)


def aggregates() -> list[Any]:
    """New aggregates with unsaved events: partners, and items of a few events each."""
    made: list[Any] = [Partner.register(key=f"p{n}", name=f"Partner {n}", actor="test",
                                        acronym=None, aliases=[], category=None,
                                        ref=f"test#partner/p{n}") for n in range(3)]
    for number in range(12):
        fact = Fact(PartialDate.parse(f"2016-{number % 12 + 1:02}"), "test",
                    Source("TEST/1", str(number)), None, f"test#e{number}")
        item = Engagement.register(fact, key=f"e{number}", title=f"Engagement {number}")
        for step in range(number):
            item.note_progress(fact, summary=f"step {step} of Ünïcode \"text\"")
        made.append(item)
    return made


def logged(container: Container) -> list[tuple[Any, ...]]:
    return [(n.id, uuid.UUID(str(n.originator_id)), n.originator_version, n.topic, n.state)
            for n in container.tracker.recorder.select_notifications(start=1, limit=10_000)]


def test_a_bulk_session_stores_what_insert_events_stores(container: Container,
                                                        other_store: Container) -> None:
    """The same events, inserted by the library (`insert_events` of the mapper's stored
    events) into one store and as rows, in three parts of one bulk session, into the
    other: the same log, byte for byte, and the same positions returned."""
    made = aggregates()
    events = [event for aggregate in made for event in aggregate.collect_events()]
    mapper = container.tracker.mapper
    slow = container.tracker.recorder.insert_events([mapper.to_stored_event(e)
                                                     for e in events])
    rows = [event_row(other_store.tracker.mapper.to_stored_event(e)) for e in events]
    fast: list[int] = []
    with other_store.tracker.insert_in_parts() as add:
        for part in (rows[:5], rows[5:40], rows[40:]):
            fast.extend(add(part))
    assert fast == list(slow or []) == list(range(1, len(events) + 1))
    assert logged(other_store) == logged(container)


def test_a_bulk_session_that_fails_stores_nothing(container: Container) -> None:
    rows = encode_rows(container.tracker.mapper, aggregates())
    try:
        with container.tracker.insert_in_parts() as add:
            add(rows[:10])
            raise KeyError("a later part failed")
    except KeyError:
        pass
    assert container.tracker.head() == 0


def test_existing_and_exists_are_the_librarys_in_repository(container: Container) -> None:
    made = aggregates()
    container.tracker.save(*made[::2])
    asked = [a.id for a in made] + [item_id("nothing"), partner_id("nobody")]
    found = container.tracker.existing(asked, chunk=4)  # several queries
    assert found == {i for i in asked if i in container.tracker.repository}  # loads each
    assert found == {i for i in asked if container.tracker.exists(i)}
    assert found == {a.id for a in made[::2]}


def test_rows_read_and_decoded_are_the_log_read(seeded: Container) -> None:
    tracker = seeded.tracker
    head = tracker.head()
    for after, limit in ((0, head + 10), (7, 25), (head - 3, 10), (head, 10)):
        decoded = tracker.decode_rows(tracker.read_rows(after, limit))
        assert decoded == list(tracker.read(after, limit))
    assert len(tracker.decode_rows(tracker.read_rows(0, head))) == head > 100


def test_items_events_are_each_items_events_read_alone(container: Container) -> None:
    made = aggregates()
    container.tracker.save(*made)
    items = [a.id for a in made if isinstance(a, Engagement)]
    ranges: list[tuple[int | None, int | None]] = [
        (None, None), (None, 3), (2, None), (2, 5), (4, 4), (7, 1), (0, 100)]
    wanted = {item: ranges[number % len(ranges)] for number, item in enumerate(items)}
    wanted[item_id("nothing")] = (None, None)  # never saved: no events
    read = list(container.tracker.items_events(wanted, chunk=5))  # several queries
    assert [aggregate for aggregate, _ in read] == list(wanted)
    for aggregate, events in read:
        after, up_to = wanted[aggregate]
        assert events == container.tracker.item_events(aggregate, after_version=after,
                                                       up_to_version=up_to)
    assert sum(len(events) for _, events in read) > len(items)


class _Pending:
    """An aggregate's new events, as `encode_rows` collects them."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def collect_events(self) -> list[Any]:
        return self.events


def test_rows_are_what_the_mapper_stores_for_every_kind_of_event(seeded: Container) -> None:
    """An import encodes its events as rows without the mapper's StoredEvent; the rows must
    be what the mapper makes, and what the store holds, byte for byte."""
    subscriptions = Subscriptions(seeded.tracker, seeded.readmodel)
    subscriptions.subscribe(EDITOR, "C1", Schedule(filter_kind="kind", filter_value="meeting"),
                            in_channel=True)
    seeded.recorder.record(EDITOR, key="iwc-jwp", what="corrected", occurred="2016-12-01",
                           fields={"corrects": 2, "changes": {"occurred": "2015-10"},
                                   "reason": "the month was wrong"},
                           source=Source("TEST/1", "3"))
    tracker = seeded.tracker
    stored = tracker.recorder.select_notifications(start=1, limit=10_000)
    by_originator: dict[Any, list[Any]] = defaultdict(list)
    for notification in stored:
        by_originator[notification.originator_id].append(
            tracker.mapper.to_domain_event(notification))
    rows = encode_rows(tracker.mapper, [_Pending(events) for events in by_originator.values()])
    expected = [event_row(tracker.mapper.to_stored_event(event))
                for events in by_originator.values() for event in events]
    assert rows == expected
    assert sorted(rows) == sorted(event_row(n) for n in stored)
    assert len({topic for _, _, topic, _ in rows}) >= 10

"""The SQLite recorder's one-statement path for large saves gives the same notification
ids as the row-by-row path: the positions the events really have in the log."""

from __future__ import annotations

from cmsbot.bootstrap import Container
from cmsbot.eventstore import sqliterecorder
from domain.dates import PartialDate
from domain.items import Engagement
from domain.provenance import Fact, Source


def engagement(number: int, events: int) -> Engagement:
    fact = Fact(PartialDate.parse("2016-01"), "test", Source("TEST/1", str(number)), None, None)
    item = Engagement.register(fact, key=f"e{number}", title=f"Engagement {number}")
    for step in range(events):
        item.note_progress(fact, summary=f"step {step}")
    return item


def test_a_large_save_is_given_the_positions_its_events_have(sqlite_url: str) -> None:
    from tests.conftest import make_container

    container: Container = make_container(sqlite_url)
    try:
        assert isinstance(container.tracker.recorder, sqliterecorder.BulkSQLiteRecorder)
        small = container.tracker.save(engagement(1, 3))
        large = container.tracker.save(engagement(2, sqliterecorder.MANY + 50),
                                       engagement(3, 20))
        assert len(large) > sqliterecorder.MANY
        ids = [r.notification.id for r in small + large]
        logged = container.tracker.recorder.select_notifications(start=1, limit=1000)
        assert ids == [n.id for n in logged] == list(range(1, len(ids) + 1))
        assert [(r.notification.originator_id, r.notification.originator_version)
                for r in large] == [(n.originator_id, n.originator_version)
                                    for n in logged[len(small):]]
    finally:
        container.close()

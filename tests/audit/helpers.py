"""Helpers for the audit tests: the real CLI in-process, and tampering by direct SQL."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import ColumnClause, TableClause, column, delete, select, table, update

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit import tables as t
from cmsbot.audit.walk import walk
from cmsbot.bootstrap import Container
from cmsbot.cli import main
from domain.dates import PartialDate
from domain.items import Engagement, item_id
from domain.provenance import Fact, Source
from projections import tables as views


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(url: str, *args: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    """`cmsbot ARGS…` against the store at `url`, as a user runs it (in this process)."""
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def events_table(container: Container) -> tuple[TableClause, ColumnClause[Any]]:
    """The eventsourcing table and the column that orders the log, on this backend.

    SQLite's recorder keeps `stored_events` and orders by its rowid; PostgreSQL's keeps
    `<application>_events` with a `notification_id` bigserial.
    """
    name, order = (("stored_events", "rowid") if container.settings.database.is_sqlite
                   else ("cmsbot_events", "notification_id"))
    events = table(name, column("state"), column(order))
    return events, events.c[order]


def position_of(container: Container, event_type: str, item: str | None = None) -> int:
    """The log position of the first event of a type (of an item's events, if given)."""
    keys: dict[object, str] = {}
    for entry in walk(container.tracker):
        event = entry.event
        if getattr(event, "key", None) and event.originator_version == 1:
            keys[event.originator_id] = event.key
        if type(event).__name__ == event_type and (
                item is None or keys.get(event.originator_id) == item):
            return entry.position
    raise AssertionError(f"no {event_type} in the log")


def change_event(container: Container, log_id: int, old: bytes, new: bytes) -> None:
    events, order = events_table(container)
    with container.engine.begin() as conn:
        state = bytes(conn.execute(select(events.c.state).where(order == log_id)).scalar_one())
        changed = state.replace(old, new)
        assert changed != state, "nothing to change"
        conn.execute(update(events).where(order == log_id).values(state=changed))


def delete_event(container: Container, log_id: int) -> None:
    events, order = events_table(container)
    with container.engine.begin() as conn:
        assert conn.execute(delete(events).where(order == log_id)).rowcount == 1


def swap_events(container: Container, first: int, second: int) -> None:
    """Exchange two events' places in the log."""
    events, order = events_table(container)
    with container.engine.begin() as conn:
        for source, target in ((first, -1), (second, first), (-1, second)):
            conn.execute(update(events).where(order == source).values({order.name: target}))


def rewrite_chain(container: Container) -> None:
    """What someone with write access could do to hide a change: chain the log anew."""
    with container.engine.begin() as conn:
        conn.execute(t.chain.delete())
        conn.execute(t.chain_head.update().values(position=0, log_id=0, hash=t.GENESIS))
    container.chain.catch_up()


def record_progress(container: Container, count: int, *, key: str = "unep-mts",
                    catch_up: bool = True) -> None:
    """Add `count` events to one item in one save (fast, for long logs)."""
    item = container.tracker.item(key)
    assert isinstance(item, Engagement)
    fact = Fact(PartialDate.parse("2016"), "test", Source("UNEP/CMS/StC45/18", "3"))
    for number in range(count):
        item.note_progress(fact, summary=f"contact {number}")
    container.tracker.save(item)
    if catch_up:
        container.catch_up()


def correct_and_retract(container: Container) -> None:
    """The Panama workshop's dates corrected; the Firebird submission retracted."""
    container.recorder.record(
        LOCAL_OPERATOR, key="latin-america-accession-workshop", what="corrected",
        fields={"corrects": 2, "changes": {"dates": "23-25 September 2015"},
                "reason": "the dates moved by a day"},
        occurred="2015-09-10", source=Source("UNEP/CMS/StC44/Inf.1", "3"))
    container.recorder.record(
        LOCAL_OPERATOR, key="civil-society-consultation", what="retracted",
        fields={"retracts": 3, "reason": "recorded against the wrong consultation"},
        occurred="2015-09-10", source=Source(chat="C0123 1441000000.000100"))
    container.catch_up()


def _plain(value: Any) -> Any:
    # PostgreSQL gives timestamps with their zone, SQLite in UTC without one.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def views_of(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    with container.engine.connect() as conn:
        return {table.name: sorted((tuple(map(_plain, row))
                                    for row in conn.execute(select(table))), key=repr)
                for table in (views.board, views.calendar, views.consultations,
                              views.submissions, views.activity, views.partners,
                              views.item_partners)}


def top_version(container: Container, key: str) -> int:
    """The highest version stored for the item `key` (0: none)."""
    stored = container.tracker.recorder.select_events(item_id(key), desc=True, limit=1)
    return stored[0].originator_version if stored else 0


def record_with_gap(container: Container, key: str = "iwc-jwp") -> int:
    """Store the item's next event one version too far on, as the lost write did: the
    command ran on a state that held an event which was never stored. Returns the missing
    version."""
    item = container.tracker.item(key)
    fact = Fact(PartialDate.parse("2015-10-15"), "U024BE7LH", Source(chat="C0123 1.2"))
    item.link_document(fact, document="UNEP/CMS/StC44/Lost")
    item.link_document(fact, document="UNEP/CMS/StC44/Kept")
    lost, kept = item.collect_events()
    container.tracker.recorder.insert_events([container.tracker.mapper.to_stored_event(kept)])
    return int(lost.originator_version)


PROVENANCE: dict[str, Any] = {
    "occurred": PartialDate.parse("2015-10-15"), "actor": "test",
    "source": Source("UNEP/CMS/StC44/18", "99"), "note": None, "ref": None}


def store_raw(container: Container, event_class: type[Any], key: str, /, *,
              version: int | None = None, aggregate: Any = None, topic: str | None = None,
              state: bytes | None = None, **fields: Any) -> int:
    """Store one event of the item `key` straight through the recorder, as no command would:
    at `version` (the next one unless given), under another aggregate id, another `topic`
    or with other `state` bytes. Returns its version."""
    if "occurred" in {f.name for f in dataclasses.fields(event_class)}:
        fields = {**PROVENANCE, **fields}
    version = version or top_version(container, key) + 1
    event = event_class(originator_id=aggregate or item_id(key), originator_version=version,
                        timestamp=event_class.create_timestamp(), **fields)
    stored = container.tracker.mapper.to_stored_event(event)
    container.tracker.recorder.insert_events([StoredEvent(
        stored.originator_id, stored.originator_version, topic or stored.topic,
        stored.state if state is None else state)])
    return version


# The sections of the StC44 report (UNEP/CMS/StC44/18), in its order: its outline.
SEED_SECTIONS = [
    "Streamlining activities within the CMS Family",
    "Promoting CMS issues in the UN system",
    "Promoting synergies with other Multilateral Environmental Agreements (MEAs)",
    "Strengthening existing collaboration with other IGOs and civil society",
    "Engagement in strategic collaborations",
    "Strengthening regional collaboration and presence of CMS",
    "Action requested"]

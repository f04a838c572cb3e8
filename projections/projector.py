"""Keeps the views current from the event log, applying each event exactly once.

Each batch runs in one transaction that first locks the views' position rows (`FOR UPDATE`
on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), reads the log after the lowest position,
applies what each view has not seen, writes the rows and moves the positions on. A second
projector waits on the lock and then finds nothing left to do, so two projectors at once
give the same views as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain import channels as ch
from domain import events as ev
from domain.describe import describe
from domain.state import ItemState, fold
from projections import tables as t
from projections.bulk import collect_young, collector_paused
from projections.rows import RowWriter
from projections.tables import VIEW_TABLES

VIEWS = ("board", "calendar", "consultations", "activity", "partners", "channels")
# Kept from the log like the views, but never rebuilt: it would notice the past again.
NOTICES = "notices"
# Not a view: the position of the last event that changed how items are named (titles,
# aliases, partners); the question engine rebuilds its name index only when it moves.
NAMES = "names"
TRACKED = (*VIEWS, NOTICES)
_ROWS = RowWriter()  # compiled statements, shared by every batch


class Positioned(Protocol):
    @property
    def position(self) -> int: ...

    @property
    def event(self) -> Any: ...


class EventSource(Protocol):
    """What the projector needs of the event store."""

    def read(self, after: int, limit: int) -> Sequence[Positioned]: ...

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]: ...


_CHANNEL_EVENTS = (ch.ChannelRegistered, ch.ChannelSubscribed, ch.ChannelUnsubscribed,
                   ch.ChannelFollowed, ch.ChannelUnfollowed, ch.DigestClaimed,
                   ch.DigestReclaimed, ch.DigestPosted)


_PARTNER_EVENTS = (ev.PartnerRegistered, ev.PartnerAliasAdded)
_ITEM_EVENTS = (ev.ItemRegistered, ev.ItemEvent)
_REVISIONS = (ev.EventCorrected, ev.EventRetracted)


class _Rebuilding:
    """What the batches of one bulk transaction (a rebuild, or catching up a long way)
    share: the states of the items they touched, and which items' rows are still to be
    written. A rebuild's states are made from the log alone (the views start empty); a
    catch-up reads each item's state from the board when it first meets the item."""

    def __init__(self, *, complete: bool = True) -> None:
        self.complete = complete
        self.states: dict[str, ItemState | None] = {}
        self.dirty: set[str] = set()


class _Items:
    """Items' states as the log changes them, and the rows of the views made of them (the
    board, and the calendar, partners, consultations and submissions of each item)."""

    def __init__(self, source: EventSource, states: dict[str, ItemState | None], *,
                 complete: bool, conn: Connection | None = None) -> None:
        # Complete: every state is made from the log (a rebuild), never read from the
        # board, which `conn` reads otherwise.
        self.source, self.states, self.complete, self.conn = source, states, complete, conn
        self.dirty: set[str] = set()
        self.names_at = 0  # the last position that changed a name

    def state(self, item_id: str) -> ItemState | None:
        if item_id not in self.states:
            if self.complete or self.conn is None:
                return None
            row = self.conn.execute(
                select(t.board.c.state).where(t.board.c.item_id == item_id)).first()
            self.states[item_id] = ItemState.from_dict(row.state) if row else None
        return self.states[item_id]

    def apply(self, position: int, item_id: str, event: Any) -> None:
        before = self.state(item_id)
        names_before = _names_of(before) if before is not None else None
        if isinstance(event, ev.ItemRegistered):
            self.states[item_id] = ItemState.registered(event)
        elif isinstance(event, _REVISIONS):
            self.states[item_id] = fold(self.source.item_events(
                event.originator_id, up_to_version=event.originator_version))
        elif before is not None:
            before.apply(event)
        self.dirty.add(item_id)
        after = self.states.get(item_id)
        if after is not None and _names_of(after) != names_before:
            self.names_at = position

    def rows(self, ids: list[str]) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The rows of these items, for each of their views."""
        states = [s for s in (self.states[i] for i in ids) if s is not None]
        consultations = [s for s in states if s.kind.value == "consultation"]
        return [
            (t.board, [_board_row(s) for s in states]),
            (t.item_partners, [{"item_id": s.id, "partner_key": p}
                               for s in states for p in s.partners]),
            (t.calendar, [row for s in states for row in _calendar_rows(s)]),
            (t.consultations, [{
                "item_id": s.id, "key": s.key, "title": s.title, "status": s.status,
                "submission_count": len(s.submissions)} for s in consultations]),
            (t.submissions, [
                {"item_id": s.id, "number": n, "submitter": who, "title": title}
                for s in consultations for n, (who, title) in enumerate(s.submissions, 1)]),
        ]


class _Batch:
    """The rows one batch changes, written together at the end."""

    def __init__(self, conn: Connection, source: EventSource, seen: dict[str, int],
                 rebuilding: _Rebuilding | None = None) -> None:
        self.conn, self.source, self.seen = conn, source, seen
        # States read or made in this transaction; a rebuild's are complete, never read.
        self.complete = rebuilding is not None and rebuilding.complete
        self.items = _Items(source, {} if rebuilding is None else rebuilding.states,
                            complete=self.complete, conn=conn)
        self.partners_at = 0  # the last position in this batch that changed a partner
        self.follows: set[tuple[str, str, str]] | None = None
        self.activity: list[dict[str, Any]] = []
        self.names: dict[str, str] | None = None

    @property
    def names_at(self) -> int:
        """The last position in this batch that changed a name."""
        return max(self.partners_at, self.items.names_at)

    def name(self, key: str) -> str:
        if self.names is None:
            rows = self.conn.execute(select(t.partners.c.key, t.partners.c.acronym,
                                            t.partners.c.name))
            self.names = {r.key: r.acronym or r.name for r in rows}
        return self.names.get(key, key)

    def apply(self, position: int, event: Any) -> None:
        if isinstance(event, _PARTNER_EVENTS):
            if position > self.seen["partners"]:
                self._partner(position, event)
            return
        if isinstance(event, _CHANNEL_EVENTS):
            if position > self.seen["channels"]:
                self._channel(event)
            return
        if not isinstance(event, _ITEM_EVENTS):
            return  # nothing a view here knows
        item_id = str(event.originator_id)
        if position > self.seen["board"]:
            self.items.apply(position, item_id, event)
        if position > self.seen[NOTICES]:
            self._notice(position, item_id, event)
        if position > self.seen["activity"]:
            self.activity.append({
                "position": position, "item_id": item_id,
                "version": event.originator_version, "event_type": type(event).__name__,
                "summary": describe(event, self.name), "occurred": event.occurred.to_dict(),
                "occurred_end": event.occurred.end, "recorded": event.timestamp,
                "actor": event.actor, "source": event.source.to_dict(), "note": event.note,
                "target_version": getattr(event, "corrects", None) or getattr(
                    event, "retracts", None),
            })

    def _notice(self, position: int, item_id: str, event: Any) -> None:
        """Queue a notice for every channel that follows the item or one of its partners."""
        state = self.items.state(item_id)
        if state is None or isinstance(event, ev.ItemRegistered):
            return
        if self.follows is None:  # read once a batch; channel events below keep it current
            self.follows = {(r.channel, r.target_kind, r.target_key)
                            for r in self.conn.execute(select(t.follows))}
        if not self.follows:
            return
        wanted = {("item", state.key)} | {("partner", p) for p in state.partners}
        channels = sorted({channel for channel, kind, key in self.follows
                           if (kind, key) in wanted})
        if not channels:
            return
        text = f"{describe(event, self.name)} ({event.occurred}) — {event.source.cite()}"
        rows = [{"position": position, "channel": channel, "item_id": item_id,
                 "title": state.title, "text": text} for channel in channels]
        if rows:
            self.conn.execute(insert(t.notice_outbox), rows)

    def _partner(self, position: int,
                 event: ev.PartnerRegistered | ev.PartnerAliasAdded) -> None:
        self.names = None
        self.partners_at = position
        partner_id = str(event.originator_id)
        if isinstance(event, ev.PartnerRegistered):
            self.conn.execute(delete(t.partners).where(t.partners.c.partner_id == partner_id))
            self.conn.execute(insert(t.partners).values(
                partner_id=partner_id, key=event.key, acronym=event.acronym, name=event.name,
                aliases=list(event.aliases), category=event.category))
            return
        row = self.conn.execute(select(t.partners.c.aliases).where(
            t.partners.c.partner_id == partner_id)).first()
        if row is not None and event.alias not in row.aliases:
            self.conn.execute(update(t.partners).where(t.partners.c.partner_id == partner_id)
                              .values(aliases=[*row.aliases, event.alias]))

    def _channel(self, event: Any) -> None:
        self.follows = None  # follows may change: read them again when next needed
        uuid = str(event.originator_id)
        if isinstance(event, ch.ChannelRegistered):
            self.conn.execute(insert(t.channels).values(channel_uuid=uuid, channel=event.channel))
            return
        if isinstance(event, ch.DigestClaimed):
            self.conn.execute(insert(t.digests).values(
                digest_uuid=uuid, channel=event.channel, period=event.period,
                claimed_by=event.claimed_by))
            return
        if isinstance(event, ch.DigestReclaimed | ch.DigestPosted):
            values = ({"claimed_by": event.claimed_by} if isinstance(event, ch.DigestReclaimed)
                      else {"message_ts": event.message_ts})
            self.conn.execute(update(t.digests).where(t.digests.c.digest_uuid == uuid)
                              .values(**values))
            return
        channel = self.conn.execute(select(t.channels.c.channel).where(
            t.channels.c.channel_uuid == uuid)).scalar_one()
        if isinstance(event, ch.ChannelSubscribed):
            self.conn.execute(delete(t.subscriptions).where(t.subscriptions.c.channel == channel))
            self.conn.execute(insert(t.subscriptions).values(
                channel=channel, changed_by=event.actor, changed_at=event.timestamp,
                **event.schedule))
        elif isinstance(event, ch.ChannelUnsubscribed):
            self.conn.execute(delete(t.subscriptions).where(t.subscriptions.c.channel == channel))
        elif isinstance(event, ch.ChannelFollowed):
            self.conn.execute(insert(t.follows).values(
                channel=channel, target_kind=event.target_kind, target_key=event.target_key))
        elif isinstance(event, ch.ChannelUnfollowed):
            f = t.follows.c
            self.conn.execute(delete(t.follows).where(
                (f.channel == channel) & (f.target_kind == event.target_kind)
                & (f.target_key == event.target_key)))

    def flush(self) -> None:
        self.flush_items(self.items.dirty)
        self.flush_activity()

    def flush_activity(self) -> None:
        self._insert(t.activity, self.activity)
        self.activity = []

    def flush_items(self, dirty: set[str]) -> None:
        """Write the rows of these items afresh."""
        ids = sorted(dirty)
        if ids and not self.complete:  # a rebuild's views were emptied: nothing to replace
            for table in (t.board, t.item_partners, t.calendar, t.consultations, t.submissions):
                self.conn.execute(delete(table).where(table.c.item_id.in_(ids)))
        for table, rows in self.items.rows(ids):
            self._insert(table, rows)

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        _ROWS.insert(self.conn, table, rows)


def _names_of(s: ItemState) -> tuple[Any, ...]:
    return (s.key, s.title, s.kind, s.subtype, tuple(s.aliases), tuple(s.partners))


def _board_row(s: ItemState) -> dict[str, Any]:
    return {
        "item_id": s.id, "key": s.key, "kind": s.kind.value, "title": s.title,
        "subtype": s.subtype, "aliases": list(s.aliases), "partner_keys": list(s.partners),
        "status": s.status, "status_since_end": s.status_since.end if s.status_since else None,
        "next_start": s.next_date.sort_key if s.next_date else None,
        "last_occurred_end": s.last_occurred.end if s.last_occurred else None,
        "last_recorded": s.last_recorded, "version": s.version, "state": s.to_dict(),
    }


def _calendar_rows(s: ItemState) -> list[dict[str, Any]]:
    entries = [(label, when, False) for label, when in s.agenda]
    if s.held_on is not None:
        entries.append((s.title, s.held_on, True))
    return [{"item_id": s.id, "label": label, "kind": s.kind.value, "held": held,
             "start": when.earliest if when.start else when.end, "end": when.end,
             "when": when.to_dict(), "venue": s.venue if s.kind.value == "meeting" else None}
            for label, when, held in entries]


def ensure_positions(conn: Connection) -> None:
    """Create the position rows if missing; safe when two processes race. Notices start
    where the views are, so a store that gains them does not notice its past."""
    views = conn.execute(select(t.positions.c.position).where(
        t.positions.c.name.in_(VIEWS))).scalars().all()
    start = min(views) if len(views) == len(VIEWS) else 0
    rows = [{"name": name, "position": start if name == NOTICES else 0}
            for name in (*TRACKED, NAMES)]
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(t.positions).on_conflict_do_nothing(), rows)
    else:
        conn.execute(sqlite_insert(t.positions).on_conflict_do_nothing(), rows)


class Projector:
    """Applies the log to every view, once, in batches."""

    def __init__(self, engine: Engine, source: EventSource, *, batch_size: int = 1000) -> None:
        self.engine, self.source, self.batch_size = engine, source, batch_size

    def _begin(self) -> Any:
        return self.engine.connect().execution_options(write_lock=True)

    def _lock(self, conn: Connection) -> dict[str, int]:
        """Lock the views' position rows for this transaction and read them."""
        query = select(t.positions.c.name, t.positions.c.position).where(
            t.positions.c.name.in_((*TRACKED, NAMES)))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        seen = {row.name: row.position for row in conn.execute(query)}
        if len(seen) < len(TRACKED) + 1:
            ensure_positions(conn)
            seen = {row.name: row.position for row in conn.execute(query)}
        seen.pop(NAMES)
        return seen

    def _batch(self, conn: Connection, rebuilding: _Rebuilding | None = None) -> int:
        seen = self._lock(conn)
        # A rebuild is one transaction whatever its batches: larger ones cost fewer trips.
        size = self.batch_size if rebuilding is None else self.batch_size * 5
        page = self.source.read(min(seen.values()), size)
        if not page:
            return 0
        batch = _Batch(conn, self.source, seen, rebuilding)
        for item in page:
            batch.apply(item.position, item.event)
        if rebuilding is None:
            batch.flush()
        else:  # an item's rows are written once, at the end, however many batches touch it
            rebuilding.dirty |= batch.items.dirty
            batch.flush_activity()
        last = page[-1].position
        conn.execute(update(t.positions).where(t.positions.c.name.in_(TRACKED))
                     .where(t.positions.c.position < last).values(position=last))
        if batch.names_at:
            conn.execute(update(t.positions).where(t.positions.c.name == NAMES)
                         .values(position=batch.names_at))
        return len(page)

    def run_once(self) -> int:
        """Apply one batch in one transaction; returns how many events it read."""
        with self._begin() as conn, conn.begin():
            return self._batch(conn)

    def catch_up(self) -> int:
        """Apply everything recorded so far; returns how many events were read."""
        total = 0
        while count := self.run_once():
            total += count
        return total

    def position(self) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.positions.c.position).where(
                t.positions.c.name.in_(VIEWS))).scalars().all()
        return min(rows) if len(rows) == len(VIEWS) else 0

    def rebuild(self) -> int:
        """Empty every view and apply the whole log again, in one transaction, so readers
        see the old views until the new ones are complete."""
        with collector_paused(), self._begin() as conn, conn.begin():
            self._lock(conn)
            for table in VIEW_TABLES:
                conn.execute(delete(table))
            conn.execute(update(t.positions).where(t.positions.c.name.in_(VIEWS))
                         .values(position=0))
            return self._in_bulk(conn, _Rebuilding())

    def catch_up_in_bulk(self) -> int:
        """Apply everything recorded so far in one transaction, as a rebuild does: each
        touched item's state is kept from batch to batch and its rows written once, at the
        end. For a long way behind (after a large import), where batch by batch would read
        and write the same items' rows again and again. Readers see the views as they were
        until it commits."""
        with collector_paused(), self._begin() as conn, conn.begin():
            return self._in_bulk(conn, _Rebuilding(complete=False))

    def _in_bulk(self, conn: Connection, rebuilding: _Rebuilding) -> int:
        total = batches = 0
        while count := self._batch(conn, rebuilding):
            total += count
            batches += 1
            if batches % 4 == 0:
                collect_young()
        writer = _Batch(conn, self.source, {}, rebuilding)
        ids = sorted(rebuilding.dirty)
        for start in range(0, len(ids), self.batch_size):
            writer.flush_items(set(ids[start:start + self.batch_size]))
        return total

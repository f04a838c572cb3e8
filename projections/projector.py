"""Keeps the views current from the event log, applying each event exactly once.

Each batch runs in one transaction that first locks the views' position rows (`FOR UPDATE`
on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), reads the log after the lowest position,
applies what each view has not seen, writes the rows and moves the positions on. A second
projector waits on the lock and then finds nothing left to do, so two projectors at once
give the same views as one.
"""

from __future__ import annotations

import logging
import multiprocessing
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain import channels as ch
from domain import events as ev
from domain.describe import describe
from domain.state import ItemState, fold
from projections import tables as t
from projections.bulk import collect_young, collector_paused, next_answer
from projections.logrows import LogRow as LogRow  # also importable from here
from projections.rows import RowWriter
from projections.tables import VIEW_TABLES
from projections.viewable import viewable
from projections.writing import writing

VIEWS = ("board", "calendar", "consultations", "activity", "partners", "channels")
# Kept from the log like the views, but never rebuilt: it would notice the past again.
NOTICES = "notices"
# Not a view: the position of the last event that changed how items are named (titles,
# aliases, partners); the question engine rebuilds its name index only when it moves.
NAMES = "names"
TRACKED = (*VIEWS, NOTICES)
_ROWS = RowWriter()  # compiled statements, shared by every batch
log = logging.getLogger(__name__)


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


@runtime_checkable
class RowSource(EventSource, Protocol):
    """An event store whose log can be read undecoded, and decoded elsewhere: what a rebuild
    needs to share the decoding between two processes."""

    def head(self) -> int: ...

    def read_rows(self, after: int, limit: int) -> list[LogRow]:
        ...

    def decode_rows(self, rows: Sequence[LogRow],
                    ) -> Sequence[Positioned]: ...

    def originators_of(self, *event_types: type[Any]) -> set[str]: ...


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
            self.states[item_id] = fold([viewable(e) for e in self.source.item_events(
                event.originator_id, up_to_version=event.originator_version)])
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
            self.names = {r.key: _partner_name(r.acronym, r.name) for r in rows}
        return self.names.get(key, key)

    def apply(self, position: int, event: Any) -> None:
        event = viewable(event)
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
            self.activity.append(_activity_row(position, item_id, event, self.name))

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


def _activity_row(position: int, item_id: str, event: Any,
                  name: Callable[[str], str]) -> dict[str, Any]:
    """The activity view's row of an item's event; `name` says a partner's key as the
    partners view names it then."""
    return {
        "position": position, "item_id": item_id,
        "version": event.originator_version, "event_type": type(event).__name__,
        "summary": describe(event, name), "occurred": event.occurred.to_dict(),
        "occurred_end": event.occurred.end, "recorded": event.timestamp,
        "actor": event.actor, "source": event.source.to_dict(), "note": event.note,
        "target_version": getattr(event, "corrects", None) or getattr(event, "retracts", None),
    }


def _partner_name(acronym: str | None, name: str) -> str:
    """How summaries name a partner."""
    return acronym or name


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


# The items whose id ends in one of these digits are the other process's in a shared
# rebuild: half of them (ids are uniform), which measured as the even split of the work,
# since this process also reads the log and writes every row.
_THEIRS = frozenset("01234567")
_ITEM, _PARTNER, _OTHER = "item", "partner", "other"
_ITEMS_A_MESSAGE = 1000


class _TopicKinds:
    """Whether a stored event is an item's, a partner's or another's, by its topic."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}

    def of(self, topic: str) -> str:
        kind = self.kinds.get(topic)
        if kind is None:
            cls = resolve_topic(topic)
            kind = self.kinds[topic] = (_ITEM if issubclass(cls, _ITEM_EVENTS) else
                                        _PARTNER if issubclass(cls, _PARTNER_EVENTS) else
                                        _OTHER)
        return kind


class _HelperFailedError(Exception):
    """The process sharing a rebuild died or failed; the rebuild's transaction is undone."""


def _helper_failed(trace: str | None) -> _HelperFailedError:
    if trace is None:
        return _HelperFailedError("the process sharing the rebuild ended without an answer")
    return _HelperFailedError(f"the process sharing the rebuild failed:\n{trace}")


def _tell(writer: Any, message: Any) -> None:
    """Send the helper its next rows (None: no more)."""
    try:
        writer.send(message)
    except OSError:  # its end is closed: it died
        raise _helper_failed(None) from None


def _answer(reader: Any) -> Any:
    """The helper's next answer, or why there is none."""
    return next_answer(reader, _helper_failed)


class _NoStore:
    """What the helper folds with: it must never read the store (its items have no
    corrections, so it never needs to)."""

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        raise RuntimeError("the process sharing a rebuild may not read the store")

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        raise RuntimeError("the process sharing a rebuild may not read the store")


def _share_items(source: RowSource, dialect: Any, rows_reader: Any, answers_writer: Any,
                 ) -> None:
    """In the forked process sharing a rebuild: for each page of rows it is sent, decode
    them, keep the partners' names and its items' states, and answer with the statements
    that insert the page's activity rows; at the end, with those that insert its items'
    rows, the last position that changed an item's name and its peak memory. It reads
    nothing from the store and writes nothing."""
    try:
        items = _Items(_NoStore(), {}, complete=True)
        names: dict[str, str] = {}

        def name(key: str) -> str:
            return names.get(key, key)

        pages = 0
        while (rows := rows_reader.recv()) is not None:
            pages += 1
            if pages % 4 == 0:
                collect_young()
            activity = []
            for logged in source.decode_rows(rows):
                position, event = logged.position, viewable(logged.event)
                if isinstance(event, ev.PartnerRegistered):
                    names[event.key] = _partner_name(event.acronym, event.name)
                elif isinstance(event, _ITEM_EVENTS):
                    item_id = str(event.originator_id)
                    items.apply(position, item_id, event)
                    activity.append(_activity_row(position, item_id, event, name))
            answers_writer.send([_ROWS.prepare(dialect, t.activity, activity)] if activity
                                else [])
        ids = sorted(items.dirty)
        for start in range(0, len(ids), _ITEMS_A_MESSAGE):  # a few at a time: states are big
            answers_writer.send([
                _ROWS.prepare(dialect, table, table_rows)
                for table, table_rows in items.rows(ids[start:start + _ITEMS_A_MESSAGE])
                if table_rows])
        answers_writer.send((items.names_at, _own_peak_mb()))
    except BaseException:
        answers_writer.send(traceback.format_exc())
    answers_writer.close()


def _own_peak_mb() -> float | None:
    """The most memory this forked process has added to the rebuilding one's, in MB: its
    peak resident memory (VmHWM) less what it still shares with it. Shared pages only
    become private over time, so this is an upper bound. None where the system does not
    say."""
    try:
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        with open("/proc/self/smaps_rollup") as rollup:
            shared = sum(int(line.split()[1]) for line in rollup
                         if line.startswith(("Shared_Clean:", "Shared_Dirty:")))
    except (OSError, StopIteration, ValueError):
        return None
    return (peak - shared) / 1024


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
    """Applies the log to every view, once, in batches. A rebuild of a long log shares the
    work with a forked process (`_rebuild_shared`)."""

    SHARE_FROM = 20_000  # a log this long is rebuilt with a second process

    def __init__(self, engine: Engine, source: EventSource, *, batch_size: int = 1000) -> None:
        self.engine, self.source, self.batch_size = engine, source, batch_size
        # The most memory (MB) the process that shared the last rebuild added, if one did:
        # the rebuild's memory is this process's and that.
        self.helper_peak_mb: float | None = None

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
        page = self.source.read(min(seen.values()), self._page_size(rebuilding))
        if not page:
            return 0
        self._apply(conn, seen, page, page[-1].position, rebuilding)
        return len(page)

    def _page_size(self, rebuilding: _Rebuilding | None) -> int:
        # A rebuild is one transaction whatever its batches: larger ones cost fewer trips.
        return self.batch_size if rebuilding is None else self.batch_size * 5

    def _apply(self, conn: Connection, seen: dict[str, int], page: Sequence[Positioned],
               last: int, rebuilding: _Rebuilding | None = None) -> int:
        """Apply a page of the log, whose last position is `last`, and move the positions
        on to it; returns the last position in it that changed a name (0 if none)."""
        batch = _Batch(conn, self.source, seen, rebuilding)
        for item in page:
            batch.apply(item.position, item.event)
        if rebuilding is None:
            batch.flush()
        else:  # an item's rows are written once, at the end, however many batches touch it
            rebuilding.dirty |= batch.items.dirty
            batch.flush_activity()
        conn.execute(update(t.positions).where(t.positions.c.name.in_(TRACKED))
                     .where(t.positions.c.position < last).values(position=last))
        if batch.names_at:
            self._names_moved(conn, batch.names_at)
        return batch.names_at

    def _names_moved(self, conn: Connection, position: int) -> None:
        conn.execute(update(t.positions).where(t.positions.c.name == NAMES)
                     .values(position=position))

    def run_once(self) -> int:
        """Apply one batch in one transaction; returns how many events it read."""
        with writing(self.engine) as conn:
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
        see the old views until the new ones are complete. A long log (`SHARE_FROM`
        events) is shared with a second process where it can be (`_rebuild_shared`)."""
        self.helper_peak_mb = None
        source = self.source
        if (isinstance(source, RowSource) and source.head() >= self.SHARE_FROM
                and "fork" in multiprocessing.get_all_start_methods()):
            try:
                return self._rebuild(lambda conn, seen: self._rebuild_shared(conn, seen, source))
            except _HelperFailedError as failure:  # its transaction was rolled back
                log.warning("Rebuilding in one process: %s", failure)
        return self._rebuild(lambda conn, seen: self._in_bulk(conn, _Rebuilding()))

    def _rebuild(self, run: Callable[[Connection, dict[str, int]], int]) -> int:
        with collector_paused(), writing(self.engine) as conn:
            seen = self._lock(conn)
            for table in VIEW_TABLES:
                conn.execute(delete(table))
            conn.execute(update(t.positions).where(t.positions.c.name.in_(VIEWS))
                         .values(position=0))
            return run(conn, {**seen, **dict.fromkeys(VIEWS, 0)})

    def _rebuild_shared(self, conn: Connection, seen: dict[str, int], source: RowSource,
                        ) -> int:
        """Rebuild with a forked process that decodes and applies half of the items'
        events: this one reads the log undecoded and hands it each page's rows of its
        items (and the partners', which name things in summaries). Each process makes
        its items' states and activity rows, so each event is decoded once; this one
        applies everything else and writes every row. Items with corrections stay here,
        since folding them again reads the store, which the other process must not use (a
        connection must not cross a fork). Not when a channel has ever followed something
        and notices are behind: notices need every item's state here."""
        head = source.head()
        if seen[NOTICES] < head and source.originators_of(ch.ChannelFollowed):
            return self._in_bulk(conn, _Rebuilding())
        revised = source.originators_of(*_REVISIONS)
        context = multiprocessing.get_context("fork")
        rows_reader, rows_writer = context.Pipe(duplex=False)  # to the helper
        answers_reader, answers_writer = context.Pipe(duplex=False)  # from it
        helper = context.Process(target=_share_items, daemon=True, args=(
            source, conn.dialect, rows_reader, answers_writer))
        helper.start()
        rows_reader.close()  # the helper's ends now: if it dies, recv says so
        answers_writer.close()
        kinds = _TopicKinds()
        try:
            rebuilding = _Rebuilding()
            after = total = pages = names_at = 0
            while after < head:
                rows = [r for r in source.read_rows(after, self._page_size(rebuilding))
                        if r[0] <= head]
                if not rows:
                    break
                theirs: list[LogRow] = []
                mine: list[LogRow] = []
                for row in rows:
                    kind = kinds.of(row[3])
                    if kind is _ITEM and row[1][-1] in _THEIRS and row[1] not in revised:
                        theirs.append(row)
                        continue
                    mine.append(row)
                    if kind is _PARTNER:
                        theirs.append(row)
                _tell(rows_writer, theirs)
                names_at = max(names_at, self._apply(
                    conn, self._lock(conn), source.decode_rows(mine), rows[-1][0], rebuilding))
                for statement in _answer(answers_reader):  # their activity rows, this page
                    conn.exec_driver_sql(*statement)
                after, total, pages = rows[-1][0], total + len(rows), pages + 1
                if pages % 4 == 0:
                    collect_young()
            _tell(rows_writer, None)
            self._flush_items(conn, rebuilding)  # while it makes its items' rows
            while not isinstance(answer := _answer(answers_reader), tuple):
                for statement in answer:  # their items' rows
                    conn.exec_driver_sql(*statement)
            their_names_at, self.helper_peak_mb = answer
            if their_names_at > names_at:  # as one process would leave it: the last change
                self._names_moved(conn, their_names_at)
            return total
        finally:
            rows_writer.close()
            answers_reader.close()
            if helper.is_alive():
                helper.kill()
            helper.join()

    def catch_up_in_bulk(self) -> int:
        """Apply everything recorded so far in one transaction, as a rebuild does: each
        touched item's state is kept from batch to batch and its rows written once, at the
        end. For a long way behind (after a large import), where batch by batch would read
        and write the same items' rows again and again. Readers see the views as they were
        until it commits."""
        with collector_paused(), writing(self.engine) as conn:
            return self._in_bulk(conn, _Rebuilding(complete=False))

    def _in_bulk(self, conn: Connection, rebuilding: _Rebuilding) -> int:
        total = batches = 0
        while count := self._batch(conn, rebuilding):
            total += count
            batches += 1
            if batches % 4 == 0:
                collect_young()
        self._flush_items(conn, rebuilding)
        return total

    def _flush_items(self, conn: Connection, rebuilding: _Rebuilding) -> None:
        writer = _Batch(conn, self.source, {}, rebuilding)
        ids = sorted(rebuilding.dirty)
        for start in range(0, len(ids), self.batch_size):
            writer.flush_items(set(ids[start:start + self.batch_size]))

"""A rebuild shared with a forked process: the opt-in fast path of `Projector.rebuild`
(`Projector(..., share_rebuild_from=N)`), with the same result as the plain rebuild down
to the positions (`tests/integration/test_shared_rebuild.py` holds the two equal on both
stores).

What it buys, measured on a 2-core machine whose second core is free, in runs alternating
on one SQLite store: a rebuild of 70k events takes 2.8-3.1 s against 4.5-5.2 s in one
process, and of a million events 42.5-47.0 s against 71.6 s. It costs memory: each process
holds its share of the items it will meet again (`Bulk`), and the forked one its own copy
of the interpreter's pages it touches and what its threads hold: at a million events about
200 MB in all (96-98 MB the forked one's own), against 112 MB for one process. It needs
that free core: with the machine busy with other work (load 6-8 on 2 cores), six
alternating runs at 70k events took 7.7-10.6 s shared against 7.1-10.1 s alone. Hence
opt-in. docs/performance.md says how to measure it.

How: the forked process decodes and applies ten sixteenths of the items' events (by the
last digit of their id), making those items' states, their activity rows and their views'
rows: an item's once its last event in the log is applied (`Bulk`), the rest at the end.
This process reads the log undecoded, hands it each page's rows of its items (and the
partners', which name things in summaries), decodes and applies the rest, and writes
every row, its own and those the other sends back as compiled statements (a few items at
a time: states are large). It sends pages ahead (`PAGES_AHEAD`) and writes the other's
answers as they come, each page's ending with `_PageDone`; two threads of the forked
process receive and send, so that neither process waits for the other to read a pipe. So
each event is decoded once, and both processes stay busy.

The forked process never touches the store (a connection must not cross a fork), so items
with corrections, whose states are folded again from the store, stay with this process;
and when notices are behind the log and a channel has ever followed something, the whole
rebuild stays here, since notices need every item's state. If the forked process dies or
fails, `HelperFailedError` is raised and the projector rebuilds in one process.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import sys
import threading
import traceback
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any, Protocol, TypeGuard, runtime_checkable
from uuid import UUID

from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection

from domain import channels as ch
from domain import events as ev
from projections import positions
from projections.batch import (
    ITEMS_A_WRITE,
    Bulk,
    Endings,
    apply_page,
    in_bulk,
    write_items,
)
from projections.bulk import collect_young, next_answer
from projections.items import REVISIONS, Items
from projections.logrows import LogRow as LogRow  # also importable from here
from projections.rows import RowWriter
from projections.source import Ends, EventSource, Positioned
from projections.tables import activity as activity_table
from projections.viewable import viewable
from projections.views import NOTICES, activity, partners

WORTH_IT_FROM = 20_000  # events: below this, starting the other process costs more than it saves

log = logging.getLogger(__name__)


@runtime_checkable
class RowSource(EventSource, Ends, Protocol):
    """An event store whose log can be read undecoded, and decoded elsewhere, and which
    can say where it and each item's events end."""

    def read_rows(self, after: int, limit: int) -> list[LogRow]: ...

    def decode_rows(self, rows: Sequence[LogRow]) -> Sequence[Positioned]: ...

    def originators_of(self, *event_types: type[Any]) -> set[str]: ...


class HelperFailedError(Exception):
    """The process sharing a rebuild died or failed; the rebuild's transaction is undone."""


def can_share(source: EventSource, from_events: int) -> TypeGuard[RowSource]:
    """Whether a rebuild from `source` is shared: its log holds `from_events` events or
    more, it can be read undecoded, and this system can fork."""
    return (isinstance(source, RowSource) and source.head() >= from_events
            and "fork" in multiprocessing.get_all_start_methods())


# The items whose id ends in one of these digits are the other process's: ten sixteenths
# of them (ids are uniform), since this process also reads the log and writes every row;
# measured as the split that keeps both busy (nine or eleven were slower).
_THEIRS = frozenset("0123456789")
# Pages the helper may owe answers for: this process sends it pages ahead and writes its
# answers as they come, so neither waits on the other page by page (an item whose events
# fill a page leaves one process nothing else to do on it).
PAGES_AHEAD = 3
# A page crosses a pipe in pieces of the pipe's size, and the helper's thread receiving
# them (or sending its answers) waits for the interpreter's lock after each piece while
# its other thread works: up to the switch interval (5 ms by default). Rebuilding 70k
# events took 3.1-3.4 s with 64 KiB pipes and that interval, 2.9 s with wider pipes, and
# 2.8 s with these (alternating runs).
PIPE_BYTES = 1 << 20
SWITCH_INTERVAL = 0.0005  # seconds, in the helper
_ITEM, _PARTNER, _OTHER = "item", "partner", "other"
_ROWS = RowWriter()


@dataclass(frozen=True)
class _PageDone:
    """The helper's last answer to a page."""


@dataclass(frozen=True)
class _Done:
    """The helper's last answer."""

    names_at: int  # the last position of its events that changed an item's name
    events: int  # how many item events it applied


def rebuild(conn: Connection, seen: dict[str, int], source: RowSource, *, page_size: int,
            ) -> int:
    """Apply the whole log to the emptied views in this transaction, sharing the work with
    a forked process; returns how many events were read."""
    head = source.head()
    if seen[NOTICES] < head and source.originators_of(ch.ChannelFollowed):
        return in_bulk(conn, source, Bulk(), page_size=page_size)
    revised = source.originators_of(*REVISIONS)
    context = multiprocessing.get_context("fork")
    rows_reader, rows_writer = context.Pipe(duplex=False)  # to the helper
    answers_reader, answers_writer = context.Pipe(duplex=False)  # from it
    _widen(rows_writer, answers_writer)
    bulk = Bulk()  # both processes write each item once its last event is applied
    bulk.stop_at_end(source, 0, head)
    helper = context.Process(target=_share_items, daemon=True, args=(
        source, conn.dialect, Endings(bulk.endings.ends), rows_reader, answers_writer))
    helper.start()
    rows_reader.close()  # the helper's ends now: if it dies, recv says so
    answers_writer.close()
    kinds = _TopicKinds()
    try:
        mine: deque[tuple[list[LogRow], int]] = deque()  # my rows of pages sent; their end
        awaited = after = total = pages = names_at = 0  # awaited: pages the helper owes
        while True:
            while awaited < PAGES_AHEAD and after < head and (
                    rows := _page(source, after, page_size, head)):
                mine.append((_hand_out(rows, revised, kinds, rows_writer), rows[-1][0]))
                after, total, awaited = rows[-1][0], total + len(rows), awaited + 1
            if mine:
                own, last = mine.popleft()
                names_at = max(names_at, apply_page(
                    conn, source, positions.lock(conn), source.decode_rows(own), last, bulk))
                pages += 1
                if pages % 4 == 0:
                    collect_young()
            elif not awaited:
                break
            # Their activity rows, and the rows of their items a page ended: what has come,
            # or (when this process is PAGES_AHEAD ahead) the next answer.
            while awaited and (not mine or answers_reader.poll()):
                answer = _answer(answers_reader)
                if isinstance(answer, _PageDone):
                    awaited -= 1
                    if not mine:
                        break
                else:
                    for statement in answer:
                        statement.run(conn)
        _tell(rows_writer, None)
        write_items(conn, source, bulk)  # while it makes its items' rows
        while not isinstance(answer := _answer(answers_reader), _Done):
            for statement in answer:  # their items' rows
                statement.run(conn)
        if answer.names_at > names_at:  # as one process would leave it: the last change
            positions.move_names(conn, answer.names_at)
        log.info("Rebuilt the views from %d events with a second process, which applied %d "
                 "of them", total, answer.events)
        return total
    finally:
        rows_writer.close()
        answers_reader.close()
        if helper.is_alive():
            helper.kill()
        helper.join()


def _page(source: RowSource, after: int, page_size: int, head: int) -> list[LogRow]:
    """The log's next page after `after`, up to `head`."""
    return [r for r in source.read_rows(after, page_size) if r[0] <= head]


def _hand_out(rows: list[LogRow], revised: set[str], kinds: _TopicKinds, rows_writer: Any,
           ) -> list[LogRow]:
    """Send the helper its rows of this page (its items' events, and the partners',
    which name things in summaries); the rows this process applies itself."""
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
    return mine


def _widen(*pipes: Any) -> None:
    """Make these pipes hold PIPE_BYTES, where the system lets a process (Linux's
    F_SETPIPE_SZ, up to its fs.pipe-max-size); else they stay as they are."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is None:
        return
    for pipe in pipes:
        with suppress(OSError):
            fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


class _TopicKinds:
    """Whether a stored event is an item's, a partner's or another's, by its topic."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}

    def of(self, topic: str) -> str:
        kind = self.kinds.get(topic)
        if kind is None:
            cls = resolve_topic(topic)
            kind = self.kinds[topic] = (_ITEM if issubclass(cls, activity.EVENTS) else
                                        _PARTNER if issubclass(cls, partners.EVENTS) else
                                        _OTHER)
        return kind


def _helper_failed(trace: str | None) -> HelperFailedError:
    if trace is None:
        return HelperFailedError("the process sharing the rebuild ended without an answer")
    return HelperFailedError(f"the process sharing the rebuild failed:\n{trace}")


def _tell(writer: Any, message: Any) -> None:
    """Send the helper its next rows (None: no more)."""
    try:
        writer.send(message)
    except OSError:  # its end is closed: it died
        raise _helper_failed(None) from None


def _answer(reader: Any) -> Any:
    """The helper's next answer, or why there is none."""
    return next_answer(reader, _helper_failed)


def _send_items(items: Items, ids: list[str], dialect: Any, outbox: SimpleQueue[Any],
                ) -> None:
    """Send the statements that insert these items' rows, a few items at a time (states
    are big), and forget each item sent."""
    for start in range(0, len(ids), ITEMS_A_WRITE):
        written = ids[start:start + ITEMS_A_WRITE]
        outbox.put([_ROWS.prepare(dialect, table, table_rows)
                    for table, table_rows in items.rows(written) if table_rows])
        items.forget(written)
        items.dirty.difference_update(written)


class _NoStore:
    """What the helper folds with: it must never read the store (its items have no
    corrections, so it never needs to)."""

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        raise RuntimeError("the process sharing a rebuild may not read the store")

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        raise RuntimeError("the process sharing a rebuild may not read the store")


def _share_items(source: RowSource, dialect: Any, endings: Endings, rows_reader: Any,
                 answers_writer: Any) -> None:
    """In the forked process: for each page of rows it is sent, decode them, keep the
    partners' names and its items' states, and answer with the statements that insert the
    page's activity rows and the rows of the items it has applied to their last event
    (`endings`, a few hundred at a time), which it then forgets, and then `_PageDone`; at
    the end, with those that insert the rest of its items' rows, and then `_Done`. It
    reads nothing from the store and writes nothing.

    Two threads receive its pages and send its answers, so that it works on while the
    rebuilding process, busy with its own part, is not reading: neither waits on the other
    to read a pipe (`PAGES_AHEAD`)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    inbox: SimpleQueue[list[LogRow] | None] = SimpleQueue()
    outbox: SimpleQueue[Any] = SimpleQueue()
    threading.Thread(target=_receive, args=(rows_reader, inbox), daemon=True).start()
    sender = threading.Thread(target=_send, args=(outbox, answers_writer), daemon=True)
    sender.start()
    try:
        items = Items(_NoStore(), {}, complete=True)
        names: dict[str, str] = {}

        def name(key: str) -> str:
            return names.get(key, key)

        pages = applied = 0
        while (rows := inbox.get()) is not None:
            pages += 1
            if pages % 4 == 0:
                collect_young()
            activity_rows = []
            touched: set[str] = set()
            for logged in source.decode_rows(rows):
                position, event = logged.position, viewable(logged.event)
                if isinstance(event, activity.EVENTS):
                    item_id = str(event.originator_id)
                    items.apply(position, item_id, event)
                    touched.add(item_id)
                    activity_rows.append(activity.row(position, item_id, event, name))
                elif isinstance(event, ev.PartnerRegistered):  # what names a partner
                    names[event.key] = partners.name_of(event.acronym, event.name)
            applied += len(activity_rows)
            outbox.put([_ROWS.prepare(dialect, table, table_rows)
                        for table, table_rows in [(activity_table, activity_rows),
                                                  *items.finished_rows()]
                        if table_rows])
            _send_items(items, endings.ready(touched, rows[-1][0]) if rows else [], dialect,
                        outbox)
            outbox.put(_PageDone())
        _send_items(items, sorted(items.dirty), dialect, outbox)
        outbox.put(_Done(items.names_at, applied))
    except BaseException:  # any failure, told to the rebuilding process, which falls back
        outbox.put(traceback.format_exc())
    outbox.put(None)
    sender.join()


def _receive(rows_reader: Any, inbox: SimpleQueue[list[LogRow] | None]) -> None:
    """The helper's pages, as they come, until the last (None) or the rebuilding process
    is gone (taken as the last: what is then sent back goes nowhere)."""
    try:
        while (rows := rows_reader.recv()) is not None:
            inbox.put(rows)
    except (EOFError, OSError):
        pass
    inbox.put(None)


def _send(outbox: SimpleQueue[Any], answers_writer: Any) -> None:
    """Send the helper's answers in order until None, then close the pipe."""
    try:
        while (answer := outbox.get()) is not None:
            answers_writer.send(answer)
    except OSError:  # the rebuilding process is gone
        pass
    answers_writer.close()

"""A page of the log applied to every view in the caller's transaction: each event is read
through `viewable`, routed by its type to the views that take it, and applied to each view
that has not seen its position; then the rows are written and the positions moved on.

Items' events change the items' states (`projections.items`), whose views' rows are written
once per batch, or once per bulk transaction (a rebuild, or a long catch-up: `Bulk`), and
each adds an activity row and the notices owed to followers. Partners' and channels'
events are applied to their views at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert

from domain.state import ItemState
from projections import positions
from projections.bulk import collect_young
from projections.items import TABLES as ITEM_TABLES
from projections.items import Items
from projections.rows import RowWriter
from projections.source import Ends, EventSource, Positioned
from projections.tables import activity as activity_table
from projections.tables import notice_outbox
from projections.viewable import viewable
from projections.views import (
    NOTICES,
    activity,
    agenda,
    channels,
    checkpoints,
    notices,
    partners,
)

_ROWS = RowWriter()  # compiled statements, shared by every batch
# Items whose rows a bulk transaction makes and writes at once (at its end, or when their
# events end): their states' dicts and rows are what the write adds to the transaction's
# memory (at a million events, 1,000 items a write added 23 MB to a one-process rebuild's
# peak; 250 add nothing above what applying the log had reached).
ITEMS_A_WRITE = 250


class Bulk:
    """What the batches of one bulk transaction (a rebuild, or catching up a long way)
    share: the states of the items they touched, and which items' rows are still to be
    written. A rebuild's states are made from the log alone (the views start empty); a
    catch-up reads each item's state from the board when it first meets the item.

    When the store can say where each item's events end (`Ends`), the transaction applies
    the log as far as it went when the transaction began (`through`), and writes an item's
    rows and forgets it soon after it has applied the item's last event there
    (`Endings`): it holds only the items it has still to meet again, and a few ended ones,
    not every item it met. A log imported from history files ends most items within a
    page or two."""

    def __init__(self, *, complete: bool = True) -> None:
        self.complete = complete
        self.states: dict[str, ItemState | None] = {}
        self.timelines: dict[str, agenda.Timeline] = {}
        self.kept: dict[str, checkpoints.Kept] = {}
        self.dirty: set[str] = set()
        self.through: int | None = None  # the last position it applies, if it stops there
        self.endings = Endings({})

    def stop_at_end(self, source: EventSource, after: int, through: int | None = None,
                    ) -> None:
        """Apply the log after `after` only as far as `through` (by default, as far as it
        goes now), writing each item once its last event there is applied (if `source`
        can say where items end)."""
        if isinstance(source, Ends):
            self.through = source.head() if through is None else through
            self.endings = Endings(source.last_positions(after, self.through))


class Endings:
    """Where each item's events end in the log a bulk transaction applies (its last
    position there, by id), and the items it has applied to their end but not yet written:
    written `ITEMS_A_WRITE` at a time, their rows go in fewer, larger statements."""

    def __init__(self, ends: dict[str, int]) -> None:
        self.ends = ends
        self.waiting: list[str] = []

    def ready(self, ids: Iterable[str], last: int) -> list[str]:
        """Add those of these items (just applied up to position `last`) with no event
        after it to the ended ones; return all of those, in order, once there are
        `ITEMS_A_WRITE`, and none before. An item not in `ends` never ends here: where its
        events end is not known."""
        self.waiting += (i for i in ids if self.ends.get(i, last + 1) <= last)
        if len(self.waiting) < ITEMS_A_WRITE:
            return []
        ready, self.waiting = sorted(self.waiting), []
        return ready


class Batch:
    """The rows one batch changes: items' rows and activity rows are written together at
    the end, the rest as each event is applied."""

    def __init__(self, conn: Connection, source: EventSource, seen: dict[str, int],
                 bulk: Bulk | None = None) -> None:
        self.conn, self.seen = conn, seen
        # States read or made in this transaction; a rebuild's are complete, never read.
        self.complete = bulk is not None and bulk.complete
        self.items = Items(source, {} if bulk is None else bulk.states,
                           complete=self.complete, conn=conn,
                           timelines=None if bulk is None else bulk.timelines,
                           kept=None if bulk is None else bulk.kept)
        self.partners_at = 0  # the last position in this batch that changed a partner
        self.following: notices.Follows | None = None  # read when first needed
        self.activity: list[dict[str, Any]] = []
        self.names: dict[str, str] | None = None

    @property
    def names_at(self) -> int:
        """The last position in this batch that changed a name."""
        return max(self.partners_at, self.items.names_at)

    def name(self, key: str) -> str:
        """How summaries name a partner now."""
        if self.names is None:
            self.names = partners.names(self.conn)
        return self.names.get(key, key)

    def apply(self, position: int, event: Any) -> None:
        """Apply one event to each view that takes it and has not seen its position; an
        event no view knows is passed over."""
        event = viewable(event)
        if isinstance(event, activity.EVENTS):  # an item's event
            item_id = str(event.originator_id)
            if position > self.seen["board"]:
                self.items.apply(position, item_id, event)
            if position > self.seen[NOTICES]:
                self._notice(position, item_id, event)
            if position > self.seen["activity"]:
                self.activity.append(activity.row(position, item_id, event, self.name))
        elif isinstance(event, partners.EVENTS) and position > self.seen["partners"]:
            self.names = None
            self.partners_at = position
            partners.apply(self.conn, event)
        elif isinstance(event, channels.EVENTS) and position > self.seen["channels"]:
            self.following = None  # follows may change: read them again when needed
            channels.apply(self.conn, event)

    def follows(self) -> notices.Follows:
        """What every channel follows, read once a batch (channel events reset it)."""
        if self.following is None:
            self.following = notices.follows(self.conn)
        return self.following

    def _notice(self, position: int, item_id: str, event: Any) -> None:
        state = self.items.state(item_id)
        if state is None:
            return
        rows = notices.rows(position, item_id, event, state, self.follows)
        if rows:
            self.conn.execute(insert(notice_outbox), rows)

    def flush(self) -> None:
        self.write_items(self.items.dirty)
        self.flush_activity()

    def flush_activity(self) -> None:
        _ROWS.insert(self.conn, activity_table, self.activity)
        self.activity = []

    def flush_finished(self) -> None:
        """Write the rows made so far that will not change (a bulk transaction's, page by
        page: `Items.finished_rows`)."""
        for table, rows in self.items.finished_rows():
            _ROWS.insert(self.conn, table, rows)

    def write_items(self, dirty: set[str]) -> None:
        """Write the rows of these items afresh."""
        ids = sorted(dirty)
        if ids and not self.complete:  # a rebuild's views were emptied: nothing to replace
            for table in ITEM_TABLES:
                self.conn.execute(delete(table).where(table.c.item_id.in_(ids)))
        if ids:  # a rebuild's too: it wrote checkpoints on earlier pages that a revision redid
            self.items.close_stored(ids)
        for table, rows in self.items.rows(ids):
            _ROWS.insert(self.conn, table, rows)


def apply_page(conn: Connection, source: EventSource, seen: dict[str, int],
               page: Sequence[Positioned], last: int, bulk: Bulk | None = None) -> int:
    """Apply a page of the log, whose last position is `last`, and move the positions on
    to it; returns the last position in it that changed a name (0 if none). In a bulk
    transaction the items' rows are left to `write_items`."""
    batch = Batch(conn, source, seen, bulk)
    for item in page:
        batch.apply(item.position, item.event)
    if bulk is None:
        batch.flush()
    else:  # an item's rows are written once, at the end, however many batches touch it
        bulk.dirty |= batch.items.dirty
        batch.flush_activity()
        batch.flush_finished()
        write_and_forget(batch, bulk, bulk.endings.ready(batch.items.dirty, last))
    positions.move_on(conn, last)
    if batch.names_at:
        positions.move_names(conn, batch.names_at)
    return batch.names_at


def next_page(conn: Connection, source: EventSource, size: int, bulk: Bulk | None = None,
              ) -> int:
    """Lock the positions and apply the next `size` events the views have not all seen;
    returns how many events it read."""
    seen = positions.lock(conn)
    page = source.read(min(seen.values()), size)
    if bulk is not None and bulk.through is not None:
        page = [logged for logged in page if logged.position <= bulk.through]
    if not page:
        return 0
    apply_page(conn, source, seen, page, page[-1].position, bulk)
    return len(page)


def in_bulk(conn: Connection, source: EventSource, bulk: Bulk, *, page_size: int) -> int:
    """Apply everything recorded so far in this transaction, page by page, keeping each
    touched item's state from page to page and writing its rows once, when its last event
    is applied (`Bulk`), or at the end."""
    bulk.stop_at_end(source, min(positions.lock(conn).values()))
    total = pages = 0
    while count := next_page(conn, source, page_size, bulk):
        total += count
        pages += 1
        if pages % 4 == 0:
            collect_young()
    write_items(conn, source, bulk)
    return total


def write_items(conn: Connection, source: EventSource, bulk: Bulk) -> None:
    """Write the rows of every item a bulk transaction touched and has not written yet,
    `ITEMS_A_WRITE` at a time, forgetting each item as it is written (the bulk
    transaction is over)."""
    write_and_forget(Batch(conn, source, {}, bulk), bulk, sorted(bulk.dirty))


def write_and_forget(writer: Batch, bulk: Bulk, ids: list[str]) -> None:
    """Write the rows of these items of a bulk transaction, `ITEMS_A_WRITE` at a time,
    forgetting each item's state, timeline and checkpoints as it is written."""
    for start in range(0, len(ids), ITEMS_A_WRITE):
        written = ids[start:start + ITEMS_A_WRITE]
        writer.write_items(set(written))
        writer.items.forget(written)
        bulk.dirty.difference_update(written)

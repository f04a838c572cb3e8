"""The read model's entry point: snapshots, the name index, and what is kept between reads.

Questions, digests and the report read through one `ReadModel`. It keeps the name index
while no name changes, and what was derived from the items (such as a period's digest
material) while no item changes, so a hundred channels' digests read the items once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from cmsbot.eventstore.tracker import Tracker
from cmsbot.readmodel import stored_index
from cmsbot.readmodel.resolve import Index
from cmsbot.readmodel.snapshot import Snapshot
from projections import positions
from projections import queries as q

T = TypeVar("T")
DERIVED_KEPT = 8  # what is derived from one survey: a few periods' digest material


class ReadModel:
    """Reads the views, and for past times the items' own events; never writes."""

    def __init__(self, engine: Engine, tracker: Tracker, *,
                 today: Callable[[], date] | None = None) -> None:
        self.engine, self.tracker = engine, tracker
        self.today = today or (lambda: datetime.now(UTC).date())
        self._index: tuple[int, Index] | None = None
        self._kept: _Kept | None = None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection whose statements all see one state of the views, so that what one
        read puts together (a list and its count, an item and its name) was true at once.
        SQLite's transaction sees one state from its first read; PostgreSQL's does so at
        its repeatable-read level, here read-only. The isolation is the connection's
        setting, sent with its BEGIN: no statement of its own."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                              postgresql_readonly=True)
            yield conn
            # Ended by a commit (it wrote nothing), not by the pool's rollback: psycopg
            # forgets a connection's prepared statements on every rollback.
            conn.commit()

    def views_behind(self, conn: Connection) -> int:
        """How many events of the log the views `conn` sees have not applied yet: the log's
        head is read first, so a write the views took since only makes it smaller."""
        head = self.tracker.head()
        return max(0, head - positions.views_position(conn))

    def index(self, conn: Connection) -> Index:
        """The names of the items and partners, rebuilt when the views' names change."""
        position = q.names_position(conn)
        if self._index is None or self._index[0] != position:
            index = stored_index.load(conn, position) or Index(q.index_rows(conn),
                                                                q.partner_rows(conn))
            self._index = (position, index)
        return self._index[1]

    def keep_stored_index(self) -> None:
        """Store the name index for the views' names as they are now, unless it is stored
        already: for writers, after they catch the views up (a reader never calls it)."""
        with self.engine.connect() as conn:
            position = q.names_position(conn)
            if stored_index.stored_position(conn) == position:
                return
            index = self.index(conn)
        stored_index.save(self.engine, position, index)

    def reference(self, as_at: date | None, known_at: datetime | None) -> date:
        """The day a reading at these times stands on ("next month" counts from it):
        `as_at`, else `known_at`'s day, else today."""
        return as_at or (known_at.date() if known_at else self.today())

    def snapshot(self, conn: Connection, *, as_at: date | None = None,
                 known_at: datetime | None = None, shortcut: bool = True) -> Snapshot:
        """The items as at `as_at` (business time) and as known at `known_at` (recorded
        time), or now. With `shortcut`, a `known_at` after the last recorded event reads the
        current views: they are exact then, and cheap."""
        reference = self.reference(as_at, known_at)
        if shortcut and known_at is not None and as_at is None:
            latest = q.latest_recorded(conn)
            if latest is None or latest <= known_at:
                known_at = None
        return Snapshot(conn, self.tracker, self.index(conn), as_at=as_at, known_at=known_at,
                        reference=reference)

    def derived(self, snap: Snapshot, key: Hashable, make: Callable[[], T]) -> T:
        """What `make` computes from what the snapshot sees (a period's digest material,
        say), kept under `key` while no item changes (the events of channels and digests,
        such as each digest's claim, leave it), so a hundred channels' digests read the
        items once."""
        kept = self._kept_for(snap).derived
        try:
            value: T = kept[key]
        except KeyError:
            value = make()
            for oldest in list(kept)[:max(0, len(kept) - DERIVED_KEPT + 1)]:
                kept.pop(oldest, None)
            kept[key] = value
        return value

    def _kept_for(self, snap: Snapshot) -> _Kept:
        key = (q.items_position(snap.conn), q.names_position(snap.conn), snap.as_at,
               snap.known_at)
        kept = self._kept
        if kept is None or kept.key != key:
            kept = self._kept = _Kept(key)
        return kept


@dataclass
class _Kept:
    """What is kept while no item changes: what was derived from the items."""

    key: Hashable
    derived: dict[Hashable, Any] = field(default_factory=dict)

"""The SQLite event recorder, with one statement for a large save.

eventsourcing's SQLite recorder inserts a save's events one `execute` at a time, to read
each one's notification id (its rowid). A save of more than `MANY` events (an import) is
inserted with one `executemany` instead: inside the save's transaction the first insert
takes the write lock, so the rowids it is given are consecutive, and the ids are the run
ending at the largest.

Every write first asks the store's file (`cmsbot.storefile`) whether it may be written, and
afterwards whether it is still the store, so that nothing written to a file that is gone,
replaced, read-only or damaged is confirmed.

Chosen by `APPLICATION_RECORDER_TOPIC` in `Database.eventsourcing_env`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from cmsbot.storefile import StoreFile
from projections.writing import sqlite_gate

MANY = 100


# Each item's id made once however many of its events are read (a UUID is immutable).
uuid_of = functools.lru_cache(maxsize=65536)(UUID)

# An event as the bulk sessions insert it: the originator's id as 32 hex digits (how the
# library's SQLite recorder stores it), its version, its topic and its encoded state.
EventRow = tuple[str, int, str, bytes]


def event_row(stored: StoredEvent) -> EventRow:
    return (hex_of(stored.originator_id), stored.originator_version, stored.topic,
            stored.state)


def hex_of(originator_id: UUID | str) -> str:
    """An id as the 32 hex digits SQLite stores."""
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex


class BulkSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLiteApplicationRecorder, with one statement for a large save, and each item's id
    made once however many of its events are read (a UUID is immutable)."""

    # The file this recorder writes to, set by `bootstrap`; each write is checked against it.
    store_file: StoreFile | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any,
                      ) -> Sequence[int] | None:
        with sqlite_gate(self.datastore.pool.db_name):  # see projections.writing
            if self.store_file is not None:
                self.store_file.refuse_writes()
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            if self.store_file is not None:
                self.store_file.confirm_written()
            return ids

    def convert_originator_id(self, originator_id: str) -> UUID | str:
        if self.datastore.originator_id_type == "uuid":
            return uuid_of(originator_id)
        return originator_id

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) <= MANY:
            return super()._insert_events(c, stored_events, **kwargs)
        return self._insert_rows(c, [event_row(s) for s in stored_events])

    def _insert_rows(self, c: SQLiteCursor, rows: Sequence[EventRow]) -> list[int]:
        c.executemany(self.insert_events_statement, rows)
        c.execute(self.select_max_notification_id_statement)
        last = int(c.fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))

    @contextmanager
    def bulk(self) -> Iterator[Callable[[Sequence[EventRow]], list[int]]]:
        """One transaction to which several parts of one save are added in turn, as event
        rows (an import adds each part as it is ready, made in other processes); it commits
        on leaving, or records nothing if anything failed."""
        with sqlite_gate(self.datastore.pool.db_name):
            if self.store_file is not None:
                self.store_file.refuse_writes()
            with self.datastore.transaction(commit=True) as c:
                yield lambda rows: self._insert_rows(c, rows) if rows else []
            if self.store_file is not None:
                self.store_file.confirm_written()

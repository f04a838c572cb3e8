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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from cmsbot.eventstore.bulk_rows import AddRows, EventRow, Range, event_row, uuid_of
from cmsbot.storefile import StoreFile
from projections.logrows import LogRow
from projections.writing import sqlite_gate

MANY = 100

class BulkSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLiteApplicationRecorder, with one statement for a large save, each item's id made
    once however many of its events are read (a UUID is immutable), and the bulk paths of
    `cmsbot.eventstore.bulk_rows.BulkRecorder`."""

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
    def bulk(self) -> Iterator[AddRows]:
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

    def select_last_positions(self, after: int, through: int) -> dict[str, int]:
        statement = ("SELECT originator_id, MAX(rowid) "  # noqa: S608 - our names
                     f"FROM {self.events_table_name} WHERE rowid > ? AND rowid <= ? "
                     "GROUP BY originator_id")
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, through))
            return {row[0]: row[1] for row in cursor.fetchall()}

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        marks = ",".join("?" * len(originator_ids))
        statement = (f"SELECT originator_id FROM {self.events_table_name} "  # noqa: S608 - our names
                     f"WHERE originator_version = 1 AND originator_id IN ({marks})")
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [i.hex for i in originator_ids])
            return {UUID(row[0]) for row in cursor.fetchall()}

    def select_ranges(self, ranges: Sequence[Range]) -> list[EventRow]:
        if not ranges:
            return []
        wanted = ",".join(["(?, ?, ?)"] * len(ranges))
        statement = (f"WITH w(id, after, through) AS (VALUES {wanted}) "  # noqa: S608 - our names
                     "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                     f"FROM w JOIN {self.events_table_name} AS e ON e.originator_id = w.id "
                     "AND e.originator_version > w.after AND e.originator_version <= w.through "
                     "ORDER BY e.originator_id, e.originator_version")
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [v for aggregate, after, through in ranges
                                       for v in (aggregate.hex, after, through)])
            return [tuple(row) for row in cursor.fetchall()]

    def select_rows(self, after: int, limit: int) -> list[LogRow]:
        statement = ("SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                     f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?")
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, limit))
            return [tuple(row) for row in cursor.fetchall()]

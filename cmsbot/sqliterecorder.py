"""The SQLite event recorder, with one statement for a large save.

eventsourcing's SQLite recorder inserts a save's events one `execute` at a time, to read
each one's notification id (its rowid). A save of more than `MANY` events (an import) is
inserted with one `executemany` instead: inside the save's transaction the first insert
takes the write lock, so the rowids it is given are consecutive, and the ids are the run
ending at the largest.

Chosen by `APPLICATION_RECORDER_TOPIC` in `Database.eventsourcing_env`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

MANY = 100


class BulkSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLiteApplicationRecorder, with one statement for a large save."""

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) <= MANY:
            return super()._insert_events(c, stored_events, **kwargs)
        c.executemany(self.insert_events_statement, [
            (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
             s.originator_version, s.topic, s.state) for s in stored_events])
        c.execute(self.select_max_notification_id_statement)
        last = int(c.fetchone()[0])
        return list(range(last - len(stored_events) + 1, last + 1))

    @contextmanager
    def bulk(self) -> Iterator[Callable[[Sequence[StoredEvent]], Sequence[int] | None]]:
        """One transaction to which several parts of one save are added in turn (an
        import adds each part as it is ready); it commits on leaving, or records nothing
        if anything failed."""
        with self.datastore.transaction(commit=True) as c:
            yield lambda stored_events: self._insert_events(c, stored_events)

"""The PostgreSQL event recorder, safe for large saves.

eventsourcing sends a save's statements through a psycopg pipeline. With a large save (a
history file of more than about 10,000 events) the pipeline deadlocks: the client waits
to send the rest of the one big INSERT while the server waits for the client to read
(psycopg issue #685), and `sync()` never returns. Saves larger than `PIPELINE_LIMIT` events
therefore go without the pipeline, in chunks, in one transaction that takes the same
table lock first, so notification ids are still issued in commit order and the projector's
exactly-once reading still holds. Small saves (every recorded update) keep the pipeline.

Chosen by `APPLICATION_RECORDER_TOPIC` in `Database.eventsourcing_env`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from cmsbot.eventstore.bulk_rows import AddRows, EventRow, Range
from projections.logrows import LogRow

PIPELINE_LIMIT = 1000
CHUNK = 5000


class LargeSavePostgresRecorder(PostgresApplicationRecorder):
    """PostgresApplicationRecorder, without the pipeline for large saves, and with the bulk
    paths of `cmsbot.eventstore.bulk_rows.BulkRecorder`."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any,
                      ) -> Sequence[int] | None:
        if len(stored_events) <= PIPELINE_LIMIT:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with self._locked() as insert:
            return insert(stored_events)

    @contextmanager
    def bulk(self) -> Iterator[AddRows]:
        """One transaction, holding the table lock, to which several parts of one save
        are added in turn, as event rows (an import adds each part as it is ready, made in
        other processes); it commits on leaving, or records nothing if anything failed."""
        with self._locked() as insert:
            yield lambda rows: insert([StoredEvent(UUID(hex=row[0]), *row[1:])
                                       for row in rows])

    @contextmanager
    def _locked(self) -> Iterator[Callable[[Sequence[StoredEvent]], list[int]]]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)

            def insert(stored_events: Sequence[StoredEvent]) -> list[int]:
                notification_ids: list[int] = []
                for start in range(0, len(stored_events), CHUNK):
                    chunk = stored_events[start:start + CHUNK]
                    # The parent's INSERT … FROM unnest(…) RETURNING notification_id, chunk
                    # by chunk; the table lock is held until the transaction commits.
                    super(PostgresApplicationRecorder, self)._insert_stored_events(curs, chunk)
                    notification_ids.extend(row["notification_id"] for row in curs.fetchall())
                return notification_ids

            yield insert

    def select_last_positions(self, after: int, through: int) -> dict[str, int]:
        query = SQL("SELECT originator_id, max(notification_id) AS last FROM {}.{} "
                    "WHERE notification_id > %s AND notification_id <= %s "
                    "GROUP BY originator_id").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (after, through))
            return {row["originator_id"].hex: row["last"] for row in cursor.fetchall()}

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        query = SQL("SELECT originator_id FROM {}.{} WHERE originator_version = 1 "
                    "AND originator_id = ANY(%s)").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (list(originator_ids),))
            return {UUID(str(row["originator_id"])) for row in cursor.fetchall()}

    def select_ranges(self, ranges: Sequence[Range]) -> list[EventRow]:
        if not ranges:
            return []
        # Each range read by its own lookup in the primary key's index, whatever the planner
        # believes of the table: a lateral subquery that OFFSET 0 keeps from being flattened
        # into a join. As a join, on a log never analysed (after a bulk import, before
        # autovacuum, if it runs) the planner took each item for 1/200 of the log and
        # scanned all of it for a hash join: 120-150 ms for 18 items at a million events,
        # against 1.5.
        query = SQL("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                    "FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[]) AS w(id, after, through) "
                    "CROSS JOIN LATERAL (SELECT * FROM {}.{} AS r WHERE r.originator_id = w.id "
                    "AND r.originator_version > w.after AND r.originator_version <= w.through "
                    "OFFSET 0) AS e ORDER BY e.originator_id, e.originator_version").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name))
        ids, afters, throughs = zip(*ranges, strict=True)
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (list(ids), list(afters), list(throughs)))
            return [(row["originator_id"].hex, row["originator_version"], row["topic"],
                     bytes(row["state"])) for row in cursor.fetchall()]

    def select_rows(self, after: int, limit: int) -> list[LogRow]:
        return [(n.id, n.originator_id.hex, n.originator_version, n.topic, n.state)
                for n in self.select_notifications(start=after, limit=limit,
                                                   inclusive_of_start=False)]

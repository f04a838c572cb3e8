"""Keeps the views current from the event log, applying each event exactly once.

Each batch runs in one transaction that first locks the views' positions
(`projections.positions`), reads the log after the lowest one, applies what each view has
not seen (`projections.batch`, which asks each view in `projections.views` for its rows),
writes the rows and moves the positions on. A second projector waits on the lock and then
finds nothing left to do, so two projectors at once give the same views as one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete

from projections import parallel_rebuild, positions
from projections import tables as t
from projections.batch import Bulk, in_bulk, next_page
from projections.bulk import collector_paused
from projections.source import EventSource
from projections.tables import VIEW_TABLES
from projections.views import VIEWS
from projections.writing import writing

log = logging.getLogger(__name__)


class Projector:
    """Applies the log to every view, once, in batches of `batch_size` events.

    `share_rebuild_from`: a rebuild of a log of this many events or more is shared with a
    forked process (`projections.parallel_rebuild`, which says what that buys; its
    `WORTH_IT_FROM` is where it starts to pay). None, the default: every rebuild runs in
    this process alone.
    """

    def __init__(self, engine: Engine, source: EventSource, *, batch_size: int = 1000,
                 share_rebuild_from: int | None = None) -> None:
        self.engine, self.source, self.batch_size = engine, source, batch_size
        self.share_rebuild_from = share_rebuild_from

    def run_once(self) -> int:
        """Apply one batch in one transaction; returns how many events it read."""
        with writing(self.engine) as conn:
            return next_page(conn, self.source, self.batch_size)

    def catch_up(self) -> int:
        """Apply everything recorded so far; returns how many events were read."""
        total = 0
        while count := self.run_once():
            total += count
        return total

    def position(self) -> int:
        """How far every view has applied the log."""
        with self.engine.connect() as conn:
            return positions.views_position(conn)

    def catch_up_in_bulk(self) -> int:
        """Apply everything recorded so far in one transaction, as a rebuild does: each
        touched item's state is kept from batch to batch and its rows written once, at the
        end. For a long way behind (after a large import), where batch by batch would read
        and write the same items' rows again and again. Readers see the views as they were
        until it commits."""
        with collector_paused(), writing(self.engine) as conn:
            count = self._in_bulk(conn, Bulk(complete=False))
        self._analyze()
        return count

    def rebuild(self) -> int:
        """Empty every view and apply the whole log again, in one transaction, so readers
        see the old views until the new ones are complete; returns how many events were
        read. Shared with a forked process when the log is long enough and
        `share_rebuild_from` says so; if that process fails, done again in this one."""
        source = self.source
        count: int | None = None
        if (self.share_rebuild_from is not None
                and parallel_rebuild.can_share(source, self.share_rebuild_from)):
            rows = source
            try:
                count = self._rebuild(lambda conn, seen: parallel_rebuild.rebuild(
                    conn, seen, rows, page_size=self._bulk_page))
            except parallel_rebuild.HelperFailedError as failure:  # rolled back
                log.warning("Rebuilding in one process: %s", failure)
        if count is None:
            count = self._rebuild(lambda conn, _seen: self._in_bulk(conn, Bulk()))
        self._analyze()
        return count

    def _analyze(self) -> None:
        """After a bulk transaction, PostgreSQL's planner statistics of the views: until
        autovacuum gets to them (it had not within minutes of a million-event import), it
        plans their queries blind, with seq scans where an index serves ("what changed
        since", 147 ms instead of 13 at a million events). The agenda and the board are
        vacuumed too: the as-at readings find the agenda's rows from its partial indexes
        alone, and the workshops from the board's `ix_board_workshop`, which PostgreSQL
        can do only for pages vacuum has marked all-visible (the overdue list as at a day
        at a million events: 115 ms of SQL before, 35-48 after; "upcoming workshops" as at
        a day, 7.9 ms to 2.7 at the quick size). SQLite plans without statistics and reads
        any index alone."""
        if self.engine.dialect.name != "postgresql":
            return
        name = self.engine.dialect.identifier_preparer.format_table
        vacuumed = (t.agenda, t.board)
        others = ", ".join(name(table) for table in VIEW_TABLES if table not in vacuumed)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Not in a transaction, as VACUUM must not be.
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(map(name, vacuumed))}")
            conn.exec_driver_sql(f"ANALYZE {others}")

    @property
    def _bulk_page(self) -> int:
        # A bulk transaction is one whatever its pages: larger ones cost fewer trips.
        return self.batch_size * 5

    def _in_bulk(self, conn: Connection, bulk: Bulk) -> int:
        return in_bulk(conn, self.source, bulk, page_size=self._bulk_page)

    def _rebuild(self, run: Callable[[Connection, dict[str, int]], int]) -> int:
        with collector_paused(), writing(self.engine) as conn:
            seen = positions.lock(conn)
            for table in VIEW_TABLES:
                conn.execute(delete(table))
            positions.restart_views(conn)
            return run(conn, {**seen, **dict.fromkeys(VIEWS, 0)})

"""Every writer locks the position rows in one order, their names', whatever order the
rows lie in on disk. Locked in the order a scan meets them, two writers could each hold a
row the other waits for: a deadlock, which PostgreSQL breaks by failing one of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text, update

from cmsbot.db import make_engine
from cmsbot.settings import Database
from projections import positions
from projections import tables as t
from projections.views import NAMES, TRACKED
from tests.conftest import new_store, postgres_schema_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_server: str) -> Iterator[Engine]:
    for url in postgres_schema_url(postgres_server):
        built = make_engine(Database(new_store(url)))
        with built.begin() as conn:
            positions.ensure_positions(conn)
        yield built
        built.dispose()


def test_a_writer_locks_the_positions_in_the_order_of_their_names(engine: Engine) -> None:
    names = sorted((*TRACKED, NAMES))
    last = names[-1]
    with engine.begin() as conn:  # every row but the last by name moves on, after it on disk
        conn.execute(update(t.positions).where(t.positions.c.name != last)
                     .values(position=t.positions.c.position))
    blocker = engine.connect()
    blocker.begin()
    blocker.execute(select(t.positions).where(t.positions.c.name == last).with_for_update())
    blocker_pid = blocker.execute(text("SELECT pg_backend_pid()")).scalar_one()
    waiting = threading.Thread(target=_lock_all, args=(engine,))
    waiting.start()
    try:
        with engine.connect() as probe:
            for _ in range(3000):  # until the writer waits for the row the blocker holds
                if probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE "
                                      ":pid = ANY(pg_blocking_pids(pid))"),
                                 {"pid": blocker_pid}).scalar_one():
                    break
                probe.rollback()
                time.sleep(0.01)
            else:
                pytest.fail("the writer never came to wait for the blocked row")
            probe.rollback()
            free = set(probe.execute(select(t.positions.c.name)
                                     .with_for_update(skip_locked=True)).scalars())
            probe.rollback()
        assert not free  # the writer holds every row named before the one it waits for
    finally:
        blocker.rollback()
        blocker.close()
        waiting.join()


def _lock_all(engine: Engine) -> None:
    with engine.begin() as conn:
        positions.lock(conn)

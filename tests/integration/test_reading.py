"""A read's connection (`ReadModel.reading`): every statement of one read sees one state of
the views, on both stores, while writers go on; and on PostgreSQL a read ends without
throwing away the connection's prepared statements, so that the next read of the same
shape is not parsed and planned again."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select, text

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, read_history_file
from domain.items import item_id
from domain.provenance import Source
from projections import positions
from projections import tables as t
from tests.conftest import make_container

KEY = "unep-mts"


def seen(conn: Connection) -> tuple[int, int, int]:
    """What a read puts together: the item's activity rows, all the activity's rows, and how
    far the views have applied the log."""
    steps = conn.execute(select(func.count()).select_from(t.activity).where(
        t.activity.c.item_id == str(item_id(KEY)))).scalar_one()
    rows = conn.execute(select(func.count()).select_from(t.activity)).scalar_one()
    return steps, rows, positions.views_position(conn)


def record(container: Container, summary: str) -> None:
    container.recorder.record(LOCAL_OPERATOR, key=KEY, what="progress noted",
                              fields={"summary": summary}, occurred="2016",
                              source=Source("TEST/R", summary))
    container.catch_up()


def test_a_read_sees_one_state_of_the_views_while_a_writer_commits(seeded: Container) -> None:
    reader = seeded.readmodel
    with reader.reading() as conn:
        first = seen(conn)
        record(seeded, "written while the read was open")  # its own connections, committed
        assert seen(conn) == first
        assert reader.views_behind(conn) == 1  # the log moved on; these views did not
    with reader.reading() as conn:
        steps, rows, position = seen(conn)
        assert (steps, rows) == (first[0] + 1, first[1] + 1) and position > first[2]
        assert reader.views_behind(conn) == 0


def test_a_read_that_fails_leaves_the_connection_clean(seeded: Container) -> None:
    with pytest.raises(ZeroDivisionError), seeded.readmodel.reading() as conn:
        seen(conn)
        raise ZeroDivisionError
    record(seeded, "after the failed read")
    with seeded.readmodel.reading() as conn:
        assert seeded.readmodel.views_behind(conn) == 0


@pytest.mark.postgres
def test_answers_keep_the_connections_prepared_statements(postgres_url: str) -> None:
    """psycopg prepares a statement run five times on a connection, and forgets them all on
    a rollback; a read ends by a commit instead."""
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        container.catch_up()
        for _ in range(8):  # one thread: the pool hands out the same connection each time
            container.questions.answer(f"history of {KEY}")
        with container.readmodel.reading() as conn:
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar_one() > 0
    finally:
        container.close()

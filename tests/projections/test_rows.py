"""The row writer stores exactly what SQLAlchemy's own insert stores, on both stores."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Table, Text, cast, delete, event, insert, select

from cmsbot.bootstrap import Container
from projections import tables as t
from projections.copy_rows import COPY_FROM, takes_copy
from projections.rows import RowWriter


def _stored(conn: Connection, table: Table) -> list[tuple[Any, ...]]:
    """The table's values as the database holds them (as text), not as read back."""
    query = select(*(cast(column, Text) for column in table.c))
    return sorted(map(tuple, conn.execute(query)), key=repr)


@pytest.mark.parametrize("table", [t.board, t.activity, t.calendar, t.partners,
                                   t.item_partners], ids=lambda table: table.name)
def test_rows_are_stored_as_sqlalchemy_stores_them(seeded: Container, table: Table) -> None:
    with seeded.engine.connect() as conn, conn.begin() as transaction:
        rows = [dict(row._mapping) for row in conn.execute(select(table))]
        assert len(rows) > 3
        conn.execute(delete(table))
        conn.execute(insert(table), rows)
        by_sqlalchemy = _stored(conn, table)
        conn.execute(delete(table))
        RowWriter().insert(conn, table, rows)
        assert _stored(conn, table) == by_sqlalchemy
        transaction.rollback()


@pytest.mark.parametrize("table", [t.board, t.activity, t.agenda, t.calendar],
                         ids=lambda table: table.name)
def test_rows_copied_are_stored_as_sqlalchemy_stores_them(seeded: Container,
                                                          table: Table) -> None:
    """PostgreSQL's fast path, COPY, against SQLAlchemy's insert (the plain path)."""
    with seeded.engine.connect() as conn, conn.begin() as transaction:
        if conn.dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        rows = [dict(row._mapping) for row in conn.execute(select(table))]
        assert len(rows) > 3 and takes_copy(conn.dialect, COPY_FROM)
        conn.execute(delete(table))
        conn.execute(insert(table), rows)
        by_sqlalchemy = _stored(conn, table)
        conn.execute(delete(table))
        prepared = RowWriter().prepare(conn.dialect, table, rows, copy=True)
        assert prepared.copy and prepared.sql.startswith("COPY")
        prepared.run(conn)
        assert _stored(conn, table) == by_sqlalchemy
        transaction.rollback()


def test_few_rows_are_not_copied(seeded: Container) -> None:
    with seeded.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(select(t.calendar))]
        assert not RowWriter().prepare(conn.dialect, t.calendar, rows[:COPY_FROM - 1]).copy


def test_a_column_the_rows_leave_out_is_left_as_sqlalchemy_leaves_it(seeded: Container,
                                                                     ) -> None:
    with seeded.engine.connect() as conn, conn.begin() as transaction:
        rows = [dict(row._mapping) for row in conn.execute(select(t.calendar))]
        for row in rows:
            row.pop("venue")
        conn.execute(delete(t.calendar))
        conn.execute(insert(t.calendar), rows)
        by_sqlalchemy = _stored(conn, t.calendar)
        conn.execute(delete(t.calendar))
        RowWriter().insert(conn, t.calendar, rows)
        assert _stored(conn, t.calendar) == by_sqlalchemy
        assert all(row[-1] is None for row in by_sqlalchemy)  # venue, the last column
        transaction.rollback()


def test_no_rows_is_nothing_to_do(seeded: Container) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    writer = RowWriter()
    with seeded.engine.connect() as conn, conn.begin() as transaction:
        event.listen(conn, "before_cursor_execute", note)
        writer.insert(conn, t.item_partners, [])
        nothing = list(statements)
        writer.insert(conn, t.item_partners, [{"item_id": "x", "partner_key": "y"}])
        event.remove(conn, "before_cursor_execute", note)
        transaction.rollback()
    assert nothing == []
    # what it would have sent is seen: one insert, for one row
    assert [s.split("(")[0].strip() for s in statements] == ["INSERT INTO item_partners"]

"""Many rows into one PostgreSQL table by COPY: the fast path of `RowWriter` there.

psycopg sends an `executemany` as one statement a row (pipelined); COPY streams the rows
as one. The values are those the plain path sends (each column's bind conversion
applied, `projections.rows`), adapted by psycopg as it adapts an insert's parameters, so
the table holds the same; `tests/projections/test_rows.py` compares what each stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

COPY_FROM = 50  # rows from which a COPY is worth its round trips


def takes_copy(dialect: Dialect, rows: int) -> bool:
    """Whether `rows` rows go in by COPY on this dialect."""
    return dialect.name == "postgresql" and dialect.driver == "psycopg" and rows >= COPY_FROM


def copy_statement(dialect: Dialect, table: Table, names: Sequence[str]) -> str:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    return f"COPY {dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN"


def copy_rows(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run a `copy_statement` with these rows' values, in the connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()

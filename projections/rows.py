"""Many rows into one table at once, converted exactly as SQLAlchemy converts them.

`conn.execute(insert(table), rows)` spends most of a rebuild's writing time on per-row
bookkeeping. A `RowWriter` compiles the statement once per dialect and set of columns,
applies each column's own bind conversion (the dialect's, so a date or a JSON value is
stored exactly as through SQLAlchemy) and hands the driver one `executemany`; on
PostgreSQL, many rows go in by one COPY instead (`projections.copy_rows`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect

from projections.copy_rows import copy_rows, copy_statement, takes_copy


class _Statement:
    def __init__(self, dialect: Dialect, table: Table, keys: tuple[str, ...]) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(keys)
        unknown = set(names) - set(keys)
        if unknown:  # a column default or a parameter we did not give: not for this writer
            raise ValueError(f"rows for {table.name} lack {sorted(unknown)}")
        self.names = names
        self.values = operator.itemgetter(*names)  # a row's values in order, taken in C
        convert = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                   for name in names]
        self.convert: list[tuple[int, Callable[[Any], Any]]] = [
            (number, f) for number, f in enumerate(convert) if f is not None]

        self.copy = copy_statement(dialect, table, names)

    def params(self, rows: Sequence[dict[str, Any]], *, positional: bool) -> list[Any]:
        values, convert, single = self.values, self.convert, len(self.names) == 1
        params = []
        for row in rows:
            taken = [values(row)] if single else list(values(row))
            for number, f in convert:
                taken[number] = f(taken[number])
            params.append(tuple(taken) if positional else dict(zip(self.names, taken,
                                                                    strict=True)))
        return params


@dataclass(frozen=True)
class Prepared:
    """What inserts some rows, made where they are made (perhaps another process) and run
    where the transaction is: an insert and its parameters for one `executemany`, or a
    COPY and the rows' values (`copy`)."""

    sql: str
    params: list[Any]
    copy: bool = False

    def run(self, conn: Connection) -> None:
        if self.copy:
            copy_rows(conn, self.sql, self.params)
        else:
            conn.exec_driver_sql(self.sql, self.params)


class RowWriter:
    """Inserts rows (dicts with the same keys) into tables, one executemany (or COPY) per
    call."""

    def __init__(self) -> None:
        self._statements: dict[tuple[str, str, tuple[str, ...]], _Statement] = {}

    def insert(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.prepare(conn.dialect, table, rows).run(conn)

    def prepare(self, dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]], *,
                copy: bool | None = None) -> Prepared:
        """What inserts these rows (which another process may make, to be run here): by
        COPY where `takes_copy` says (or `copy` insists), else one executemany."""
        keys = tuple(rows[0])
        cache_key = (dialect.name, table.name, keys)
        statement = self._statements.get(cache_key)
        if statement is None:
            statement = self._statements[cache_key] = _Statement(dialect, table, keys)
        if copy if copy is not None else takes_copy(dialect, len(rows)):
            return Prepared(statement.copy, statement.params(rows, positional=True), True)
        return Prepared(statement.sql, statement.params(rows, positional=statement.positional))

"""Many rows into one table at once, converted exactly as SQLAlchemy converts them.

`conn.execute(insert(table), rows)` spends most of a rebuild's writing time on per-row
bookkeeping. A `RowWriter` compiles the statement once per dialect and set of columns,
applies each column's own bind conversion (the dialect's, so a date or a JSON value is
stored exactly as through SQLAlchemy) and hands the driver one `executemany`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect


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

    def params(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        values, convert, single = self.values, self.convert, len(self.names) == 1
        params = []
        for row in rows:
            taken = [values(row)] if single else list(values(row))
            for number, f in convert:
                taken[number] = f(taken[number])
            params.append(tuple(taken) if self.positional else dict(zip(self.names, taken,
                                                                         strict=True)))
        return params


class RowWriter:
    """Inserts rows (dicts with the same keys) into tables, one executemany per call."""

    def __init__(self) -> None:
        self._statements: dict[tuple[str, str, tuple[str, ...]], _Statement] = {}

    def insert(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.exec_driver_sql(*self.prepare(conn.dialect, table, rows))

    def prepare(self, dialect: Dialect, table: Table, rows: Sequence[dict[str, Any]],
                ) -> tuple[str, list[Any]]:
        """The statement and the driver's parameters that insert these rows (which
        another process may make, to be executed here)."""
        keys = tuple(rows[0])
        cache_key = (dialect.name, table.name, keys)
        statement = self._statements.get(cache_key)
        if statement is None:
            statement = self._statements[cache_key] = _Statement(dialect, table, keys)
        return statement.sql, statement.params(rows)

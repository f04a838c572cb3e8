"""What the overdue list's fast paths (`stale_rows` for now, `stale_asat` as at a date)
share in SQL: text ordered as Python orders it, a hint to SQLite's planner, the filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, func


def in_code_point_order(conn: Connection) -> Callable[[Any], Any]:
    """How a text column is ordered as Python orders strings: SQLite compares them by their
    UTF-8 bytes; PostgreSQL is told to ("C" collation), whatever the database's."""
    if conn.dialect.name == "postgresql":
        return lambda column: column.collate("C")
    return lambda column: column


def likely(conn: Connection, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """On SQLite, the condition marked as true of most rows, so that the planner walks the
    rows in date order (stopping at the page's end) rather than gathering every one that
    meets it and sorting them all."""
    if conn.dialect.name == "sqlite":
        return func.likely(condition)
    return condition


def filters(kind: Any, item_id: Any, kinds: frozenset[str],
            item_ids: list[str] | None) -> list[ColumnElement[bool]]:
    """Of these kinds (all when empty), of these items (all when None)."""
    found: list[ColumnElement[bool]] = []
    if kinds:
        found.append(kind.in_(sorted(kinds)))
    if item_ids is not None:
        found.append(item_id.in_(item_ids))
    return found

"""How far each view has applied the log: one row per view in `projection_positions`,
written in the same transaction as the view's rows.

A batch first locks these rows, in the order of their names (`FOR UPDATE` on PostgreSQL;
on SQLite the transaction began with `BEGIN IMMEDIATE`, see `projections.writing`), so a
second projector waits and then finds the work done.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from projections import tables as t
from projections.views import NAMES, NOTICES, TRACKED, VIEWS


def ensure_positions(conn: Connection) -> None:
    """Create the position rows if missing; safe when two processes race. Notices start
    where the views are, so a store that gains them does not notice its past."""
    views = conn.execute(select(t.positions.c.position).where(
        t.positions.c.name.in_(VIEWS))).scalars().all()
    start = min(views) if len(views) == len(VIEWS) else 0
    rows = [{"name": name, "position": start if name == NOTICES else 0}
            for name in (*TRACKED, NAMES)]
    # Each dialect's module is imported by the one store that needs it (PostgreSQL's
    # brings asyncio, ssl and more, which a SQLite store's reader need not start with).
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(t.positions).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(t.positions).on_conflict_do_nothing(), rows)


def lock(conn: Connection) -> dict[str, int]:
    """Lock the tracked positions for this transaction and read them, by name.

    The rows are locked in the order of their names. Without that, PostgreSQL locks them
    in the order its scan meets them, which every update changes; two writers could then
    each hold a row the other waits for, and one of them fails on the deadlock."""
    query = select(t.positions.c.name, t.positions.c.position).where(
        t.positions.c.name.in_((*TRACKED, NAMES))).order_by(t.positions.c.name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    seen = {row.name: row.position for row in conn.execute(query)}
    if len(seen) < len(TRACKED) + 1:
        ensure_positions(conn)
        seen = {row.name: row.position for row in conn.execute(query)}
    seen.pop(NAMES)
    return seen


def move_on(conn: Connection, last: int) -> None:
    """Every tracked position that is behind `last` is now at it."""
    conn.execute(update(t.positions).where(t.positions.c.name.in_(TRACKED))
                 .where(t.positions.c.position < last).values(position=last))


def move_names(conn: Connection, position: int) -> None:
    """The last event that changed a name is at `position`."""
    conn.execute(update(t.positions).where(t.positions.c.name == NAMES)
                 .values(position=position))


def restart_views(conn: Connection) -> None:
    """Every view is back at the start of the log (notices and names stay)."""
    conn.execute(update(t.positions).where(t.positions.c.name.in_(VIEWS)).values(position=0))


def views_position(conn: Connection) -> int:
    """How far every view has applied the log: the least of their positions."""
    rows = conn.execute(select(t.positions.c.position).where(
        t.positions.c.name.in_(VIEWS))).scalars().all()
    return min(rows) if len(rows) == len(VIEWS) else 0

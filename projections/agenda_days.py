"""The agenda's entries at a past time (as at a day, as known at a time, or both), found
level by level: the fast path of `queries.agenda_rows` ("what was coming up as at D",
"meetings in 2014 as at D", "what's coming up, known at K").

An entry was on the agenda as at D when its business-time span holds D
(`from_day <= D < to_day`). One index on either end of the span reads far more rows
than hold D: at a million events, 113,000 rows as known now end after 1 January 2014,
and 23,000 of them were on the agenda as at 1 January 2020. Each row therefore keeps its
span's length as a level (`span_level`: a span of at most 2**L days is at level L; an
open or very long span at `LONG`), and a span of level L that holds D began in the 2**L
days up to D. The entries on the agenda as at D are so read as one short run of
`from_day` a level (and whether held), about twice the rows that hold D at most, from a
partial index of the rows as known now (`ix_agenda_on_day`) that also holds what the
question filters, sorts and counts on; only the page's own rows are read from the table.

As known at a past time K, the rows are the current ones recorded by K, read by the same
runs (the index holds `recorded_from` too, so they are still read from it alone), and
those recorded by K and replaced since, among the rows of the items with an event
recorded since K (found by the board's index on each item's last recorded time,
`ix_board_recorded`), each item's by SQLite from its rows recorded by K and replaced
(`ix_agenda_replaced`): a read that grows with the items changed since K, not with the
whole agenda. PostgreSQL scans the agenda for them instead (docs/performance.md, "As known
at a past time"). A reading of no day (after every date) reads the rows on
`AFTER_EVERY_DATE`, which only open spans hold.

Measured at a million events (SQLite, the agenda query alone): "meetings in 2014" as at
1 January 2020 54 ms to 7; "what's coming up" as at 1 January 2016 15 ms to 7.
`tests/integration/test_agenda_days.py` holds it equal to the plain path on both stores.
The overdue list at a past time reads its rows the same way (`on_day`,
`cmsbot.readmodel.stale_asat`), and a digest the items of its late entries
(`agenda_entry_item_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Row,
    Select,
    Subquery,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from projections import queries as q
from projections import tables as t

LONG = 13  # the level of an open span, or of one longer than 2**(LONG - 1) days
OPEN = date(9999, 12, 31)  # a span's end (`to_day`) when it has none
# The day a reading of no day (after every date) reads the rows on: the last before
# `OPEN`, which only the rows after every date hold.
AFTER_EVERY_DATE = OPEN - timedelta(days=1)


def span_level(from_day: date, to_day: date) -> int:
    """The level of the span [from_day, to_day): the least L with at most 2**L days in it,
    or `LONG`."""
    if to_day >= OPEN:
        return LONG
    return min(max((to_day - from_day).days - 1, 0).bit_length(), LONG)


def earliest_from(level: int, day: date) -> date:
    """The earliest day on which a span of this level that holds `day` can begin."""
    if level >= LONG:
        return date.min
    return date.fromordinal(max(day.toordinal() - 2 ** level + 1, 1))


def agenda_rows(conn: Connection, *, as_at: date | None, known_at: datetime | None,
                first: date | None, last: date | None, kinds: set[str] | None,
                workshops: bool, item_ids: list[str] | None, held: bool | None = None,
                held_or_before: date | None = None, limit: int | None = None,
                offset: int = 0) -> tuple[Sequence[Row[Any]], int]:
    """What `queries.agenda_rows` answers; at a past time (as at a day, as known at a
    time, or both), from the rows that hold the day, level by level (`on_day`)."""
    if as_at is None and known_at is None:
        return q.agenda_rows(conn, as_at=as_at, known_at=known_at, first=first, last=last,
                             kinds=kinds, workshops=workshops, item_ids=item_ids, held=held,
                             held_or_before=held_or_before, limit=limit, offset=offset)
    found, shown = _statements(first is not None, last is not None, bool(kinds),
                               item_ids is not None, held, held_or_before is not None,
                               workshops, limit, offset, known_at is not None)
    values: dict[str, Any] = {
        "first": first, "last": last, "kinds": sorted(kinds or ()), "item_ids": item_ids,
        "held_or_before": held_or_before, **day_values(as_at, known_at)}
    rows = conn.execute(shown, values).all()
    if limit is None and not offset:  # every entry, read whole: no page
        return rows, len(rows)
    if rows:
        return rows, int(rows[0].total)
    if not offset:
        return rows, 0
    return rows, int(conn.execute(select(func.count()).select_from(found.subquery()),
                                  values).scalar_one())


@lru_cache(maxsize=64)
def _statements(first: bool, last: bool, kinds: bool, item_ids: bool, held: bool | None,
                held_or_before: bool, workshops: bool, limit: int | None, offset: int,
                known: bool) -> tuple[Select[Any], Select[Any]]:
    """The entries a question's shape asks for (with their count), and the page of them
    with their rows (every entry, with its row, when no page is asked for); made once a
    shape, their values bound, so that each question costs its query and not the making
    of 28 selects."""
    a, b = t.agenda.c, t.board.c
    runs = _runs(first, last, kinds, item_ids, held, held_or_before)
    if limit is None and not offset:
        # Every entry (a digest's "dated by yesterday"): read whole where the index finds
        # them, not counted and joined back to the table as a page's are, which at a
        # million events took seconds for 100,000 rows.
        every = on_day([a.item_id, a.label, a.when, a.held, a.start, a.end], runs,
                       known=known)
        v = every.c
        whole = select(every)
        if workshops:
            whole = whole.join(t.board, b.item_id == v.item_id).where(
                b.workshop.is_(True))
        whole = whole.order_by(v.start, v.end, v.label, v.item_id)
        return whole, whole
    found_on_day = on_day(
        [a.item_id, a.label, a.held, a.start, a.end, a.from_day, a.to_day], runs,
        known=known)
    e = found_on_day.c
    found = select(found_on_day, func.count().over().label("total"))
    if workshops:  # what a workshop is, is the board's to say
        found = found.join(t.board, b.item_id == e.item_id).where(
            b.workshop.is_(True))
    # Written into the statement, as `queries._dated_rows` does and for its reason.
    shown: Any = None if limit is None else literal_column(str(int(limit)))
    skipped: Any = literal_column(str(int(offset))) if offset else None
    page = found.order_by(e.start, e.end, e.label, e.item_id).limit(shown).offset(
        skipped).subquery()
    shown_rows = t.agenda.alias("shown")
    p, r = page.c, shown_rows.c
    return found, (
        select(r.item_id, r.label, r.when, r.held, r.start, r.end, p.total)
        .join_from(page, shown_rows, and_(
            r.item_id == p.item_id, r.label == p.label, r.held == p.held,
            r.from_day == p.from_day, r.to_day == p.to_day, *_known(r, known)))
        .order_by(p.start, p.end, p.label, p.item_id))


def _known(rows: Any, known: bool) -> list[ColumnElement[bool]]:
    """The rows as known now, or (`known`) as known at the time bound as `known_at`: those
    recorded by then and not replaced by then."""
    if not known:
        return [rows.recorded_to.is_(None)]
    known_at = _known_at()
    return [rows.recorded_from <= known_at,
            or_(rows.recorded_to.is_(None), rows.recorded_to > known_at)]


def _known_at() -> BindParameter[Any]:
    return bindparam("known_at", type_=t.agenda.c.recorded_from.type)


def _runs(first: bool, last: bool, kinds: bool, item_ids: bool, held: bool | None,
          held_or_before: bool) -> list[list[ColumnElement[bool]]]:
    """The sets of conditions (`on_day`'s runs) of a question's shape, its values bound."""
    a = t.agenda.c
    filters: list[ColumnElement[bool]] = []
    if first:
        filters.append(a.end >= bindparam("first", type_=Date))
    if last:
        filters.append(a.start <= bindparam("last", type_=Date))
    if kinds:
        filters.append(a.kind.in_(bindparam("kinds", expanding=True)))
    if item_ids:
        filters.append(a.item_id.in_(bindparam("item_ids", expanding=True)))
    if held_or_before:
        filters.append(or_(a.held.is_(True),
                           a.end < bindparam("held_or_before", type_=Date)))
    # Each held value is its own run of the index, as each level is.
    held_values = [held] if held is not None else [False, True]
    return [[a.held.is_(value), *filters] for value in held_values]


def agenda_entry_item_ids(conn: Connection, *, as_at: date | None,
                          known_at: datetime | None, first: date | None = None,
                          last: date | None = None, kinds: set[str] | None = None,
                          workshops: bool = False, item_ids: list[str] | None = None,
                          held: bool | None = None, held_or_before: date | None = None,
                          ) -> list[str]:
    """What `queries.agenda_entry_item_ids` answers (the items of every entry `agenda_rows`
    answers, each once, in no order); as at a day and as known now, from the index alone,
    reading no entry's date."""
    if as_at is None and known_at is None:
        return q.agenda_entry_item_ids(
            conn, as_at=as_at, known_at=known_at, first=first, last=last, kinds=kinds,
            workshops=workshops, item_ids=item_ids, held=held, held_or_before=held_or_before)
    values: dict[str, Any] = {
        "first": first, "last": last, "kinds": sorted(kinds or ()), "item_ids": item_ids,
        "held_or_before": held_or_before, **day_values(as_at, known_at)}
    statement = _item_ids(first is not None, last is not None, bool(kinds),
                          item_ids is not None, held, held_or_before is not None, workshops,
                          known_at is not None)
    return list(conn.execute(statement, values).scalars())


@lru_cache(maxsize=32)
def _item_ids(first: bool, last: bool, kinds: bool, item_ids: bool, held: bool | None,
              held_or_before: bool, workshops: bool, known: bool) -> Select[Any]:
    """`agenda_entry_item_ids`' statement for a question's shape (made once, as
    `_statements`' are)."""
    found = on_day([t.agenda.c.item_id],
                   _runs(first, last, kinds, item_ids, held, held_or_before), known=known).c
    b = t.board.c
    query = select(found.item_id)
    if workshops:
        query = query.join(t.board, b.item_id == found.item_id).where(b.workshop.is_(True))
    return query.distinct()


def day_values(as_at: date | None, known_at: datetime | None = None) -> dict[str, Any]:
    """The values `on_day`'s statements are bound with, as at a day (None: after every
    date) and as known at a time (None: now): the day, the earliest day on which a span
    of each level that holds it can begin, and the time."""
    day = as_at or AFTER_EVERY_DATE
    return {"as_at": day, "known_at": known_at,
            **{f"from_{level}": earliest_from(level, day) for level in range(LONG)}}


def on_day(columns: Sequence[ColumnElement[Any]],
           runs: Iterable[Sequence[ColumnElement[bool]]], *, known: bool = False) -> Subquery:
    """These columns of the agenda's rows on the day bound as `as_at` that meet one of
    these sets of conditions (sets that no row meets two of: held or not, say). As known
    now: the current rows, as one run of an index a level and set (a partial index of the
    current rows whose key begins with the level, then what each set fixes, held say, then
    `from_day`). As known at a past time (`known`, bound as `known_at`): the current rows
    recorded by then, read the same way, and the rows recorded by then and replaced since,
    among the rows of the items with an event recorded since (those whose board row was
    last recorded after then, which `ix_board_recorded` finds: a row is replaced only by
    an event of its item, and the board's row is written with every event), so that
    neither read walks every row."""
    a, b = t.agenda.c, t.board.c
    runs = list(runs)
    as_at = bindparam("as_at", type_=Date)
    recorded = [a.recorded_from <= _known_at()] if known else []
    current = [
        select(*columns)
        .where(a.recorded_to.is_(None), a.span_level == level, *conditions, *recorded,
               *([a.from_day >= bindparam(f"from_{level}", type_=Date)]
                 if level < LONG else []),
               a.from_day <= as_at, a.to_day > as_at)
        for conditions in runs for level in range(LONG + 1)]
    replaced = [
        select(*columns)
        .where(a.item_id.in_(select(b.item_id).where(b.last_recorded > _known_at())),
               a.recorded_to > _known_at(), *recorded, *conditions,
               a.from_day <= as_at, a.to_day > as_at)
        for conditions in (runs if known else ())]
    return union_all(*current, *replaced).subquery()

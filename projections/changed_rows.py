"""A page of a change question's rows, read from the activity view without ordering them
all: what `cmsbot.readmodel.changes.changed_by_rows` (the plain path) lists, a page at a
time.

The list groups the rows by item, the items in the order of their first row, each item's
rows in date order (the log's order where dates tie), or in log order for recorded time.
Numbering every row in SQL in that order, and then each item's rows by its first row's
number, sorts all of them twice: "what changed since 1 March 2016" lists 600,000 rows at
a million events, and took 10-12 s on SQLite to show 20.

Here one aggregate over the rows gives each item its count and its first row's date (the
least `coalesce(start, end)`; for recorded time, its least log position): the answer's
counts, and the items' order up to ties. The items whose first rows share a date are put
in order by those rows' end and position, read for the items of the ties that reach into
the page alone. Then only the page's items' rows are read and ordered. A "by" date has no
start (`occurred_start` is NULL): it sorts by its end, as `PartialDate.sort_key` does.
Measured in docs/performance.md; `tests/integration/test_changes_pages.py` holds every
page equal to the plain path's slice on both stores.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from projections import tables as t

a = t.activity.c


def changed_page(conn: Connection, *, since: date, recorded_from: datetime | None,
                 last: date | None, known_at: datetime | None, item_ids: list[str] | None,
                 first: int, count: int | None) -> tuple[list[Any], int, int]:
    """Activity rows (registrations left out) whose business date may fall on or after
    `since` (a "by" date only after it) up to `last`, or with `recorded_from` those
    recorded from then (with business dates by `last`); recorded by `known_at`; of these
    items. In the list's order: rows `first`… (at most `count`), how many rows in all, and
    of how many items."""
    where: list[Any] = [a.event_type != "ItemRegistered"]
    if recorded_from is not None:
        where.append(a.recorded >= recorded_from)
    else:
        where += [a.occurred_end >= since,
                  or_(a.occurred_start.is_not(None), a.occurred_end > since)]
    if last is not None:
        where.append(a.occurred_end <= last)
    if known_at is not None:
        where.append(a.recorded <= known_at)
    if item_ids is not None:
        where.append(a.item_id.in_(item_ids))
    key = a.position if recorded_from is not None else func.coalesce(a.occurred_start,
                                                                       a.occurred_end)
    # Each item: how many rows, and its first row's date (or position). Grouped by
    # `item_id || ''`, which no index holds: without statistics, SQLite would otherwise walk
    # the whole table by the item index, to spare itself a sort, rather than take only the
    # rows the date's (or the recorded time's) index finds.
    each_item = (a.item_id + "").label("item_id")
    items = sorted(conn.execute(select(func.min(key), each_item, func.count())
                                .where(*where).group_by(each_item)).tuples(),
                   key=lambda item: item[0])
    events = sum(rows for _, _, rows in items)
    end = events if count is None else min(events, first + count)
    chosen: list[str] = []  # the items of the page's rows, in order
    skipped = taken = 0  # the rows before the first of them, and their own rows
    for when, tied in groupby(items, key=lambda item: item[0]):
        run = list(tied)
        in_run = sum(rows for _, _, rows in run)
        if not chosen and skipped + in_run <= first:  # wholly before the page
            skipped += in_run
            continue
        for _, item_id, rows in _in_order(conn, where, key, when, run):
            if skipped + taken >= end:
                break
            if not chosen and skipped + rows <= first:
                skipped += rows
            else:
                chosen.append(item_id)
                taken += rows
        if skipped + taken >= end:
            break
    if not chosen:
        return [], events, len(items)
    place = {item_id: number for number, item_id in enumerate(chosen)}
    if count is None:  # the rest of the list: every row of the chosen items
        read = conn.execute(select(t.activity).where(*where)).all()
        listed = sorted((row for row in read if row.item_id in place),
                        key=lambda row: (place[row.item_id], *_row_order(row, recorded_from)))
        return listed[first - skipped:], events, len(items)
    # Of each chosen item, the rows the page holds (by their number in the item's order):
    # the first item's after those before the page, the last one's up to its end.
    counts = {item_id: rows for _, item_id, rows in items if item_id in place}
    wanted, before, left = [], first - skipped, end - first
    for item_id in chosen:
        low = min(before, counts[item_id])
        high = min(counts[item_id], low + left)
        before, left = before - low, left - (high - low)
        wanted.append((item_id, low, high))
    order = [key] if recorded_from is not None else [key, a.occurred_end, a.position]
    numbered = select(t.activity, func.row_number().over(
        partition_by=a.item_id, order_by=order).label("n")).where(
        *where, a.item_id.in_(chosen)).subquery()
    page = select(*(numbered.c[column.name] for column in t.activity.columns)).where(or_(*(
        and_(numbered.c.item_id == item_id, numbered.c.n > low, numbered.c.n <= high)
        for item_id, low, high in wanted if high > low)))
    listed = sorted(conn.execute(page).all(),
                    key=lambda row: (place[row.item_id], *_row_order(row, recorded_from)))
    return listed, events, len(items)


def _in_order(conn: Connection, where: list[Any], key: Any, when: Any,
              run: list[tuple[Any, str, int]]) -> list[tuple[Any, str, int]]:
    """The items whose first rows share the date `when`, in the order of those rows (by
    their end, then position). A position is one row's: no two items tie on it."""
    if len(run) == 1:
        return run
    firsts: dict[str, tuple[date, int]] = {}
    for item_id, ends, position in conn.execute(
            select(a.item_id, a.occurred_end, a.position)
            .where(*where, key == when, a.item_id.in_([item_id for _, item_id, _ in run]))):
        mark = (ends, position)
        if item_id not in firsts or mark < firsts[item_id]:
            firsts[item_id] = mark
    return sorted(run, key=lambda item: firsts[item[1]])


def _row_order(row: Any, recorded_from: datetime | None) -> tuple[Any, ...]:
    if recorded_from is not None:
        return (row.position,)
    return (row.occurred_start or row.occurred_end, row.occurred_end, row.position)

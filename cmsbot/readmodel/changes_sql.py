"""The change questions' rows ordered, counted and cut in SQL: the fast path of
`cmsbot.readmodel.changes.changed_by_rows`, behind the same interface.

The plain path reads every row a question lists (4,500 for "what changed since 1 March
2023" at a million events) to show 20. Here the database numbers the rows in date order
(`row_number()`), gives each the number of its item's first row (`min() over (partition
by item)`), and returns one page in that order, with the counts; only the page's rows
reach Python. A "by" date sorts by its end and has no start (`activity.occurred_start`
is NULL), which is how `after` and `PartialDate.sort_key` tell it. Measured in
docs/performance.md; `tests/integration/test_changes_pages.py` holds every page equal to
the plain path's slice on both stores.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from cmsbot.readmodel.changes import Changed
from projections.changed_rows import changed_page


def changed(conn: Connection, wanted: Changed, first: int = 0,
            count: int | None = None) -> tuple[list[Any], int, int]:
    """What `changed_by_rows` answers, read a page at a time."""
    rows, events, items = changed_page(
        conn, since=wanted.since, recorded_from=wanted.recorded_from if wanted.recorded
        else None, last=wanted.last, known_at=wanted.known_at,
        item_ids=list(wanted.item_ids) if wanted.item_ids is not None else None,
        first=first, count=count)
    return list(rows), events, items

"""Which item events a change question lists, in the order it lists them: the plain path.

"What changed since D" lists the events whose business date may fall on or after D (a
fact stated as so "by" D is what stood then, not a change), up to the question's last day;
"what was recorded since D" those recorded since, whenever they happened. Either is
grouped by item, the items in the order of their first event listed, each item's events
in date order (the log's order where dates tie), or in log order for recorded time.

`changed_by_rows` reads every such row of the activity view and orders them here; the
fast path (`cmsbot.readmodel.changes_sql.changed`) has SQL order, count and cut them, and
`tests/integration/test_changes_pages.py` holds every page of it equal to a slice of this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection

from domain.dates import PartialDate
from projections import queries as q

LEFT_OUT = ("ItemRegistered",)  # an item's registration is not a change of it


@dataclass(frozen=True)
class Changed:
    """The changes a question asks for: since `since` (a business day, or with `recorded`
    the recorded time from its start, UTC), up to `last` (business dates, None: no end),
    as known at `known_at` (None: now), of these items (None: every item)."""

    since: date
    last: date | None = None
    recorded: bool = False
    known_at: datetime | None = None
    item_ids: tuple[str, ...] | None = None

    @property
    def recorded_from(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=UTC)


def after(when: PartialDate, since: date) -> bool:
    """Whether an event may have happened on or after `since`: a fact stated as so "by"
    that day (a report's own date) is what stood then, not a change since."""
    return when.end >= since and not (when.is_by and when.end <= since)


def changed_by_rows(conn: Connection, wanted: Changed, first: int = 0,
                    count: int | None = None) -> tuple[list[Any], int, int]:
    """Rows `first`… (at most `count`; None: all) of the activity view's rows `wanted`, in
    the order listed; how many rows there are in all, and of how many items."""
    rows: Sequence[Any]
    if wanted.recorded:
        rows = q.activity_recorded_from(conn, wanted.recorded_from,
                                        recorded_by=wanted.known_at, occurred_to=wanted.last)
    else:
        rows = [r for r in q.activity_since(conn, occurred_from=wanted.since,
                                            occurred_to=wanted.last,
                                            recorded_by=wanted.known_at)
                if after(PartialDate.from_dict(r.occurred), wanted.since)]
    kept = set(wanted.item_ids) if wanted.item_ids is not None else None
    rows = [r for r in rows if r.event_type not in LEFT_OUT
            and (kept is None or r.item_id in kept)]
    if not wanted.recorded:  # by business date; the log's order where dates tie
        rows = sorted(rows, key=lambda r: _date_order(PartialDate.from_dict(r.occurred),
                                                      r.position))
    order = {item: n for n, item in enumerate(dict.fromkeys(r.item_id for r in rows))}
    rows = sorted(rows, key=lambda r: order[r.item_id])  # grouped by item, stable within
    shown = rows[first:] if count is None else rows[first:first + count]
    return shown, len(rows), len(order)


def _date_order(when: PartialDate, position: int) -> tuple[date, date, int]:
    return when.sort_key, when.end, position

"""The overdue list's page from the views' rows: the fast path of
`cmsbot.readmodel.stale.stale_page`, with the same answer.

For the current views, an entry of the list is known by its sort key (`stale.stale_key`),
read from lean rows rather than the items' states, in three parts:

- the entries late by their own date: the calendar's rows not held that ended before the
  snapshot's day, the first of them in order and their count, in SQL;
- the steps that wait on a meeting ("endorsement at StC44", `domain.overdue.awaited_meeting`)
  whose own date has not passed but whose meeting was held and is over: the calendar's rows
  so labelled, whose few distinct meetings are resolved once (`Snapshot.held_meetings`);
- the meetings that slipped: the board's rows whose `slip_start` is set (the projector lists
  a slip under a date that does not depend on the day, `projections.views.board`), the
  first of them in order and their count.

The first `first + count` keys of each part hold the page's; they are merged, sliced, and
only the page's items' states are read, to build its entries by the domain's own rules
(`late_entries`, `slip`). At a past time (as at a date, as known at a time, or both),
`stale_asat` reads the agenda view's rows the same way.
`tests/integration/test_stale_rows.py` holds every page equal to the plain path's.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, func, literal_column, or_, select

from cmsbot.readmodel import stale as plain
from cmsbot.readmodel import stale_asat
from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.readmodel.stale import Stale, StaleKey, held_for
from cmsbot.readmodel.stale_sql import filters, in_code_point_order, likely
from domain.handlers.shared import AWAITING_PREFIXES
from domain.overdue import awaited_meeting, has_passed, meeting_key
from projections import queries as q
from projections import tables as t


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """Entries `first` to `first + count` (to the end when `count` is None) of the overdue
    list of the dated items (of `item_ids` when given) of `kinds` (all when empty), and how
    many there are; as `stale.stale_page` answers, reading the states of the page's items
    alone (at a past time, by `stale_asat`)."""
    if snap.historical:
        return stale_asat.stale_page(snap, kinds=kinds, item_ids=item_ids, first=first,
                                     count=count)
    shown = None if count is None else first + count
    late, late_total = _late_keys(snap, kinds, item_ids, shown)
    steps = _settled_step_keys(snap, kinds, item_ids)
    slips, slips_total = _slip_keys(snap, kinds, item_ids, shown)
    # The first `shown` of each part hold the first `shown` of the whole list.
    keys = sorted([*late, *steps, *slips])
    page = keys[first:] if count is None else keys[first:first + count]
    return _entries(snap, page), late_total + len(steps) + slips_total


def _late_keys(snap: Snapshot, kinds: frozenset[str], item_ids: list[str] | None,
               shown: int | None) -> tuple[list[StaleKey], int]:
    """The keys of the first `shown` (all when None) of the entries late by their own date
    (the calendar's rows not held that ended before the day), in order, and how many there
    are."""
    c, b = t.calendar.c, t.board.c
    conditions = [c.held == false(), likely(snap.conn, c.end < snap.reference),
                  *filters(c.kind, c.item_id, kinds, item_ids)]
    text = in_code_point_order(snap.conn)
    rows = snap.conn.execute(
        select(c.start, c.end, b.title, c.item_id, c.label)
        .join(t.board, b.item_id == c.item_id).where(*conditions)
        .order_by(c.start, c.end, text(b.title), text(c.item_id), text(c.label))
        .limit(None if shown is None else literal_column(str(int(shown))))).all()
    keys = [(row.start, row.end, row.title, row.item_id, 0, row.label) for row in rows]
    if shown is None or len(keys) < shown:
        return keys, len(keys)
    total = snap.conn.execute(select(func.count()).select_from(t.calendar)
                              .where(*conditions)).scalar_one()
    return keys, int(total)


def _settled_step_keys(snap: Snapshot, kinds: frozenset[str],
                       item_ids: list[str] | None) -> list[StaleKey]:
    """The keys of the steps whose own date has not passed but whose meeting was held and
    is over ("endorsement at StC44" once StC44 is held)."""
    c, b = t.calendar.c, t.board.c
    day = snap.reference
    waiting = or_(*(c.label.startswith(prefix, autoescape=True)
                    for prefix in AWAITING_PREFIXES))
    rows = snap.conn.execute(
        select(c.start, c.end, b.title, c.item_id, c.label)
        .join(t.board, b.item_id == c.item_id)
        .where(c.held == false(), c.end >= day, waiting,
               *filters(c.kind, c.item_id, kinds, item_ids))).all()
    awaited = {row.label: name for row in rows
               if (name := awaited_meeting(row.label)) is not None}
    held = snap.held_meetings(awaited.values()) if awaited else {}
    keys = []
    for row in rows:
        met = held.get(meeting_key(awaited[row.label])) if row.label in awaited else None
        if met is not None and has_passed(met, day):
            keys.append((row.start, row.end, row.title, row.item_id, 0, row.label))
    return keys


def _slip_keys(snap: Snapshot, kinds: frozenset[str], item_ids: list[str] | None,
               shown: int | None) -> tuple[list[StaleKey], int]:
    """The keys of the first `shown` (all when None) of the meetings that slipped, from
    the board's columns, in order, and how many there are."""
    b = t.board.c
    conditions = [b.slip_start.is_not(None), *filters(b.kind, b.item_id, kinds, item_ids)]
    text = in_code_point_order(snap.conn)
    rows = snap.conn.execute(
        select(b.slip_start, b.slip_end, b.title, b.item_id).where(*conditions)
        .order_by(b.slip_start, b.slip_end, text(b.title), text(b.item_id))
        .limit(None if shown is None else literal_column(str(int(shown))))).all()
    keys = [(row.slip_start, row.slip_end, row.title, row.item_id, 1, "") for row in rows]
    if shown is None or len(keys) < shown:
        return keys, len(keys)
    total = snap.conn.execute(select(func.count()).select_from(t.board)
                              .where(*conditions)).scalar_one()
    return keys, int(total)


def _entries(snap: Snapshot, page: Sequence[StaleKey]) -> list[Stale]:
    """The page's entries, built from its items' states by the domain's rules. A key whose
    item changed since its row was read (a write in between) is left out."""
    ids = list(dict.fromkeys(key[3] for key in page))
    found = q.states(snap.conn, ids)
    held = held_for(snap, [found[i] for i in ids if i in found])
    return plain.entries_of(page, found, snap.reference, held)

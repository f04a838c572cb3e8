"""The overdue list as at a past date (known now) from the agenda view's rows: the fast path
of `cmsbot.readmodel.stale.stale_page` for such a snapshot, with the same answer.

The plain path folds every item that had a date by then (1.1 s as at 2013 to 7.3 s as at
2020 at a million events). The agenda view (`projections.views.agenda`) holds what each
item had dated on every business day, and a meeting's own entry there carries where it is
listed as slipped, so an entry of the list is known by its sort key (`stale.stale_key`)
from rows on the agenda as at the day, in three parts, as `stale_rows` reads them now:

- the entries late by their own date: rows not held whose date ended before the day;
- the steps that wait on a meeting ("endorsement at StC44") whose own date has not passed
  but whose meeting was held by then and is over: the meeting's held row as at the day;
- the meetings that had slipped: rows whose `slip_start` is set.

Each part's rows on the day are read level by level (`projections.agenda_days.on_day`)
from a partial index of the current rows that holds what the part filters, sorts and
counts on: `ix_agenda_on_day` for the late entries and the steps, `ix_agenda_slips` for
the slips. The first `first + count` of a part by date come from a bounded sort of its
dates alone; the rows tied with the last of them on its dates are read too, and only
those few rows' titles, so that the key's tie-break (title, item, label) is Python's, on
both stores, and no sort joins the board. The title in a key is the board's: an item's
title changes only by a correction of its registration, which every as-at reading
applies. The first `first + count` keys of each part hold the page's; only the page's
items are read as at the day (`cmsbot.readmodel.agenda.states`), to build its entries by
the domain's rules. As known at a past time, titles then are not in the rows:
`stale_rows` takes the plain path.

Measured at a million events (SQLite, the page alone, warm, as at 1 January 2020: 20,261
late entries, 2,401 slips): 1.3 s with one query a part sorting its rows joined with the
board, to 25-40 ms, of which 8-12 ms is SQL and most of the rest folding the page's items.
`tests/integration/test_stale_asat.py` holds every page equal to the plain path's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Subquery,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)

from cmsbot.readmodel import agenda
from cmsbot.readmodel import stale as plain
from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.readmodel.stale import Stale, StaleKey
from domain.dates import PartialDate
from domain.handlers.shared import AWAITING_PREFIXES
from domain.overdue import (
    awaited_meeting,
    has_passed,
    meeting_key,
)
from projections import agenda_days
from projections import tables as t


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """What `stale.stale_page` answers for a snapshot as at a date, known now."""
    if snap.as_at is None:
        raise ValueError("the overdue list's fast path as at a date needs a date")
    shown = None if count is None else first + count
    values: dict[str, Any] = {**agenda_days.day_values(snap.as_at),
                              "reference": snap.reference, "kinds": sorted(kinds),
                              "item_ids": item_ids}
    shape = (bool(kinds), item_ids is not None)
    late, late_total = _keys(snap, _late(*shape), values, shown, slips=False)
    steps = _settled_step_keys(snap, _steps(*shape), values)
    slips, slips_total = _keys(snap, _slipped(*shape), values, shown, slips=True)
    # The first `shown` of each part hold the first `shown` of the whole list.
    keys = sorted([*late, *steps, *slips])
    page = keys[first:] if count is None else keys[first:first + count]
    return _entries(snap, page), late_total + len(steps) + slips_total


def _filters(kinds: bool, item_ids: bool) -> list[ColumnElement[bool]]:
    a = t.agenda.c
    return [*([a.kind.in_(bindparam("kinds", expanding=True))] if kinds else []),
            *([a.item_id.in_(bindparam("item_ids", expanding=True))] if item_ids else [])]


@lru_cache(maxsize=8)
def _late(kinds: bool, item_ids: bool) -> Subquery:
    """The entries late by their own date: the rows on the day not held that ended before
    it, from `ix_agenda_on_day`."""
    a = t.agenda.c
    return agenda_days.on_day(
        [a.start, a.end, a.item_id, a.label],
        [[a.held.is_(False), a.end < bindparam("reference", type_=Date),
          *_filters(kinds, item_ids)]])


@lru_cache(maxsize=8)
def _steps(kinds: bool, item_ids: bool) -> Subquery:
    """The steps on the day that wait on a meeting and whose own date has not passed, from
    `ix_agenda_on_day`."""
    a = t.agenda.c
    waiting = or_(*(a.label.startswith(prefix, autoescape=True)
                    for prefix in AWAITING_PREFIXES))
    return agenda_days.on_day(
        [a.start, a.end, a.item_id, a.label],
        [[a.held.is_(False), a.end >= bindparam("reference", type_=Date), waiting,
          *_filters(kinds, item_ids)]])


@lru_cache(maxsize=8)
def _slipped(kinds: bool, item_ids: bool) -> Subquery:
    """The meetings that had slipped: the rows on the day whose `slip_start` is set, from
    `ix_agenda_slips`."""
    a = t.agenda.c
    return agenda_days.on_day(
        [a.slip_start.label("start"), a.slip_end.label("end"), a.item_id,
         literal("").label("label")],
        [[a.slip_start.is_not(None), *_filters(kinds, item_ids)]])


def _keys(snap: Snapshot, rows: Subquery, values: dict[str, Any], shown: int | None, *,
          slips: bool) -> tuple[list[StaleKey], int]:
    """The keys of the first `shown` (all when None) of these rows (as late entries, or
    as slips), in order, and how many there are. The index gives the rows in no order:
    the first `shown` by date come from a bounded sort of the dates alone; the rows tied
    with the last of them on its date, then the titles of the few rows so found, break
    the ties as the key does."""
    conn = snap.conn
    first, tied, counted = _statements(rows, shown)
    found = conn.execute(first, values).all()
    total = len(found)
    if shown is not None and total == shown:
        last = found[-1]
        found = [row for row in found if (row.start, row.end) != (last.start, last.end)]
        found.extend(conn.execute(
            tied, {**values, "last_start": last.start, "last_end": last.end}).all())
        total = int(conn.execute(counted, values).scalar_one())
    b = t.board.c
    titles = dict(conn.execute(select(b.item_id, b.title).where(
        b.item_id.in_(sorted({row.item_id for row in found})))).tuples().all())
    keys = sorted((row.start, row.end, titles[row.item_id], row.item_id,
                   *((1, "") if slips else (0, row.label)))
                  for row in found if row.item_id in titles)
    return (keys if shown is None else keys[:shown]), total


@lru_cache(maxsize=64)
def _statements(rows: Subquery, shown: int | None) -> tuple[Select[Any], ...]:
    """`_keys`'s statements over these rows: the first `shown` by date, the rows tied on a
    date, and their count. Made once, so that SQLAlchemy keys each (a walk of its fourteen
    branches) once, not on every question."""
    r = rows.c
    return (select(r.start, r.end, r.item_id, r.label).order_by(r.start, r.end).limit(
                None if shown is None else literal_column(str(int(shown)))),
            select(r.start, r.end, r.item_id, r.label).where(
                r.start == bindparam("last_start", type_=Date),
                r.end == bindparam("last_end", type_=Date)),
            select(func.count()).select_from(rows))


@lru_cache(maxsize=8)
def _every(rows: Subquery) -> Select[Any]:
    """Every one of these rows, by a statement made once (as `_statements`' are)."""
    r = rows.c
    return select(r.start, r.end, r.item_id, r.label)


def _settled_step_keys(snap: Snapshot, rows: Subquery,
                       values: dict[str, Any]) -> list[StaleKey]:
    """The keys of the steps on the agenda as at the day whose own date has not passed
    but whose meeting was held by then and is over."""
    day = snap.reference
    found = snap.conn.execute(_every(rows), values).all()
    awaited = {row.label: name for row in found
               if (name := awaited_meeting(row.label)) is not None}
    held = held_meetings(snap, awaited.values())
    settled = [row for row in found if (met := held.get(meeting_key(awaited[row.label]))
                                        if row.label in awaited else None) is not None
               and has_passed(met, day)]
    b = t.board.c
    titles = dict(snap.conn.execute(select(b.item_id, b.title).where(
        b.item_id.in_(sorted({row.item_id for row in settled})))).tuples().all())
    return [(row.start, row.end, titles[row.item_id], row.item_id, 0, row.label)
            for row in settled if row.item_id in titles]


def _on_day(snap: Snapshot) -> list[ColumnElement[bool]]:
    """The agenda's rows as at the snapshot's date, as known now."""
    a, day = t.agenda.c, snap.as_at
    return [a.recorded_to.is_(None), a.from_day <= day, a.to_day > day]


def held_meetings(snap: Snapshot, names: Iterable[str]) -> dict[str, PartialDate]:
    """What `snap.held_meetings(names)` answers, from the meetings' held rows on the agenda
    as at the day (a meeting is held as at a day when its held day is dated by then)
    rather than their folded states."""
    asked = list(dict.fromkeys(map(meeting_key, names)))
    if not asked:
        return {}
    named: dict[str, str] = {}
    for name in asked:
        exact = [s.item.item_id for s in snap.index.search(name, kinds={"meeting"})
                 if s.exact]
        if len(exact) == 1:
            named[name] = exact[0]
    a = t.agenda.c
    rows = snap.conn.execute(select(a.item_id, a.when).where(
        *_on_day(snap), a.held == true(), a.item_id.in_(sorted(set(named.values()))))).all()
    held = {row.item_id: PartialDate.from_dict(row.when) for row in rows}
    return {name: held[item_id] for name, item_id in named.items() if item_id in held}


def _entries(snap: Snapshot, page: Sequence[StaleKey]) -> list[Stale]:
    """The page's entries, built from its items' states as at the day by the domain's
    rules."""
    ids = list(dict.fromkeys(key[3] for key in page))
    found = {s.id: s for s in agenda.states(snap, ids)}
    names = [name for s in found.values() for label, _ in s.agenda
             if (name := awaited_meeting(label)) is not None]
    return plain.entries_of(page, found, snap.reference, held_meetings(snap, names))

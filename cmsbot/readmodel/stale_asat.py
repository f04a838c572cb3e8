"""The overdue list at a past time (as at a date, as known at a time, or both) from the
agenda view's rows: the fast path of `cmsbot.readmodel.stale.stale_page` for such a
snapshot, with the same answer.

The plain path folds every item that had a date by then (1.1 s as at 2013 to 7.3 s as at
2020 at a million events; 1.4 s as known at a time at 10,000 items). The agenda view
(`projections.views.agenda`) holds what each item had dated on every business day, as
known at every recorded time, and a meeting's own entry there carries where it is listed
as slipped, so an entry of the list is known by its sort key (`stale.stale_key`) from the
agenda's rows at the snapshot's times, in three parts, as `stale_rows` reads them now:

- the entries late by their own date: rows not held whose date ended before the day;
- the steps that wait on a meeting ("endorsement at StC44") whose own date has not passed
  but whose meeting was held by then and is over: the meeting's held row then;
- the meetings that had slipped: rows whose `slip_start` is set.

As known now, each part's rows on the day are read level by level
(`projections.agenda_days.on_day`) from a partial index of the current rows that holds
what the part filters, sorts and counts on: `ix_agenda_on_day` for the late entries and
the steps, `ix_agenda_slips` for the slips. As known at a past time, they are the rows
recorded by then and not yet replaced, on the day (or after every date, for a snapshot
of no day). One statement a part reads its first `first + count + PAST_SHOWN` rows by
their dates alone, from a bounded sort, each with how many rows there are; of those, the
first `first + count` and the rows tied with the last of them on its dates are kept (a
second statement reads those ties only when they run past what was read). Only those few
rows' items' titles are read, so that the key's tie-break (title, item, label) is
Python's, on both stores, and no sort joins the board. The title is the board's: an
item's title changes only by a correction of its registration, which every as-at reading
applies. As known at a past time, an item with a correction or retraction recorded since
then is read as it was known then (`cmsbot.readmodel.agenda.states`) for its title, and
kept for the entries. The first `first + count` keys of each part hold the page's; only
the page's items are read at the snapshot's times, to build its entries by the domain's
rules.

Measured at a million events (SQLite, the page alone, warm, as at 1 January 2020: 20,261
late entries, 2,401 slips): 1.3 s with one query a part sorting its rows joined with the
board, to 25-40 ms, of which 8-12 ms is SQL and most of the rest folding the page's items.
`tests/integration/test_stale_asat.py` holds every page equal to the plain path's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
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
from domain.state import ItemState
from projections import agenda_days
from projections import queries as q
from projections import tables as t


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """What `stale.stale_page` answers for a snapshot of a past time: as at a date, as
    known at a past time, or both."""
    if not snap.historical:
        raise ValueError("the overdue list's fast path for a past time needs a past time")
    shown = None if count is None else first + count
    known_at = snap.known_at.astimezone(UTC) if snap.known_at is not None else None
    values: dict[str, Any] = {**agenda_days.day_values(snap.as_at, known_at),
                              "reference": snap.reference,
                              "kinds": sorted(kinds), "item_ids": item_ids}
    shape = (snap.known_at is not None, bool(kinds), item_ids is not None)
    then: dict[str, ItemState] = {}  # states read as known at a past time, by item
    late, late_total = _keys(snap, _late(*shape), values, shown, then, slips=False)
    steps = _settled_step_keys(snap, _steps(*shape), values, then)
    slips, slips_total = _keys(snap, _slipped(*shape), values, shown, then, slips=True)
    # The first `shown` of each part hold the first `shown` of the whole list.
    keys = sorted([*late, *steps, *slips])
    page = keys[first:] if count is None else keys[first:first + count]
    return _entries(snap, page, then), late_total + len(steps) + slips_total


def _filters(kinds: bool, item_ids: bool) -> list[ColumnElement[bool]]:
    a = t.agenda.c
    return [*([a.kind.in_(bindparam("kinds", expanding=True))] if kinds else []),
            *([a.item_id.in_(bindparam("item_ids", expanding=True))] if item_ids else [])]


@lru_cache(maxsize=16)
def _late(known: bool, kinds: bool, item_ids: bool) -> Subquery:
    """The entries late by their own date: the rows not held that ended before the day
    (known now, from `ix_agenda_on_day`)."""
    a = t.agenda.c
    return agenda_days.on_day(
        [a.start, a.end, a.item_id, a.label],
        [[a.held.is_(False), a.end < bindparam("reference", type_=Date),
          *_filters(kinds, item_ids)]], known=known)


@lru_cache(maxsize=16)
def _steps(known: bool, kinds: bool, item_ids: bool) -> Subquery:
    """The steps that wait on a meeting and whose own date has not passed (known now,
    from `ix_agenda_on_day`)."""
    a = t.agenda.c
    waiting = or_(*(a.label.startswith(prefix, autoescape=True)
                    for prefix in AWAITING_PREFIXES))
    return agenda_days.on_day(
        [a.start, a.end, a.item_id, a.label],
        [[a.held.is_(False), a.end >= bindparam("reference", type_=Date), waiting,
          *_filters(kinds, item_ids)]], known=known)


@lru_cache(maxsize=16)
def _slipped(known: bool, kinds: bool, item_ids: bool) -> Subquery:
    """The meetings that had slipped: the rows whose `slip_start` is set (known now, from
    `ix_agenda_slips`)."""
    a = t.agenda.c
    return agenda_days.on_day(
        [a.slip_start.label("start"), a.slip_end.label("end"), a.item_id,
         literal("").label("label")],
        [[a.slip_start.is_not(None), *_filters(kinds, item_ids)]], known=known)


def _keys(snap: Snapshot, rows: Subquery, values: dict[str, Any], shown: int | None,
          then: dict[str, ItemState], *, slips: bool) -> tuple[list[StaleKey], int]:
    """The keys of the first `shown` (all when None) of these rows (as late entries, or
    as slips), in order, and how many there are. The index gives the rows in no order:
    one statement reads the first `shown + PAST_SHOWN` by date, from a bounded sort of
    the dates alone, each with how many rows there are. Of those, the first `shown` and
    the rows tied with the last of them on its dates are kept; when the ties may run past
    what was read, they are read by a second statement. The titles of the few rows so
    found then break the ties as the key does."""
    first, tied = _statements(rows, None if shown is None else shown + PAST_SHOWN)
    found = snap.conn.execute(first, values).all()
    total = int(found[0].total) if found else 0
    if shown is not None and total > shown:
        last = (found[shown - 1].start, found[shown - 1].end)
        if len(found) == shown + PAST_SHOWN and (found[-1].start, found[-1].end) == last:
            found = [row for row in found if (row.start, row.end) < last]
            found.extend(snap.conn.execute(
                tied, {**values, "last_start": last[0], "last_end": last[1]}).all())
        else:
            found = [row for row in found if (row.start, row.end) <= last]
    titles = _titles(snap, {row.item_id for row in found}, then)
    keys = sorted((row.start, row.end, titles[row.item_id], row.item_id,
                   *((1, "") if slips else (0, row.label)))
                  for row in found if row.item_id in titles)
    return (keys if shown is None else keys[:shown]), total


def _titles(snap: Snapshot, item_ids: set[str], then: dict[str, ItemState],
            ) -> dict[str, str]:
    """The items' titles at the snapshot's times: the board's, as an item's title changes
    only by a correction of its registration, which every as-at reading applies. As known
    at a past time, an item with a correction or retraction recorded since then may have
    had another title: its state then is read, and kept in `then` for the entries."""
    b = t.board.c
    titles = dict(snap.conn.execute(select(b.item_id, b.title).where(
        b.item_id.in_(sorted(item_ids)))).tuples().all())
    if snap.known_at is None or not item_ids:
        return titles
    revised = q.item_ids_recorded_after(snap.conn, sorted(item_ids), revisions=True,
                                        recorded_after=snap.known_at.astimezone(UTC))
    then.update((s.id, s) for s in agenda.states(snap, sorted(revised - then.keys())))
    for item_id in revised:
        if item_id in then:
            titles[item_id] = then[item_id].title
        else:
            titles.pop(item_id, None)
    return titles


# How many rows past the first `shown` `_keys` reads, so that it finds the rows tied with
# the last shown without a second statement, unless they run further.
PAST_SHOWN = 20


@lru_cache(maxsize=64)
def _statements(rows: Subquery, read: int | None) -> tuple[Select[Any], Select[Any]]:
    """`_keys`'s statements over these rows: the first `read` (all when None) by date,
    each with how many rows there are, and the rows tied on a date. Made once, so that
    SQLAlchemy keys each (a walk of its fourteen branches) once, not on every
    question."""
    r = rows.c
    return (select(r.start, r.end, r.item_id, r.label, func.count().over().label("total"))
            .order_by(r.start, r.end)
            .limit(None if read is None else literal_column(str(int(read)))),
            select(r.start, r.end, r.item_id, r.label).where(
                r.start == bindparam("last_start", type_=Date),
                r.end == bindparam("last_end", type_=Date)))


@lru_cache(maxsize=8)
def _every(rows: Subquery) -> Select[Any]:
    """Every one of these rows, by a statement made once (as `_statements`' are)."""
    r = rows.c
    return select(r.start, r.end, r.item_id, r.label)


def _settled_step_keys(snap: Snapshot, rows: Subquery, values: dict[str, Any],
                       then: dict[str, ItemState]) -> list[StaleKey]:
    """The keys of the steps on the agenda then whose own date has not passed but whose
    meeting was held by then and is over."""
    day = snap.reference
    found = snap.conn.execute(_every(rows), values).all()
    awaited = {row.label: name for row in found
               if (name := awaited_meeting(row.label)) is not None}
    held = held_meetings(snap, awaited.values())
    settled = [row for row in found if (met := held.get(meeting_key(awaited[row.label]))
                                        if row.label in awaited else None) is not None
               and has_passed(met, day)]
    titles = _titles(snap, {row.item_id for row in settled}, then)
    return [(row.start, row.end, titles[row.item_id], row.item_id, 0, row.label)
            for row in settled if row.item_id in titles]


def held_meetings(snap: Snapshot, names: Iterable[str]) -> dict[str, PartialDate]:
    """What `snap.held_meetings(names)` answers, from the meetings' held rows on the agenda
    at the snapshot's times (a meeting is held as at a day when its held day is dated by
    then) rather than their folded states."""
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
    known_at = snap.known_at.astimezone(UTC) if snap.known_at is not None else None
    rows = snap.conn.execute(select(a.item_id, a.when).where(
        *q.agenda_on(snap.as_at, known_at), a.held == true(),
        a.item_id.in_(sorted(set(named.values()))))).all()
    held = {row.item_id: PartialDate.from_dict(row.when) for row in rows}
    return {name: held[item_id] for name, item_id in named.items() if item_id in held}


def _entries(snap: Snapshot, page: Sequence[StaleKey],
             then: dict[str, ItemState]) -> list[Stale]:
    """The page's entries, built from its items' states at the snapshot's times by the
    domain's rules (those in `then` already read)."""
    ids = list(dict.fromkeys(key[3] for key in page))
    missing = [i for i in ids if i not in then]
    found = {**{i: then[i] for i in ids if i in then},
             **{s.id: s for s in agenda.states(snap, missing)}}
    names = [name for s in found.values() for label, _ in s.agenda
             if (name := awaited_meeting(label)) is not None]
    return plain.entries_of(page, found, snap.reference, held_meetings(snap, names))

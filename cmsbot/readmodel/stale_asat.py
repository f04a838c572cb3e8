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

The title in a key is the board's: an item's title changes only by a correction of its
registration, which every as-at reading applies. The first `first + count` keys of each
part hold the page's; only the page's items are read as at the day
(`cmsbot.readmodel.agenda.states`), to build its entries by the domain's rules. As known
at a past time, titles then are not in the rows: `stale_rows` takes the plain path.
`tests/integration/test_stale_rows.py` holds every page equal to the plain path's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, false, func, literal_column, or_, select, true

from cmsbot.readmodel import agenda
from cmsbot.readmodel import stale as plain
from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.readmodel.stale import Stale, StaleKey
from cmsbot.readmodel.stale_sql import filters, in_code_point_order, likely
from domain.dates import PartialDate
from domain.handlers.shared import AWAITING_PREFIXES
from domain.overdue import (
    Late,
    awaited_meeting,
    has_passed,
    late_entries,
    may_slip,
    meeting_key,
    slip,
)
from domain.state import ItemState
from projections import tables as t


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """What `stale.stale_page` answers for a snapshot as at a date, known now."""
    shown = None if count is None else first + count
    late, late_total = _keys(snap, _late(snap, kinds, item_ids), shown, slips=False)
    steps = _settled_step_keys(snap, kinds, item_ids)
    slips, slips_total = _keys(snap, _slipped(snap, kinds, item_ids), shown, slips=True)
    # The first `shown` of each part hold the first `shown` of the whole list.
    keys = sorted([*late, *steps, *slips])
    page = keys[first:] if count is None else keys[first:first + count]
    return _entries(snap, page), late_total + len(steps) + slips_total


def _on_day(snap: Snapshot) -> list[ColumnElement[bool]]:
    """The agenda's rows as at the snapshot's date, as known now."""
    a, day = t.agenda.c, snap.as_at
    return [a.recorded_to.is_(None), a.from_day <= day, a.to_day > day]


def _late(snap: Snapshot, kinds: frozenset[str],
          item_ids: list[str] | None) -> list[ColumnElement[bool]]:
    a = t.agenda.c
    return [*_on_day(snap), a.held == false(), likely(snap.conn, a.end < snap.reference),
            *filters(a.kind, a.item_id, kinds, item_ids)]


def _slipped(snap: Snapshot, kinds: frozenset[str],
             item_ids: list[str] | None) -> list[ColumnElement[bool]]:
    a = t.agenda.c
    return [a.slip_start.is_not(None), *_on_day(snap),
            *filters(a.kind, a.item_id, kinds, item_ids)]


def _keys(snap: Snapshot, conditions: list[ColumnElement[bool]], shown: int | None, *,
          slips: bool) -> tuple[list[StaleKey], int]:
    """The keys of the first `shown` (all when None) of the rows `conditions` select (as
    late entries, or as slips), in order, and how many there are."""
    a, b = t.agenda.c, t.board.c
    text = in_code_point_order(snap.conn)
    start, end = (a.slip_start, a.slip_end) if slips else (a.start, a.end)
    rows = snap.conn.execute(
        select(start.label("start"), end.label("end"), b.title, a.item_id, a.label)
        .join(t.board, b.item_id == a.item_id).where(*conditions)
        .order_by(start, end, text(b.title), text(a.item_id), text(a.label))
        .limit(None if shown is None else literal_column(str(int(shown))))).all()
    keys = [(row.start, row.end, row.title, row.item_id, *((1, "") if slips else
                                                            (0, row.label))) for row in rows]
    if shown is None or len(keys) < shown:
        return keys, len(keys)
    total = snap.conn.execute(select(func.count()).select_from(t.agenda)
                              .where(*conditions)).scalar_one()
    return keys, int(total)


def _settled_step_keys(snap: Snapshot, kinds: frozenset[str],
                       item_ids: list[str] | None) -> list[StaleKey]:
    """The keys of the steps on the agenda as at the day whose own date has not passed
    but whose meeting was held by then and is over."""
    a, b = t.agenda.c, t.board.c
    day = snap.reference
    waiting = or_(*(a.label.startswith(prefix, autoescape=True)
                    for prefix in AWAITING_PREFIXES))
    rows = snap.conn.execute(
        select(a.start, a.end, b.title, a.item_id, a.label)
        .join(t.board, b.item_id == a.item_id)
        .where(*_on_day(snap), a.held == false(), a.end >= day, waiting,
               *filters(a.kind, a.item_id, kinds, item_ids))).all()
    awaited = {row.label: name for row in rows
               if (name := awaited_meeting(row.label)) is not None}
    held = held_meetings(snap, awaited.values())
    keys = []
    for row in rows:
        met = held.get(meeting_key(awaited[row.label])) if row.label in awaited else None
        if met is not None and has_passed(met, day):
            keys.append((row.start, row.end, row.title, row.item_id, 0, row.label))
    return keys


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
    held = held_meetings(snap, names)
    late: dict[str, dict[str, Late]] = {
        s.id: {entry.label: entry for entry in late_entries(s, snap.reference, held)}
        for s in found.values()}
    entries = []
    for key in page:
        state = found.get(key[3])
        entry = None if state is None else _entry(state, key, late[state.id])
        if entry is not None and plain.stale_order(entry) == key:
            entries.append(entry)
    return entries


def _entry(state: ItemState, key: StaleKey, late: dict[str, Late]) -> Stale | None:
    if key[4] == 0:
        found = late.get(key[5])
        return None if found is None else Stale(state, found.planned, late=found)
    slipped = slip(state, state.first_plan) if may_slip(state) else None
    if slipped is None:
        return None
    when: PartialDate = slipped.now or slipped.first
    return Stale(state, when, slip=slipped)

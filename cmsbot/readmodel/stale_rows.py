"""The overdue list's page from the views' rows: the fast path of
`cmsbot.readmodel.stale.stale_page`, with the same answer.

For the current views, every entry of the list is known by its sort key alone
(`stale.stale_key`), read from lean rows rather than the items' states:

- a late entry is a calendar row not held whose date ended before the snapshot's day, or
  a step that waits on a meeting ("endorsement at StC44", `domain.overdue.awaited_meeting`)
  whose meeting was held and is over (the few distinct meetings named are resolved once,
  by `Snapshot.held_meetings`);
- a slip is a board row whose `slip_start` is set: the projector lists a meeting that
  slipped under a date that does not depend on the day (`projections.views.board`).

The keys are sorted and counted, and only the page's items' states are read, to build its
entries with the domain's own rules (`late_entries`, `slip`). A snapshot at a past time
(as at a date, or as known at a time) folds events rather than reading the views: it takes
the plain path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from cmsbot.readmodel import stale as plain
from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.readmodel.stale import Stale, StaleKey, held_for
from domain.dates import PartialDate
from domain.handlers.shared import AWAITING_PREFIXES
from domain.overdue import Late, awaited_meeting, has_passed, late_entries, meeting_key, slip
from domain.state import ItemState
from projections import queries as q
from projections import tables as t


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """Entries `first` to `first + count` (to the end when `count` is None) of the overdue
    list of the dated items (of `item_ids` when given) of `kinds` (all when empty), and how
    many there are; as `stale.stale_page` answers, reading the states of the page's items
    alone. A snapshot at a past time takes the plain path."""
    if snap.historical:
        return plain.stale_page(snap, kinds=kinds, item_ids=item_ids, first=first,
                                count=count)
    keys = sorted([*_late_keys(snap, kinds, item_ids), *_slip_keys(snap, kinds, item_ids)])
    page = keys[first:] if count is None else keys[first:first + count]
    return _entries(snap, page), len(keys)


def _late_keys(snap: Snapshot, kinds: frozenset[str],
               item_ids: list[str] | None) -> list[StaleKey]:
    """The keys of the late entries: the calendar's rows not held that ended before the
    day, and those of steps whose meeting was held and is over."""
    c, b = t.calendar.c, t.board.c
    day = snap.reference
    waiting = or_(*(c.label.startswith(prefix, autoescape=True)
                    for prefix in AWAITING_PREFIXES))
    rows = snap.conn.execute(
        select(c.start, c.end, b.title, c.item_id, c.label)
        .join(t.board, b.item_id == c.item_id)
        .where(c.held == false(), or_(c.end < day, waiting),
               *_filters(c.kind, c.item_id, kinds, item_ids))).all()
    awaited = {row.label: name for row in rows if row.end >= day
               and (name := awaited_meeting(row.label)) is not None}
    held = snap.held_meetings(awaited.values()) if awaited else {}
    keys = []
    for row in rows:
        if row.end >= day:  # late only once its meeting was held and is over
            met = held.get(meeting_key(awaited[row.label])) if row.label in awaited else None
            if met is None or not has_passed(met, day):
                continue
        keys.append((row.start, row.end, row.title, row.item_id, 0, row.label))
    return keys


def _slip_keys(snap: Snapshot, kinds: frozenset[str],
               item_ids: list[str] | None) -> list[StaleKey]:
    """The keys of the meetings that slipped, from the board's columns."""
    b = t.board.c
    rows = snap.conn.execute(
        select(b.slip_start, b.slip_end, b.title, b.item_id)
        .where(b.slip_start.is_not(None), *_filters(b.kind, b.item_id, kinds, item_ids))
    ).all()
    return [(row.slip_start, row.slip_end, row.title, row.item_id, 1, "") for row in rows]


def _filters(kind: Any, item_id: Any, kinds: frozenset[str],
             item_ids: list[str] | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if kinds:
        found.append(kind.in_(sorted(kinds)))
    if item_ids is not None:
        found.append(item_id.in_(item_ids))
    return found


def _entries(snap: Snapshot, page: Sequence[StaleKey]) -> list[Stale]:
    """The page's entries, built from its items' states by the domain's rules. A key whose
    item changed since its row was read (a write in between) is left out."""
    ids = list(dict.fromkeys(key[3] for key in page))
    found = q.states(snap.conn, ids)
    states = [found[i] for i in ids if i in found]
    held = held_for(snap, states)
    late: dict[str, dict[str, Late]] = {
        s.id: {entry.label: entry for entry in late_entries(s, snap.reference, held)}
        for s in states}
    entries = []
    for key in page:
        state = found.get(key[3])
        if state is None:
            continue
        entry = _entry(state, key, late[state.id])
        if entry is not None and plain.stale_order(entry) == key:
            entries.append(entry)
    return entries


def _entry(state: ItemState, key: StaleKey, late: dict[str, Late]) -> Stale | None:
    if key[4] == 0:
        found = late.get(key[5])
        return None if found is None else Stale(state, found.planned, late=found)
    slipped = slip(state, state.first_plan)
    if slipped is None:
        return None
    when: PartialDate = slipped.now or slipped.first
    return Stale(state, when, slip=slipped)


"""Dated entries and past states without folding every item: the fast paths of the as-at
readings, each behind the plain path's interface.

- `dated(snap, wanted)` is `snapshot.dated_by_fold(snap, wanted)`: the entries of the
  calendar view (now) or of the agenda view (`projections.views.agenda`: each item's
  dates by business time, as known by recorded time) that `wanted` selects, filtered,
  sorted, counted and cut in SQL (a page: `offset` and `limit`); only the items of the
  entries returned are read whole
  (from the board now, folded for a past time). The plain path folds every item that ever
  had a date by then, and filters afterwards. Measured at the quick size (10,000 items,
  60,000 events): "what was coming up as at 1 January 2016" (docs/performance.md).
- `dated_item_ids(snap, wanted)` is the items of `dated_rows(snap, wanted)`'s entries,
  read without the entries.
- `states(snap, ids)` is `snap.states(ids)` (`state(snap, id)`: `snap.state(id)`): as at
  a date (and known now), an item whose every event was over by then stands as it does
  now, and is read from the board instead of being folded (`agenda_marks.last_end` says
  which); another is folded from its events up to the last one dated by then (the
  activity view says which), not from all of them, and from its latest checkpoint by then
  when it has one (`cmsbot.readmodel.checkpoints`). As known at a past time, an item with
  no event recorded since then stands as it does as known now, and is read so; only the
  others are folded from their events recorded by then.

`tests/integration/test_agenda.py` holds each equal to its plain path on both stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cmsbot.readmodel import checkpoints
from cmsbot.readmodel.snapshot import CalendarEntry, Dated, Snapshot
from domain.dates import PartialDate
from domain.state import ItemState
from projections import agenda_days
from projections import queries as q


@dataclass(frozen=True)
class DatedRow:
    """A dated entry without its item's state: what a reader that shows few of many
    entries reads first."""

    item_id: str
    label: str
    when: PartialDate
    held: bool


def dated_rows(snap: Snapshot, wanted: Dated) -> tuple[list[DatedRow], int]:
    """The entries `wanted`, as rows, and how many there are in all."""
    options = {**_filters(wanted), "limit": wanted.limit, "offset": wanted.offset}
    if snap.historical:
        known_at = snap.known_at.astimezone(UTC) if snap.known_at is not None else None
        rows, total = agenda_days.agenda_rows(snap.conn, as_at=snap.as_at,
                                              known_at=known_at, **options)
    else:
        rows, total = q.calendar_rows(snap.conn, **options)
    return [DatedRow(r.item_id, r.label, PartialDate.from_dict(r.when), r.held)
            for r in rows], total


def dated_item_ids(snap: Snapshot, wanted: Dated) -> list[str]:
    """The items of every entry `wanted` (which asks for no page), each once, in no order:
    what a reader that reads the items' states needs of their entries, without their rows.
    At a million events, the 3,900 items of the 25,000 entries late as at a day a year
    back take 0.02-0.03 s, and those entries' rows 0.3-0.5 s (SQLite)."""
    if wanted.limit is not None or wanted.offset:
        raise ValueError("the items of dated entries are read for every entry, not a page")
    options = _filters(wanted)
    if snap.historical:
        known_at = snap.known_at.astimezone(UTC) if snap.known_at is not None else None
        return agenda_days.agenda_entry_item_ids(snap.conn, as_at=snap.as_at,
                                                 known_at=known_at, **options)
    return q.calendar_entry_item_ids(snap.conn, **options)


def _filters(wanted: Dated) -> dict[str, Any]:
    """The views' queries' filters for the entries `wanted`, its page aside."""
    return {"first": wanted.first, "last": wanted.last, "kinds": set(wanted.kinds),
            "workshops": wanted.workshops, "held": wanted.held,
            "held_or_before": wanted.held_or_before,
            "item_ids": list(wanted.item_ids) if wanted.item_ids is not None else None}


def dated(snap: Snapshot, wanted: Dated) -> tuple[list[CalendarEntry], int]:
    """What `snapshot.dated_by_fold` answers, read from the views."""
    rows, total = dated_rows(snap, wanted)
    found = {s.id: s for s in states(snap, list(dict.fromkeys(r.item_id for r in rows)))}
    return [(r.label, r.when, found[r.item_id], r.held) for r in rows
            if r.item_id in found], total


def state(snap: Snapshot, item_id: str) -> ItemState | None:
    """What `snap.state(item_id)` answers, read as `states` reads it."""
    return next(iter(states(snap, [item_id])), None)


def states(snap: Snapshot, item_ids: list[str]) -> list[ItemState]:
    """What `snap.states(item_ids)` answers. As known now: the board for the items whose
    state as at the snapshot's date is their current one; for the rest, only the events
    up to the last one dated by then (and any revision) are read and folded, from the
    latest checkpoint by then when there is one. As known at a past time: an item with no
    event recorded since then stands as it does as known now, read so; the others are
    folded from their events recorded by then."""
    if not item_ids:
        return []
    if snap.known_at is not None:
        return _states_known_at(snap, snap.known_at.astimezone(UTC), item_ids)
    if snap.as_at is None:
        return snap.states(item_ids)
    return _states_as_at(snap, item_ids)


def _states_known_at(snap: Snapshot, known_at: datetime,
                     item_ids: list[str]) -> list[ItemState]:
    """`states` as known at `known_at` (UTC): the items unchanged since read as known
    now, the others folded."""
    since = q.item_ids_recorded_after(snap.conn, item_ids, recorded_after=known_at)
    now = Snapshot(snap.conn, snap.tracker, snap.index, as_at=snap.as_at, known_at=None,
                   reference=snap.reference)
    found = {s.id: s for s in states(now, [i for i in item_ids if i not in since])}
    changed = [i for i in item_ids if i in since]
    found.update((s.id, s) for s in (_states_as_at(snap, changed) if snap.as_at is not None
                                     else snap.states(changed)))
    return [found[i] for i in item_ids if i in found]


def _states_as_at(snap: Snapshot, item_ids: list[str]) -> list[ItemState]:
    """The items' states as at the snapshot's date (as known at its time): the board for
    those whose state then is their current one (known now), the rest folded from the
    events up to the last one dated by then, from a checkpoint when there is one."""
    if snap.as_at is None:
        raise ValueError("a reading as at a date needs a date")
    settled = (q.settled_item_ids(snap.conn, item_ids, by=snap.as_at)
               if snap.known_at is None else set())
    now = q.states(snap.conn, settled)
    others = [i for i in item_ids if i not in settled]
    known_at = snap.known_at.astimezone(UTC) if snap.known_at is not None else None
    reach = q.visible_versions(snap.conn, others, occurred_by=snap.as_at, recorded_by=known_at)
    then = checkpoints.states(snap, others, reach)
    wanted: dict[UUID, tuple[int | None, int | None]] = {}
    for item_id in others:
        if item_id not in then:
            last, revised_later = reach.get(item_id, (1, False))
            wanted[UUID(item_id)] = (None, None if revised_later else last)
    for aggregate, events in snap.tracker.items_events(wanted):  # a query for many items
        if snap.known_at is not None:
            events = [e for e in events if e.timestamp <= snap.known_at]
        state = snap.state_from(events)
        if state is not None:
            then[str(aggregate)] = state
    return [state for state in (now.get(i) or then.get(i) for i in item_ids)
            if state is not None]

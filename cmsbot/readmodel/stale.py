"""What has gone stale as at a snapshot's day: the items' late entries and the meetings
that slipped. The rules are `domain.overdue`'s; this finds the meetings the items' steps
wait on, so that a step settles once its meeting is recorded as held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.wording import late_words, slip_words
from domain.dates import PartialDate
from domain.overdue import (
    FirstPlan,
    Late,
    Slip,
    awaited_meeting,
    first_plan,
    late_entries,
    may_slip,
    slip,
)
from domain.state import ItemState


@dataclass(frozen=True)
class Stale:
    """One late entry of an item, or how a meeting slipped, listed under `when`: the date
    planned, or (a slip) the date held or now planned."""

    state: ItemState
    when: PartialDate
    late: Late | None = None
    slip: Slip | None = None

    def words(self) -> str:
        """"<title>: overdue since 1 May 2016", "<title>: endorsement at StC44: outcome not
        recorded (…)" or "<title>: slipped (first planned in early 2016)"; the date it is
        listed under is left to the caller."""
        title = self.state.title
        if self.late is not None:
            return f"{title}: {late_words(self.state, self.late, planned=False)}"
        return f"{title}: {slip_words(self.slip)}" if self.slip is not None else title


def held_for(snap: Snapshot, states: Sequence[ItemState]) -> dict[str, PartialDate]:
    """When the meetings the states' steps wait on were held (see `Snapshot.held_meetings`)."""
    names = [name for s in states for label, _ in s.agenda
             if (name := awaited_meeting(label)) is not None]
    return snap.held_meetings(names, known={s.id: s for s in states}) if names else {}


def first_plan_of(snap: Snapshot, state: ItemState) -> FirstPlan | None:
    """The meeting's first plan as the snapshot sees its events (None for other items)."""
    if not may_slip(state):
        return None
    return first_plan(snap.visible(snap.events_of(state.id)))


def stale(snap: Snapshot, states: Sequence[ItemState], *, slips: bool = True) -> list[Stale]:
    """The late entries of `states` as at the snapshot's day, and (with `slips`) the
    meetings among them that slipped, in date order."""
    held = held_for(snap, states)
    found: list[Stale] = []
    for state in states:
        found.extend(Stale(state, late.planned, late=late)
                     for late in late_entries(state, snap.reference, held))
        slipped = slip(state, first_plan_of(snap, state)) if slips else None
        if slipped is not None:
            found.append(Stale(state, slipped.now or slipped.first, slip=slipped))
    found.sort(key=lambda s: (s.when.sort_key, s.when.end, s.state.title))
    return found


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """`count` (all when None) of what `stale` finds among the dated items (of `item_ids`,
    all when None; of `kinds`, all when empty), from the `first`th (from 0) in its order,
    and how many it finds in all. It reads and folds every dated item (the plain path)."""
    states = list({id(e[2]): e[2] for e in snap.calendar(item_ids)}.values())
    states = [s for s in states if not kinds or s.kind.value in kinds]
    found = stale(snap, states)
    end = None if count is None else first + count
    return found[first:end], len(found)

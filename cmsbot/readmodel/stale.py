"""What has gone stale as at a snapshot's day: the items' late entries and the meetings
that slipped. The rules are `domain.overdue`'s; this finds the meetings the items' steps
wait on, so that a step settles once its meeting is recorded as held."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.wording import late_words, slip_words
from domain.dates import PartialDate
from domain.overdue import Late, Slip, awaited_meeting, late_entries, may_slip, slip
from domain.provenance import Source
from domain.state import FirstPlan, ItemState


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

    def sources(self) -> tuple[Source, ...]:
        """Who said the dates the entry is about: a late entry's date; a slip's first plan
        and the date the meeting was held or is now planned."""
        state = self.state
        if self.slip is None:
            return state.cited(self.late.label if self.late is not None else state.title)
        first = state.first_plan.cited if state.first_plan is not None else None
        return tuple(dict.fromkeys((*(first.sources if first is not None else ()),
                                    *state.cited(state.title))))


def held_for(snap: Snapshot, states: Sequence[ItemState]) -> dict[str, PartialDate]:
    """When the meetings the states' steps wait on were held (see `Snapshot.held_meetings`)."""
    names = [name for s in states for label, _ in s.agenda
             if (name := awaited_meeting(label)) is not None]
    return snap.held_meetings(names, known={s.id: s for s in states}) if names else {}


def first_plan_of(snap: Snapshot, state: ItemState) -> FirstPlan | None:
    """The meeting's first plan as the snapshot sees its events (None for other items):
    the one its state's fold kept. A state read through a snapshot is the fold of the
    events the snapshot sees (the board's, of them all; a past time's, of those visible
    then), so this is `domain.overdue.first_plan` of those events, with none read."""
    return state.first_plan if may_slip(state) else None


def stale(snap: Snapshot, states: Sequence[ItemState], *, slips: bool = True) -> list[Stale]:
    """The late entries of `states` as at the snapshot's day, and (with `slips`) the
    meetings among them that slipped, in the list's order (`stale_key`)."""
    held = held_for(snap, states)
    found: list[Stale] = []
    for state in states:
        found.extend(Stale(state, late.planned, late=late)
                     for late in late_entries(state, snap.reference, held))
        slipped = slip(state, first_plan_of(snap, state)) if slips else None
        if slipped is not None:
            found.append(Stale(state, slipped.now or slipped.first, slip=slipped))
    found.sort(key=stale_order)
    return found


StaleKey = tuple[date, date, str, str, int, str]


def stale_key(when: PartialDate, title: str, item_id: str, label: str | None) -> StaleKey:
    """Where an entry sorts in the overdue list: by the date it is listed under (its sort
    key, then its end), the item's title and id, an item's late entries (by label) before
    its slip. A total order: an item has one entry per label, and one slip at most."""
    return (when.sort_key, when.end, title, item_id, 1 if label is None else 0, label or "")


def stale_order(entry: Stale) -> StaleKey:
    """The entry's `stale_key`."""
    return stale_key(entry.when, entry.state.title, entry.state.id,
                     entry.late.label if entry.late is not None else None)


def entries_of(page: Sequence[StaleKey], states: Mapping[str, ItemState], day: date,
               held: Mapping[str, PartialDate]) -> list[Stale]:
    """The entries these keys (a fast path's page, read from rows) stand for, built from
    their items' states (by id) by the domain's rules, as at `day` with these meetings
    held (`held_for`). A key that its item's state does not give (the item changed
    between reading its row and its state) is left out."""
    late = {s.id: {entry.label: entry for entry in late_entries(s, day, held)}
            for s in states.values()}
    entries = []
    for key in page:
        state = states.get(key[3])
        entry = None if state is None else _entry(state, key, late[state.id])
        if entry is not None and stale_order(entry) == key:
            entries.append(entry)
    return entries


def _entry(state: ItemState, key: StaleKey, late: Mapping[str, Late]) -> Stale | None:
    if key[4] == 0:
        found = late.get(key[5])
        return None if found is None else Stale(state, found.planned, late=found)
    slipped = slip(state, state.first_plan) if may_slip(state) else None
    if slipped is None:
        return None
    return Stale(state, slipped.now or slipped.first, slip=slipped)


def stale_page(snap: Snapshot, *, kinds: frozenset[str], item_ids: list[str] | None,
               first: int, count: int | None) -> tuple[list[Stale], int]:
    """Entries `first` to `first + count` (to the end when `count` is None) of the overdue
    list of the dated items (of `item_ids` when given) of `kinds` (all when empty), and how
    many there are: the plain path, from every state; `cmsbot.readmodel.stale_rows` answers
    the same from the views' rows."""
    states = list({s.id: s for _, _, s, _ in snap.calendar(item_ids)}.values())
    found = stale(snap, [s for s in states if not kinds or s.kind.value in kinds])
    return found[first:] if count is None else found[first:first + count], len(found)

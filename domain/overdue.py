"""When a plan has gone stale: overdue dates, settled steps and slipped meetings. Pure
rules over an item's state (or events) and a day.

A date has passed, as at a day, once that day is after the END of the period the date's
words cover: "early 2016" (January to April) is overdue from 1 May 2016, "2016" from
1 January 2017, "14-15 October 2015" from 16 October 2015, "by 2 May 2016" from 3 May
2016. A dated entry still on an item's agenda is one with no outcome recorded (an
outcome takes it off: a meeting held, an endorsement, a milestone reached, a notification
issued…), so an entry whose date has passed is overdue.

A step that waits on a meeting ("endorsement at StC44", "consolidation for StC45") settles
once that meeting is recorded as held and over, or its own date has passed: its outcome is
then not recorded, rather than next.

A meeting slipped when it was held, or is now planned, starting after the end of the
first date planned for it, or at a venue that does not name the first venue planned
(a tentative one aside): MIKT1, planned for early 2016, held in July; the Caribbean
workshop, planned for Jamaica, held in Barbados.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from domain import events as ev
from domain.dates import PartialDate
from domain.handlers.shared import AWAITING_PREFIXES
from domain.provenance import Cited
from domain.state import FirstPlan, ItemState, Kind, corrected


def overdue_from(when: PartialDate) -> date:
    """The first day on which `when` has passed: the day after its period ends."""
    return when.end if when.end == date.max else when.end + timedelta(days=1)


def has_passed(when: PartialDate, as_at: date) -> bool:
    """Whether the whole period `when` covers is over as at `as_at`."""
    return as_at > when.end


def awaited_meeting(label: str) -> str | None:
    """The meeting an agenda entry waits on ("StC44" for "endorsement at StC44")."""
    for prefix in AWAITING_PREFIXES:
        if label.startswith(prefix) and label[len(prefix):].strip():
            return label[len(prefix):].strip()
    return None


def may_slip(state: ItemState) -> bool:
    """Whether the item is a meeting that has a date of its own (held, or planned): the
    ones whose first plan `slip` compares with."""
    return state.kind is Kind.MEETING and (
        state.held or state.title in map(itemgetter(0), state.agenda))


def meeting_key(name: str) -> str:
    """How a meeting's name is compared: case and spacing aside."""
    return " ".join(name.lower().split())


@dataclass(frozen=True)
class Late:
    """An entry of an item's agenda whose date has passed, or whose meeting was held, with
    no outcome recorded."""

    label: str
    planned: PartialDate
    since: date  # the first day it was late
    awaited: str | None = None  # the meeting a step waited on
    met: PartialDate | None = None  # when that meeting was held, if recorded

    @property
    def is_step(self) -> bool:
        return self.awaited is not None


def late_entries(state: ItemState, as_at: date,
                 held: Mapping[str, PartialDate] | None = None) -> list[Late]:
    """The item's late entries as at `as_at`, earliest first. `held` gives the dates on
    which meetings were held (by `meeting_key` of their names), as known to the caller:
    a step whose meeting is among them settles even before its own date has passed."""
    found = []
    for label, when in sorted(state.agenda, key=lambda e: (e[1].sort_key, e[1].end, e[0])):
        awaited = awaited_meeting(label)
        met = (held or {}).get(meeting_key(awaited)) if awaited else None
        if met is not None and has_passed(met, as_at):
            found.append(Late(label, when, overdue_from(met), awaited, met))
        elif has_passed(when, as_at):
            found.append(Late(label, when, overdue_from(when), awaited))
    return found


def settled_labels(late: list[Late]) -> set[str]:
    """The labels of `late`: entries that are no longer "next"."""
    return {entry.label for entry in late}


def first_plan(events: Iterable[Any]) -> FirstPlan | None:
    """The first date put on a meeting's agenda for the meeting itself, from its events
    in version order (corrections applied); None if it was never planned before it was
    held. The definition of what the fold keeps as `ItemState.first_plan`: cited by the
    event that planned it and the later restatements and corrections of that event."""
    state: ItemState | None = None
    found: FirstPlan | None = None
    for event in corrected(events):
        if isinstance(event, int):
            continue
        if isinstance(event, ev.ItemRegistered):
            state = ItemState.registered(event)
        elif found is not None and found.cited is not None:
            if isinstance(event, ev.FactCorroborated | ev.EventCorrected):
                target = (event.corroborates if isinstance(event, ev.FactCorroborated)
                          else event.corrects)
                found = replace(found, cited=found.cited.corroborated(target, event.source))
        elif state is not None:
            state.apply(event)
            when = next((w for label, w in state.agenda if label == state.title), None)
            if when is not None:
                tentative = getattr(event, "venue_tentative", False)
                found = FirstPlan(when, None if tentative else getattr(event, "venue", None),
                                  Cited(event.originator_version, (event.source,)))
    return found


@dataclass(frozen=True)
class Slip:
    """A meeting held, or now planned, later than first planned, or elsewhere."""

    first: PartialDate
    now: PartialDate | None  # when it was held, or is now planned (None: moved only)
    first_venue: str | None = None  # set only when it moved
    venue: str | None = None

    @property
    def later(self) -> bool:
        return self.now is not None


def slip(state: ItemState, first: FirstPlan | None) -> Slip | None:
    """How the meeting slipped from its `first` plan, if it did: its date (held, or now
    planned) starts after the first date ends, or its venue no longer names the first
    venue."""
    if first is None:
        return None
    current = state.held_on if state.held else next(
        (when for label, when in state.agenda if label == state.title), None)
    later = current if current is not None and current.earliest > first.when.end else None
    moved = (first.venue is not None and state.venue is not None
             and meeting_key(first.venue) not in meeting_key(state.venue))
    if later is None and not moved:
        return None
    return Slip(first.when, later, first.venue if moved else None,
                state.venue if moved else None)

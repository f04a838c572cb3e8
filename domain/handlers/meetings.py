"""How a meeting's events change it: planned, scheduled, moved, held or cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev
from domain.handlers.shared import where_when

if TYPE_CHECKING:
    from domain.state import ItemState


def _meeting_planned(s: ItemState, e: ev.MeetingPlanned) -> None:
    venue = f"{e.venue} (tentative)" if e.venue and e.venue_tentative else e.venue
    s.venue = venue or s.venue
    s._plan(s.title, e.when, e)
    s._set("planned", e.occurred, where_when(e.when, s.venue))


def _meeting_scheduled(s: ItemState, e: ev.MeetingScheduled | ev.MeetingRescheduled) -> None:
    if isinstance(e, ev.MeetingScheduled):
        for organiser in e.organisers:
            s._add_partner(organiser)
    s.venue = e.venue or s.venue
    s._plan(s.title, e.dates, e)
    status = "scheduled" if isinstance(e, ev.MeetingScheduled) else "rescheduled"
    s._set(status, e.occurred, where_when(e.dates, s.venue))


def _meeting_relocated(s: ItemState, e: ev.MeetingRelocated) -> None:
    s.venue = e.venue
    when = s.next_date or s.held_on
    s.detail = where_when(when, e.venue) if when else e.venue


def _meeting_cancelled(s: ItemState, e: ev.MeetingCancelled) -> None:
    s.cancelled = True
    s._clear_agenda()
    s._set("cancelled", e.occurred, e.reason)


def _meeting_held(s: ItemState, e: ev.MeetingHeld) -> None:
    s._held(e.dates, e)
    s.venue = e.venue or s.venue
    outcome = f"; {e.outcome}" if e.outcome else ""
    s._set("held", e.dates, where_when(e.dates, s.venue) + outcome)


HANDLERS: dict[type[Any], Any] = {
    ev.MeetingPlanned: _meeting_planned,
    ev.MeetingScheduled: _meeting_scheduled,
    ev.MeetingRescheduled: _meeting_scheduled,
    ev.MeetingRelocated: _meeting_relocated,
    ev.MeetingCancelled: _meeting_cancelled,
    ev.MeetingHeld: _meeting_held,
}

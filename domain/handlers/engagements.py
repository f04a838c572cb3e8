"""How an engagement's events change it: started, progress, milestones, concluded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev

if TYPE_CHECKING:
    from domain.state import ItemState


def _engagement_started(s: ItemState, e: ev.EngagementStarted) -> None:
    s.topics.extend(t for t in e.topics if t not in s.topics)
    s._set("ongoing", e.occurred, ", ".join(e.topics) or None)


def _progress_noted(s: ItemState, e: ev.EngagementProgressNoted) -> None:
    since = s.status_since if s.status == "ongoing" and s.status_since else e.occurred
    s._set("ongoing", since, e.summary)


def _milestone_planned(s: ItemState, e: ev.MilestonePlanned) -> None:
    if e.when is not None:
        s._plan(e.milestone, e.when, e)
    if s.status == "registered":
        s._set("ongoing", e.occurred, f"next: {e.milestone}")


def _milestone_reached(s: ItemState, e: ev.MilestoneReached) -> None:
    s._unplan(e.milestone)
    s._set("ongoing", e.occurred, f"milestone reached: {e.milestone}")


def _concluded(s: ItemState, e: ev.EngagementConcluded) -> None:
    s.ended = True
    s._clear_agenda()
    s._set("concluded", e.occurred, e.outcome)


HANDLERS: dict[type[Any], Any] = {
    ev.EngagementStarted: _engagement_started,
    ev.EngagementProgressNoted: _progress_noted,
    ev.MilestonePlanned: _milestone_planned,
    ev.MilestoneReached: _milestone_reached,
    ev.EngagementConcluded: _concluded,
}

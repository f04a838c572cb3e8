"""How a consultation's events change it: announced, issued, submissions, closed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev
from domain.handlers.shared import CONSOLIDATION_FOR

if TYPE_CHECKING:
    from domain.state import ItemState


_EXPECTED, _DEADLINE = "notification expected", "submission deadline"


def _announced(s: ItemState, e: ev.ConsultationAnnounced) -> None:
    if e.expected is not None:
        s._plan(_EXPECTED, e.expected, e)
    s._set("announced", e.occurred, "notification to be issued")


def _issued(s: ItemState, e: ev.ConsultationIssued) -> None:
    s.issued = True
    s._unplan(_EXPECTED)
    if e.deadline is not None:
        s._plan(_DEADLINE, e.deadline, e)
    what = e.notification or "notification"
    s._set("open for submissions", e.occurred, f"{what} issued")


def _submission(s: ItemState, e: ev.SubmissionReceived) -> None:
    s.submissions.append([e.submitter, e.title])
    count = len(s.submissions)
    s.detail = f"{count} submission{'s' if count != 1 else ''} received"


def _closed(s: ItemState, e: ev.ConsultationClosed) -> None:
    s.closed = True
    s._unplan(_DEADLINE)
    s._set("closed", e.occurred, f"{len(s.submissions)} submissions received")


def _consolidation_planned(s: ItemState, e: ev.ConsolidationPlanned) -> None:
    if e.when is not None:
        s._plan(f"{CONSOLIDATION_FOR}{e.for_meeting}", e.when, e)


def _consolidated(s: ItemState, e: ev.ConsultationConsolidated) -> None:
    s._unplan(f"{CONSOLIDATION_FOR}{e.for_meeting}")
    s._set("consolidated", e.occurred, f"consolidated for {e.for_meeting}")


HANDLERS: dict[type[Any], Any] = {
    ev.ConsultationAnnounced: _announced,
    ev.ConsultationIssued: _issued,
    ev.SubmissionReceived: _submission,
    ev.ConsultationClosed: _closed,
    ev.ConsolidationPlanned: _consolidation_planned,
    ev.ConsultationConsolidated: _consolidated,
}

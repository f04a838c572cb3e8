"""One plain-English line per event, for histories, activity feeds and digests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as ev

Names = Callable[[str], str]


def _plain(key: str) -> str:
    return key


def _list(values: list[str], name: Names) -> str:
    names = [name(v) for v in values]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def describe(event: Any, name: Names = _plain) -> str:
    """What the event says happened, in words (partner keys turned into names by `name`)."""
    e = event
    match e:
        case ev.ItemRegistered():
            return f"Began tracking “{e.title}”"
        case ev.PartnerJoined():
            role = f" as {e.role}" if e.role else ""
            return f"{name(e.partner)} joined{role}"
        case ev.DocumentLinked():
            return f"Recorded in {e.document}" + (f": {e.description}" if e.description else "")
        case ev.EventCorrected():
            fields = ", ".join(f"{k} → {_value(v)}" for k, v in e.changes.items())
            return f"Corrected event {e.corrects} ({fields}): {e.reason}"
        case ev.EventRetracted():
            return f"Retracted event {e.retracts}: {e.reason}"
        case ev.ItemNoted():
            return "Noted"
        case ev.ItemPostponed():
            what = f"{_first_up(e.step)} postponed" if e.step else "Postponed"
            return f"{what} to {e.date}" + (f": {e.reason}" if e.reason else "")
        case ev.ItemCancelled():
            return f"{_first_up(e.step)} cancelled" if e.step else "Cancelled"
        case ev.OutcomeUnknown():
            return f"Outcome of {e.step} not recorded" if e.step else "Outcome not recorded"
        case ev.FactCorroborated():
            return f"Event {e.corroborates} restated"
        case ev.AgreementProposed():
            return "Proposed"
        case ev.AgreementDraftingStarted():
            return "Drafting started"
        case ev.AgreementDrafted():
            return "Draft text developed" + (f" ({e.document})" if e.document else "")
        case ev.AgreementNegotiationProgressed():
            topics = f", covering {', '.join(e.topics)}" if e.topics else ""
            return f"Negotiation at {e.stage} stage{topics}"
        case ev.AgreementSubmittedForEndorsement():
            when = f", {e.meeting_date}" if e.meeting_date else ""
            return f"Submitted for endorsement to {e.body} ({e.meeting}{when})"
        case ev.AgreementEndorsed():
            return f"Endorsed by {e.body} at {e.meeting}"
        case ev.AgreementSigned():
            return "Signed" + (f" by {_list(e.signatories, name)}" if e.signatories else "")
        case ev.AgreementImplementationStarted():
            return "Implementation started"
        case ev.AgreementProgressReported():
            return f"Progress reported: {e.summary}"
        case ev.AgreementExpired():
            return "Expired"
        case ev.AgreementRenewed():
            return f"Renewed for {e.period}"
        case ev.AgreementSuperseded():
            return f"Superseded by {e.by}"
        case ev.PostProposed():
            return "Post proposed"
        case ev.PostFunded():
            return f"Funded by {name(e.donor)}"
        case ev.PostStalled():
            return e.reason or "No progress"
        case ev.OfficerRecruited():
            who = e.officer or "An officer"
            return f"{who} recruited" + (f", starting {e.start}" if e.start else "")
        case ev.OfficerStarted():
            return f"Officer began work {e.start}"
        case ev.PostVacated():
            return "Post vacated"
        case ev.MeetingPlanned():
            venue = ""
            if e.venue:
                venue = f", most probably in {e.venue}" if e.venue_tentative else f", {e.venue}"
            when = f"to take place {e.when}" if e.when.is_by else f"for {e.when}"
            return f"Planned {when}{venue}"
        case ev.MeetingScheduled():
            by = f", organised with {_list(e.organisers, name)}" if e.organisers else ""
            return f"Scheduled for {e.dates}" + (f" in {e.venue}" if e.venue else "") + by
        case ev.MeetingRescheduled():
            return f"Rescheduled to {e.dates}" + (f" in {e.venue}" if e.venue else "")
        case ev.MeetingRelocated():
            return f"Moved to {e.venue}" + (f": {e.reason}" if e.reason else "")
        case ev.MeetingCancelled():
            return "Cancelled" + (f": {e.reason}" if e.reason else "")
        case ev.MeetingHeld():
            where = f" in {e.venue}" if e.venue else ""
            who = f"; attended by {_list(e.attendees, name)}" if e.attendees else ""
            outcome = f". {e.outcome}" if e.outcome else ""
            return f"Held {e.dates}{where}{who}{outcome}"
        case ev.ConsultationAnnounced():
            return "Call for submissions announced" + (
                f", expected {e.expected}" if e.expected else "")
        case ev.ConsultationIssued():
            to = f" to {_list(e.invitees, name)}" if e.invitees else ""
            return f"{e.notification or 'Notification'} issued{to}"
        case ev.SubmissionReceived():
            return f"Submission received from {name(e.submitter)}: “{e.title}”"
        case ev.ConsultationClosed():
            return "Closed for submissions"
        case ev.ConsolidationPlanned():
            when = f" ({e.when})" if e.when else ""
            return f"Submissions to be consolidated for {e.for_meeting}{when}"
        case ev.ConsultationConsolidated():
            return f"Submissions consolidated for {e.for_meeting}"
        case ev.EngagementStarted():
            return "Engagement under way" + (f" on {', '.join(e.topics)}" if e.topics else "")
        case ev.EngagementProgressNoted():
            return e.summary
        case ev.MilestonePlanned():
            return f"Next: {e.milestone}" + (f" ({e.when})" if e.when else "")
        case ev.MilestoneReached():
            return f"Milestone reached: {e.milestone}"
        case ev.EngagementConcluded():
            return "Concluded" + (f": {e.outcome}" if e.outcome else "")
        case ev.VersionGapAcknowledged():
            return (f"No event is stored at version {e.originator_version}; the gap was "
                    f"acknowledged: {e.reason}")
        case _:
            return type(e).__name__


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _value(value: Any) -> str:
    return str(value) if not isinstance(value, list) else ", ".join(map(str, value))

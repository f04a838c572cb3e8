"""An item's current state, as a pure function of its events.

The aggregate keeps one to check commands; the status board keeps one per row; an as-at
question folds one from the events that had happened by that date. All three use `fold`
and `ItemState.apply`, so they cannot disagree. No I/O, no clock: recorded times come from
the events themselves. The module is over 400 lines because it holds one small handler
per kind of event, beside the fold that applies them: the whole life of an item in one
place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain import events as ev
from domain.dates import PartialDate
from domain.provenance import Source


class Kind(StrEnum):
    """The five kinds of tracked item."""

    AGREEMENT = "agreement"
    POST = "post"
    MEETING = "meeting"
    CONSULTATION = "consultation"
    ENGAGEMENT = "engagement"


AGGREGATE_TOPICS: dict[Kind, str] = {kind: f"cmsbot.{kind.value.title()}" for kind in Kind}
KIND_BY_TOPIC: dict[str, Kind] = {topic: kind for kind, topic in AGGREGATE_TOPICS.items()}


@dataclass
class ItemState:
    """What is true of an item after a sequence of its events."""

    id: str
    kind: Kind
    key: str
    title: str
    aliases: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    mandates: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    period: str | None = None
    subtype: str | None = None
    summary: str | None = None
    status: str = "registered"
    status_since: PartialDate | None = None
    detail: str | None = None
    agenda: list[tuple[str, PartialDate]] = field(default_factory=list)
    held_on: PartialDate | None = None
    venue: str | None = None
    endorsements: list[list[str]] = field(default_factory=list)
    pending_endorsements: list[list[str]] = field(default_factory=list)
    signed: bool = False
    ended: bool = False
    filled: bool = False
    officer: str | None = None
    issued: bool = False
    closed: bool = False
    submissions: list[list[str]] = field(default_factory=list)
    held: bool = False
    cancelled: bool = False
    topics: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    last_occurred: PartialDate | None = None
    last_recorded: datetime | None = None
    version: int = 0
    event_count: int = 0

    # Building -------------------------------------------------------------------------

    @classmethod
    def registered(cls, event: ev.ItemRegistered) -> ItemState:
        state = cls(
            id=str(event.originator_id),
            kind=KIND_BY_TOPIC[event.originator_topic],
            key=event.key,
            title=event.title,
            aliases=list(event.aliases),
            partners=list(event.partners),
            mandates=list(event.mandates),
            documents=list(event.documents),
            period=event.period,
            subtype=event.subtype,
            summary=event.summary,
            status_since=event.occurred,
        )
        state._note_provenance(event.source, event.occurred, event.timestamp,
                               event.originator_version)
        return state

    def apply(self, event: ev.ItemEvent) -> None:
        """Change the state by one event (corrections need `fold`, which sees them all)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        self._note_provenance(event.source, event.occurred, event.timestamp,
                              event.originator_version)

    def _note_provenance(self, source: Source, occurred: PartialDate, recorded: datetime,
                         version: int) -> None:
        # A set beside the list, made when first needed: a long-lived item has thousands
        # of sources, and a list search for each event would grow with them.
        known = self.__dict__.get("_known_sources")
        if known is None or len(known) != len(self.sources):
            known = self.__dict__["_known_sources"] = set(self.sources)
        if source not in known:
            known.add(source)
            self.sources.append(source)
        if self.last_occurred is None or occurred.sort_key >= self.last_occurred.sort_key:
            self.last_occurred = occurred
        self.last_recorded = recorded
        self.version = version
        self.event_count += 1

    def _set(self, status: str, since: PartialDate, detail: str | None = None) -> None:
        self.status = status
        self.status_since = since
        self.detail = detail

    @property
    def next_date(self) -> PartialDate | None:
        entry = self.next_entry()
        return entry[1] if entry else None

    @property
    def next_label(self) -> str | None:
        entry = self.next_entry()
        return entry[0] if entry else None

    def next_entry(self, after: date | None = None) -> tuple[str, PartialDate] | None:
        """The earliest dated thing still to come for the item (ending on or after `after`)."""
        pending = [e for e in self.agenda if after is None or e[1].end >= after]
        return min(pending, key=lambda e: e[1].sort_key) if pending else None

    def _plan(self, label: str, when: PartialDate) -> None:
        self._unplan(label)
        self.agenda.append((label, when))

    def _unplan(self, label: str) -> None:
        self.agenda = [e for e in self.agenda if e[0] != label]

    def _add_partner(self, partner: str) -> None:
        if partner and partner not in self.partners:
            self.partners.append(partner)

    def copy(self) -> ItemState:
        """A copy that `apply` can change without changing this one. Only the lists are
        copied (and lists within them): what they hold, and every other field, is a value
        nothing changes in place (texts, dates, sources, tuples)."""
        clone = object.__new__(ItemState)
        values = dict(self.__dict__)
        for name in _LIST_FIELDS:
            values[name] = [list(v) if isinstance(v, list) else v for v in values[name]]
        values["agenda"] = list(self.agenda)
        values["sources"] = list(self.sources)
        if "_known_sources" in values:
            values["_known_sources"] = set(values["_known_sources"])
        clone.__dict__.update(values)
        return clone

    # Serialisation (the board keeps the state of each row) -----------------------------

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies, which costs most of a rebuild.
        data = {f.name: getattr(self, f.name) for f in _FIELDS}
        for name in _LIST_FIELDS:
            data[name] = [list(v) if isinstance(v, list) else v for v in data[name]]
        data["agenda"] = [[label, when.to_dict()] for label, when in self.agenda]
        for name in ("status_since", "held_on", "last_occurred"):
            value = getattr(self, name)
            data[name] = value.to_dict() if value else None
        data["sources"] = [source.to_dict() for source in self.sources]
        data["last_recorded"] = self.last_recorded.isoformat() if self.last_recorded else None
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemState:
        values = dict(data)
        values["agenda"] = [(label, PartialDate.from_dict(when)) for label, when in data["agenda"]]
        for name in ("status_since", "held_on", "last_occurred"):
            values[name] = PartialDate.from_dict(data[name]) if data.get(name) else None
        values["sources"] = [Source.from_dict(source) for source in data["sources"]]
        recorded = data.get("last_recorded")
        values["last_recorded"] = datetime.fromisoformat(recorded) if recorded else None
        values["kind"] = Kind(data["kind"])
        return cls(**values)


_FIELDS = dataclasses.fields(ItemState)
_LIST_FIELDS = tuple(f.name for f in _FIELDS if f.name not in ("agenda", "sources")
                     and str(f.type).startswith("list"))


def fold(events: Iterable[ev.ItemRegistered | ev.ItemEvent | ev.VersionGapAcknowledged],
         ) -> ItemState | None:
    """The state after `events` (in version order), with corrections and retractions applied.
    An acknowledged gap's event says nothing about the item and is passed over.

    Returns None when the registration is not among them.
    """
    state: ItemState | None = None
    for version, event in _revised(events):
        if event is None:  # retracted
            if state is not None:
                state.version = version
        elif isinstance(event, ev.ItemRegistered):
            state = ItemState.registered(event)
        elif state is not None:
            state.apply(event)
    return state


def revised(events: Iterable[Any]) -> list[Any]:
    """The events (in version order) as their corrections and retractions leave them, as
    `fold` applies them: each corrected event with its changes, the retracted ones left
    out."""
    return [event for _, event in _revised(events) if event is not None]


def _revised(events: Iterable[Any]) -> list[tuple[int, Any]]:
    """Each event's version, and the event with its corrections (None if retracted)."""
    history = [e for e in events if not isinstance(e, ev.VersionGapAcknowledged)]
    retracted: set[int] = set()
    changes: dict[int, dict[str, Any]] = {}
    for event in history:
        if isinstance(event, ev.EventRetracted):
            retracted.add(event.retracts)
        elif isinstance(event, ev.EventCorrected):
            changes.setdefault(event.corrects, {}).update(event.changes)
    found: list[tuple[int, Any]] = []
    for event in history:
        version = event.originator_version
        if version in retracted:
            found.append((version, None))
        elif version in changes:
            found.append((version, dataclasses.replace(event, **changes[version])))
        else:
            found.append((version, event))
    return found


# Handlers, one per event type: how each fact changes the item ----------------------------

def _partner_joined(s: ItemState, e: ev.PartnerJoined) -> None:
    s._add_partner(e.partner)


def _document_linked(s: ItemState, e: ev.DocumentLinked) -> None:
    if e.document not in s.documents:
        s.documents.append(e.document)


def _simple(status: str) -> Any:
    def handle(s: ItemState, e: ev.ItemEvent) -> None:
        s._set(status, e.occurred)
    return handle


def _drafted(s: ItemState, e: ev.AgreementDrafted) -> None:
    if e.document and e.document not in s.documents:
        s.documents.append(e.document)
    s._set("draft ready", e.occurred, f"text in {e.document}" if e.document else None)


def _negotiated(s: ItemState, e: ev.AgreementNegotiationProgressed) -> None:
    s.topics.extend(t for t in e.topics if t not in s.topics)
    s._set("in negotiation", e.occurred, f"negotiation at {e.stage} stage")


def _endorsement_label(meeting: str) -> str:
    return f"endorsement at {meeting}"


def _submitted(s: ItemState, e: ev.AgreementSubmittedForEndorsement) -> None:
    s.pending_endorsements.append([e.body, e.meeting])
    if e.document and e.document not in s.documents:
        s.documents.append(e.document)
    if e.meeting_date is not None:
        s._plan(_endorsement_label(e.meeting), e.meeting_date)
    if not s.endorsements:
        s._set("awaiting endorsement", e.occurred, f"submitted to {e.body} ({e.meeting})")


def _endorsed(s: ItemState, e: ev.AgreementEndorsed) -> None:
    s.endorsements.append([e.body, e.meeting])
    for body, meeting in s.pending_endorsements:
        if body == e.body:
            s._unplan(_endorsement_label(meeting))
    s.pending_endorsements = [p for p in s.pending_endorsements if p[0] != e.body]
    bodies = " and ".join(f"{body} ({meeting})" for body, meeting in s.endorsements)
    if not s.signed and s.status != "in implementation":
        s._set("endorsed", e.occurred, f"endorsed by {bodies}")


def _signed(s: ItemState, e: ev.AgreementSigned) -> None:
    s.signed = True
    s._set("signed", e.occurred,
           f"signed by {', '.join(e.signatories)}" if e.signatories else None)


def _renewed(s: ItemState, e: ev.AgreementRenewed) -> None:
    s.period, s.ended = e.period, False
    s._set("in implementation", e.occurred, f"renewed for {e.period}")


def _ended(status: str) -> Any:
    def handle(s: ItemState, e: ev.ItemEvent) -> None:
        s.ended = True
        s.agenda = []
        detail = f"superseded by {e.by}" if isinstance(e, ev.AgreementSuperseded) else None
        s._set(status, e.occurred, detail)
    return handle


def _progress_reported(s: ItemState, e: ev.AgreementProgressReported) -> None:
    since = s.status_since if s.status == "in implementation" else e.occurred
    s._set("in implementation", since or e.occurred, e.summary)


def _post_funded(s: ItemState, e: ev.PostFunded) -> None:
    s._add_partner(e.donor)
    if not s.filled:
        s._set("funded", e.occurred, f"funded by {e.donor}")


def _recruited(s: ItemState, e: ev.OfficerRecruited) -> None:
    s.filled, s.officer = True, e.officer
    since = e.start or e.occurred
    who = e.officer or "officer"
    s._set("filled", since, f"{who} recruited; began work {since}" if e.start else
           f"{who} recruited")


def _started(s: ItemState, e: ev.OfficerStarted) -> None:
    s._set("filled", e.start, f"{s.officer or 'officer'} began work {e.start}")


def _vacated(s: ItemState, e: ev.PostVacated) -> None:
    s.filled, s.officer = False, None
    s._set("vacant", e.occurred)


def _stalled(s: ItemState, e: ev.PostStalled) -> None:
    s._set("stalled", e.occurred, e.reason or "no progress")


def _where_when(when: PartialDate, venue: str | None) -> str:
    return f"{when}, {venue}" if venue else str(when)


def _meeting_planned(s: ItemState, e: ev.MeetingPlanned) -> None:
    venue = f"{e.venue} (tentative)" if e.venue and e.venue_tentative else e.venue
    s.venue = venue or s.venue
    s._plan(s.title, e.when)
    s._set("planned", e.occurred, _where_when(e.when, s.venue))


def _meeting_scheduled(s: ItemState, e: ev.MeetingScheduled | ev.MeetingRescheduled) -> None:
    if isinstance(e, ev.MeetingScheduled):
        for organiser in e.organisers:
            s._add_partner(organiser)
    s.venue = e.venue or s.venue
    s._plan(s.title, e.dates)
    status = "scheduled" if isinstance(e, ev.MeetingScheduled) else "rescheduled"
    s._set(status, e.occurred, _where_when(e.dates, s.venue))


def _meeting_cancelled(s: ItemState, e: ev.MeetingCancelled) -> None:
    s.cancelled = True
    s.agenda = []
    s._set("cancelled", e.occurred, e.reason)


def _meeting_held(s: ItemState, e: ev.MeetingHeld) -> None:
    s.held, s.held_on = True, e.dates
    s.venue = e.venue or s.venue
    s.agenda = []
    outcome = f"; {e.outcome}" if e.outcome else ""
    s._set("held", e.dates, _where_when(e.dates, s.venue) + outcome)


_EXPECTED, _DEADLINE = "notification expected", "submission deadline"


def _announced(s: ItemState, e: ev.ConsultationAnnounced) -> None:
    if e.expected is not None:
        s._plan(_EXPECTED, e.expected)
    s._set("announced", e.occurred, "notification to be issued")


def _issued(s: ItemState, e: ev.ConsultationIssued) -> None:
    s.issued = True
    s._unplan(_EXPECTED)
    if e.deadline is not None:
        s._plan(_DEADLINE, e.deadline)
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
        s._plan(f"consolidation for {e.for_meeting}", e.when)


def _consolidated(s: ItemState, e: ev.ConsultationConsolidated) -> None:
    s._unplan(f"consolidation for {e.for_meeting}")
    s._set("consolidated", e.occurred, f"consolidated for {e.for_meeting}")


def _engagement_started(s: ItemState, e: ev.EngagementStarted) -> None:
    s.topics.extend(t for t in e.topics if t not in s.topics)
    s._set("ongoing", e.occurred, ", ".join(e.topics) or None)


def _progress_noted(s: ItemState, e: ev.EngagementProgressNoted) -> None:
    since = s.status_since if s.status == "ongoing" and s.status_since else e.occurred
    s._set("ongoing", since, e.summary)


def _milestone_planned(s: ItemState, e: ev.MilestonePlanned) -> None:
    if e.when is not None:
        s._plan(e.milestone, e.when)
    if s.status == "registered":
        s._set("ongoing", e.occurred, f"next: {e.milestone}")


def _milestone_reached(s: ItemState, e: ev.MilestoneReached) -> None:
    s._unplan(e.milestone)
    s._set("ongoing", e.occurred, f"milestone reached: {e.milestone}")


def _concluded(s: ItemState, e: ev.EngagementConcluded) -> None:
    s.ended = True
    s.agenda = []
    s._set("concluded", e.occurred, e.outcome)


_HANDLERS: dict[type[Any], Any] = {
    ev.PartnerJoined: _partner_joined,
    ev.DocumentLinked: _document_linked,
    ev.AgreementProposed: _simple("proposed"),
    ev.AgreementDraftingStarted: _simple("in drafting"),
    ev.AgreementDrafted: _drafted,
    ev.AgreementNegotiationProgressed: _negotiated,
    ev.AgreementSubmittedForEndorsement: _submitted,
    ev.AgreementEndorsed: _endorsed,
    ev.AgreementSigned: _signed,
    ev.AgreementImplementationStarted: _simple("in implementation"),
    ev.AgreementProgressReported: _progress_reported,
    ev.AgreementExpired: _ended("expired"),
    ev.AgreementRenewed: _renewed,
    ev.AgreementSuperseded: _ended("superseded"),
    ev.PostProposed: _simple("proposed"),
    ev.PostFunded: _post_funded,
    ev.PostStalled: _stalled,
    ev.OfficerRecruited: _recruited,
    ev.OfficerStarted: _started,
    ev.PostVacated: _vacated,
    ev.MeetingPlanned: _meeting_planned,
    ev.MeetingScheduled: _meeting_scheduled,
    ev.MeetingRescheduled: _meeting_scheduled,
    ev.MeetingCancelled: _meeting_cancelled,
    ev.MeetingHeld: _meeting_held,
    ev.ConsultationAnnounced: _announced,
    ev.ConsultationIssued: _issued,
    ev.SubmissionReceived: _submission,
    ev.ConsultationClosed: _closed,
    ev.ConsolidationPlanned: _consolidation_planned,
    ev.ConsultationConsolidated: _consolidated,
    ev.EngagementStarted: _engagement_started,
    ev.EngagementProgressNoted: _progress_noted,
    ev.MilestonePlanned: _milestone_planned,
    ev.MilestoneReached: _milestone_reached,
    ev.EngagementConcluded: _concluded,
}

# The events whose handlers change what is dated (the agenda, the day a meeting was held) or
# what those handlers read (pending endorsements); every other handler leaves both alone. An
# item's dates at any time are therefore the fold of its registration, its revisions and
# these alone (`projections.views.agenda` keeps them by business time on that ground).
DATING: frozenset[type[Any]] = frozenset({
    ev.AgreementSubmittedForEndorsement, ev.AgreementEndorsed, ev.AgreementExpired,
    ev.AgreementSuperseded, ev.MeetingPlanned, ev.MeetingScheduled, ev.MeetingRescheduled,
    ev.MeetingCancelled, ev.MeetingHeld, ev.ConsultationAnnounced, ev.ConsultationIssued,
    ev.ConsultationClosed, ev.ConsolidationPlanned, ev.ConsultationConsolidated,
    ev.MilestonePlanned, ev.MilestoneReached, ev.EngagementConcluded,
})

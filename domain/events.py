"""The events: past-tense facts, frozen, each with an explicit stable topic.

Every item event carries the same provenance (`occurred`, `actor`, `source`, `note`, `ref`,
and the store's `timestamp` as recorded time). Topics are pinned strings, so moving or
renaming a class never orphans stored history.
"""

from __future__ import annotations

from typing import ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.dates import PartialDate
from domain.event_base import InSequence as InSequence
from domain.event_base import ItemEvent as ItemEvent
from domain.event_base import ItemRegistered as ItemRegistered
from domain.event_base import _Applied
from domain.provenance import Source
from domain.shared_events import DocumentLinked as DocumentLinked
from domain.shared_events import EventCorrected as EventCorrected
from domain.shared_events import EventRetracted as EventRetracted
from domain.shared_events import FactCorroborated as FactCorroborated
from domain.shared_events import ItemCancelled as ItemCancelled
from domain.shared_events import ItemNoted as ItemNoted
from domain.shared_events import ItemPostponed as ItemPostponed
from domain.shared_events import OutcomeUnknown as OutcomeUnknown
from domain.shared_events import PartnerJoined as PartnerJoined

# Agreements: joint work plans, memoranda of cooperation or understanding ----------------

class AgreementProposed(ItemEvent):
    TOPIC = "cmsbot.AgreementProposed"


class AgreementDraftingStarted(ItemEvent):
    TOPIC = "cmsbot.AgreementDraftingStarted"


class AgreementDrafted(ItemEvent):
    """A full draft text exists (the report's "has developed")."""

    TOPIC = "cmsbot.AgreementDrafted"
    document: str | None


class AgreementNegotiationProgressed(ItemEvent):
    """Negotiation reached a stage, e.g. "advanced" ("at an advanced stage")."""

    TOPIC = "cmsbot.AgreementNegotiationProgressed"
    stage: str
    topics: list[str]


class AgreementSubmittedForEndorsement(ItemEvent):
    """The text went to a governing body for endorsement at a meeting."""

    TOPIC = "cmsbot.AgreementSubmittedForEndorsement"
    body: str
    meeting: str
    meeting_date: PartialDate | None
    document: str | None


class AgreementEndorsed(ItemEvent):
    """A joint work plan (or MoC, MoU) was endorsed by a governing body at a meeting."""

    TOPIC = "cmsbot.AgreementEndorsed"
    body: str
    meeting: str


class AgreementSigned(ItemEvent):
    TOPIC = "cmsbot.AgreementSigned"
    signatories: list[str]


class AgreementImplementationStarted(ItemEvent):
    TOPIC = "cmsbot.AgreementImplementationStarted"


class AgreementProgressReported(ItemEvent):
    """Progress in implementing the agreement was reported (in a document or to a body)."""

    TOPIC = "cmsbot.AgreementProgressReported"
    summary: str
    document: str | None


class AgreementExpired(ItemEvent):
    TOPIC = "cmsbot.AgreementExpired"


class AgreementRenewed(ItemEvent):
    TOPIC = "cmsbot.AgreementRenewed"
    period: str


class AgreementSuperseded(ItemEvent):
    TOPIC = "cmsbot.AgreementSuperseded"
    by: str


# Posts ----------------------------------------------------------------------------------

class PostProposed(ItemEvent):
    TOPIC = "cmsbot.PostProposed"


class PostFunded(ItemEvent):
    TOPIC = "cmsbot.PostFunded"
    donor: str


class PostStalled(ItemEvent):
    """No progress could be made in establishing the post."""

    TOPIC = "cmsbot.PostStalled"
    reason: str | None


class OfficerRecruited(ItemEvent):
    """An officer was recruited to the post, starting on `start`."""

    TOPIC = "cmsbot.OfficerRecruited"
    officer: str | None
    start: PartialDate | None


class OfficerStarted(ItemEvent):
    TOPIC = "cmsbot.OfficerStarted"
    start: PartialDate


class PostVacated(ItemEvent):
    TOPIC = "cmsbot.PostVacated"


# Meetings and workshops -----------------------------------------------------------------

class MeetingPlanned(ItemEvent):
    """A meeting is foreseen, with a tentative date and perhaps a place."""

    TOPIC = "cmsbot.MeetingPlanned"
    when: PartialDate
    venue: str | None
    venue_tentative: bool


class MeetingScheduled(ItemEvent):
    """A meeting or workshop was scheduled: its dates, venue and organisers."""

    TOPIC = "cmsbot.MeetingScheduled"
    dates: PartialDate
    venue: str | None
    organisers: list[str]


class MeetingRescheduled(ItemEvent):
    TOPIC = "cmsbot.MeetingRescheduled"
    dates: PartialDate
    venue: str | None
    reason: str | None


class MeetingRelocated(ItemEvent):
    """The meeting will be held at another venue than the one said before."""

    TOPIC = "cmsbot.MeetingRelocated"
    venue: str
    reason: str | None


class MeetingCancelled(ItemEvent):
    TOPIC = "cmsbot.MeetingCancelled"
    reason: str | None


class MeetingHeld(ItemEvent):
    """The meeting took place: when, where, who took part and what came out."""

    TOPIC = "cmsbot.MeetingHeld"
    dates: PartialDate
    venue: str | None
    attendees: list[str]
    outcome: str | None


# Consultations --------------------------------------------------------------------------

class ConsultationAnnounced(ItemEvent):
    """A call for submissions is to be issued (e.g. "will be issued shortly")."""

    TOPIC = "cmsbot.ConsultationAnnounced"
    expected: PartialDate | None
    invitees: list[str]


class ConsultationIssued(ItemEvent):
    """The notification calling for submissions was issued."""

    TOPIC = "cmsbot.ConsultationIssued"
    notification: str | None
    invitees: list[str]
    deadline: PartialDate | None


class SubmissionReceived(ItemEvent):
    """A submission came in for the consultation: from whom, and its title."""

    TOPIC = "cmsbot.SubmissionReceived"
    submitter: str
    title: str
    summary: str | None


class ConsultationClosed(ItemEvent):
    TOPIC = "cmsbot.ConsultationClosed"


class ConsolidationPlanned(ItemEvent):
    """The submissions are to be consolidated for a meeting (e.g. StC45, COP12)."""

    TOPIC = "cmsbot.ConsolidationPlanned"
    for_meeting: str
    when: PartialDate | None


class ConsultationConsolidated(ItemEvent):
    TOPIC = "cmsbot.ConsultationConsolidated"
    for_meeting: str
    document: str | None


# Engagements ----------------------------------------------------------------------------

class EngagementStarted(ItemEvent):
    TOPIC = "cmsbot.EngagementStarted"
    topics: list[str]


class EngagementProgressNoted(ItemEvent):
    """Something was done in an ongoing engagement (an input, a contact, a meeting)."""

    TOPIC = "cmsbot.EngagementProgressNoted"
    summary: str


class MilestonePlanned(ItemEvent):
    TOPIC = "cmsbot.MilestonePlanned"
    milestone: str
    when: PartialDate | None


class MilestoneReached(ItemEvent):
    TOPIC = "cmsbot.MilestoneReached"
    milestone: str


class EngagementConcluded(ItemEvent):
    TOPIC = "cmsbot.EngagementConcluded"
    outcome: str | None


# Partners -------------------------------------------------------------------------------

class PartnerRegistered(_Applied, Aggregate.Created):
    """An organisation the Secretariat works with, with the names people type for it."""

    TOPIC: ClassVar[str] = "cmsbot.PartnerRegistered"
    key: str
    acronym: str | None
    name: str
    aliases: list[str]
    category: str | None
    actor: str
    ref: str | None


class PartnerAliasAdded(InSequence, _Applied, Aggregate.Event):
    TOPIC: ClassVar[str] = "cmsbot.PartnerAliasAdded"
    alias: str
    actor: str


# The log's own upkeep ----------------------------------------------------------------------

class VersionGapAcknowledged(InSequence, _Applied, Aggregate.Event):
    """An operator acknowledged that no event is stored at this version of an item (or of a
    partner, channel or digest). It fills the missing version, so that the versions after
    it can be read, and says nothing about the item itself: no state or view changes."""

    TOPIC: ClassVar[str] = "cmsbot.VersionGapAcknowledged"
    reason: str
    occurred: PartialDate  # the day of the acknowledgement
    actor: str
    source: Source
    note: str | None
    ref: str | None


ITEM_EVENTS: tuple[type[ItemEvent], ...] = tuple(
    cls for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, ItemEvent) and cls is not ItemEvent
)

_TOPICAL: tuple[type[_Applied], ...] = (ItemEvent, ItemRegistered, PartnerRegistered,
                                        PartnerAliasAdded, VersionGapAcknowledged,
                                        *ITEM_EVENTS)
for _cls in _TOPICAL:
    register_topic(_cls.TOPIC, _cls)  # type: ignore[attr-defined]

"""The events every kind of item has: partners, documents, corrections, and what happens
to any plan (noted, postponed, cancelled, its outcome unknown, a fact restated)."""

from __future__ import annotations

from typing import Any

from domain.dates import PartialDate
from domain.event_base import ItemEvent


class PartnerJoined(ItemEvent):
    """A partner organisation joined the item (as party, donor, organiser or member)."""

    TOPIC = "cmsbot.PartnerJoined"
    partner: str
    role: str | None


class DocumentLinked(ItemEvent):
    """The item was written up in a document (e.g. its text is in UNEP/CMS/StC44/18.1)."""

    TOPIC = "cmsbot.DocumentLinked"
    document: str
    description: str | None


class EventCorrected(ItemEvent):
    """An earlier event of the item was wrong; `changes` gives its right field values."""

    TOPIC = "cmsbot.EventCorrected"
    corrects: int
    changes: dict[str, Any]
    reason: str


class EventRetracted(ItemEvent):
    """An earlier event of the item should never have been recorded."""

    TOPIC = "cmsbot.EventRetracted"
    retracts: int
    reason: str



class ItemNoted(ItemEvent):
    """Something was noted of the item that changes none of its status (its note says
    what: progress in a negotiation, a contact, a delay not yet dated)."""

    TOPIC = "cmsbot.ItemNoted"


class ItemPostponed(ItemEvent):
    """A planned step of the item moved to a new `date` (`occurred` is when that was
    announced); `step` names it, by default the item's next one."""

    TOPIC = "cmsbot.ItemPostponed"
    date: PartialDate
    step: str | None
    reason: str | None


class ItemCancelled(ItemEvent):
    """A planned thing was called off: the step named by `step`, or else the item itself."""

    TOPIC = "cmsbot.ItemCancelled"
    step: str | None


class OutcomeUnknown(ItemEvent):
    """A pending step is closed without saying how it went (`step`, by default the item's
    next one): the source that would say is not at hand."""

    TOPIC = "cmsbot.OutcomeUnknown"
    step: str | None


class FactCorroborated(ItemEvent):
    """A later document restated the fact recorded at version `corroborates`: the same
    event, date and fields. Its `source` is the document that restated it."""

    TOPIC = "cmsbot.FactCorroborated"
    corroborates: int

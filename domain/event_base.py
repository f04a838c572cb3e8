"""The base of every event: how events apply themselves, keep their sequence, and what
every item event carries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.dates import PartialDate
from domain.errors import VersionGapError
from domain.provenance import Source


class _Applied:
    """Events hand themselves to the aggregate's `when`, which keeps state changes in one place."""

    timestamp: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)

    @property
    def recorded(self) -> datetime:
        """When the store learnt of the event (recorded time, UTC)."""
        return self.timestamp

    @property
    def type_name(self) -> str:
        return type(self).__name__


class InSequence:
    """An event after an aggregate's first. Reading an aggregate whose stored versions skip
    a number fails with a `VersionGapError` that names it and the missing versions, where
    the library would raise its bare OriginatorVersionError (or an AssertionError when the
    registration itself is missing)."""

    originator_id: UUID
    originator_version: int

    def mutate(self, aggregate: Any) -> Any:
        expected = 1 if aggregate is None else aggregate.version + 1
        if aggregate is None or self.originator_version > expected:
            label, key = (aggregate.audit_names() if hasattr(aggregate, "audit_names") else
                          (f"the record {self.originator_id}", str(self.originator_id)))
            raise VersionGapError(label, key, range(expected, max(self.originator_version, 2)))
        return super().mutate(aggregate)  # type: ignore[misc]


class ItemEvent(InSequence, _Applied, Aggregate.Event):
    """Base of every event that happens to a tracked item."""

    TOPIC: ClassVar[str] = "cmsbot.ItemEvent"
    occurred: PartialDate
    actor: str
    source: Source
    note: str | None
    ref: str | None


class ItemRegistered(_Applied, Aggregate.Created):
    """An item began to be tracked: what it is called and who it is with."""

    TOPIC: ClassVar[str] = "cmsbot.ItemRegistered"
    key: str
    title: str
    aliases: list[str]
    partners: list[str]
    mandates: list[str]
    documents: list[str]
    period: str | None
    subtype: str | None
    summary: str | None
    occurred: PartialDate
    actor: str
    source: Source
    note: str | None
    ref: str | None

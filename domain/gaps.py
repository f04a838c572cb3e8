"""Acknowledging a gap in an aggregate's versions, so that it can be read again.

A gap is a version at which no event is stored while later versions are: a write that
was lost. Nothing is edited or deleted to repair it. An acknowledgement is a new event at
each missing version, saying who acknowledged the gap and why; the aggregate then reads
every version in turn, as any other does, and a gap not acknowledged still fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain import events as ev
from domain.errors import InvalidFieldError, RegistrationMissingError
from domain.provenance import Fact


def missing_versions(versions: Sequence[int]) -> list[int]:
    """The versions below the highest of `versions` at which nothing is stored."""
    stored = set(versions)
    return [v for v in range(1, max(stored, default=0) + 1) if v not in stored]


def acknowledge_gap(aggregate_id: UUID, missing: Sequence[int], fact: Fact, *, reason: str,
                    ) -> list[ev.VersionGapAcknowledged]:
    """The events that fill `missing` versions of the aggregate, one for each."""
    if not reason.strip():
        raise InvalidFieldError("acknowledging a gap needs a reason (what happened, and "
                                "who checked)")
    if not missing:
        raise InvalidFieldError("there is no missing version to acknowledge")
    if min(missing) < 2:
        raise RegistrationMissingError(
            "version 1 is the registration: without it nothing of the item can be read, and "
            "a gap there cannot be acknowledged")
    fields = fact.event_fields()
    if fields["timestamp"] is None:
        fields["timestamp"] = ev.VersionGapAcknowledged.create_timestamp()
    return [ev.VersionGapAcknowledged(  # type: ignore[call-arg]
        originator_id=aggregate_id, originator_version=version, reason=reason.strip(),
        **fields) for version in sorted(set(missing))]

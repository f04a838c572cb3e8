"""`cmsbot audit repair-gap`: acknowledging a gap in an item's versions, so that the item
can be read and recorded on again.

A gap is a version at which no event is stored while later versions are (a write that
was lost). Until it is acknowledged the item cannot be read, and recording on it says so.
The repair edits and deletes nothing: it records one `VersionGapAcknowledged` event at each
missing version, saying who ran it and why, so that every version reads in turn and every
id stays what it was. It refuses while the log does not verify, because an event deleted
after it was chained leaves a gap too, and acknowledging that would hide the deletion.
Running it again finds nothing to do.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine

from cmsbot.app.auth import Principal
from cmsbot.audit.consistency import names_of
from cmsbot.audit.verify import verify
from cmsbot.eventstore.tracker import Tracker
from cmsbot.wording import count
from domain import events as ev
from domain.dates import PartialDate
from domain.errors import RegistrationMissingError, UnknownItemError
from domain.gaps import acknowledge_gap, missing_versions
from domain.items import item_id, partner_id
from domain.provenance import Fact, Source


class RepairRefusedError(Exception):
    """The gap cannot be acknowledged now; nothing was recorded."""


@dataclass(frozen=True)
class GapRepair:
    """What a repair did: the versions it acknowledged, and those acknowledged before."""

    label: str
    key: str
    versions: int  # the highest version of the item
    acknowledged: tuple[int, ...]
    earlier: tuple[int, ...]
    actor: str
    reason: str

    def __str__(self) -> str:
        if not self.acknowledged:
            before = (f" ({_versions(self.earlier)} acknowledged before)" if self.earlier
                      else "")
            return (f"Nothing to repair: versions 1–{self.versions} of {self.label} run "
                    f"without a gap{before}.")
        return (f"Acknowledged the gap in {self.label}: no event is stored at "
                f"{_versions(self.acknowledged)}. Recorded VersionGapAcknowledged there "
                f"({count(len(self.acknowledged), 'event')}), by {self.actor}: {self.reason}\n"
                f"The item can be read and recorded on again; `cmsbot audit verify` lists "
                "the gap as acknowledged, and `cmsbot audit log --item "
                f"{self.key}` shows the acknowledgement.")


def _versions(versions: tuple[int, ...]) -> str:
    return (f"version {versions[0]}" if len(versions) == 1 else
            "versions " + ", ".join(map(str, versions)))


class RepairStore(Protocol):
    """What a repair uses: the event store, the database the chain is verified in, and the
    catch-up that a writer runs (the chain, then the views)."""

    tracker: Tracker
    engine: Engine

    def catch_up(self) -> int: ...


def repair_gap(container: RepairStore, principal: Principal, key: str, *, reason: str,
               now: datetime) -> GapRepair:
    """Acknowledge every missing version of the item (or partner) `key`, or of the aggregate
    with that id; the principal must be an editor."""
    principal.require_editor()
    tracker = container.tracker
    aggregate_id, stored = _find(tracker, key)
    label, key = names_of(tracker.mapper.to_domain_event(stored[0])) if (
        stored[0].originator_version == 1) else (f"the record {aggregate_id}", key)
    missing = missing_versions([s.originator_version for s in stored])
    done = GapRepair(label, key, stored[-1].originator_version, (), _earlier(stored),
                     principal.id, reason)
    if not missing:
        return done
    if 1 in missing:
        raise RegistrationMissingError(
            f"{label} has no registration at version 1: nothing of it can be read, and a "
            "gap there cannot be acknowledged; only a copy of the log from before (an "
            "export, a backup) can restore it")
    container.catch_up()  # chain what was recorded, so that verify covers all of it
    checked = verify(container.engine, tracker)
    if checked.problem is not None:
        raise RepairRefusedError(
            f"the log does not verify ({checked.problem}). An event deleted after it was "
            "chained leaves a gap too, and acknowledging it would hide that: find out what "
            "happened first (`cmsbot audit verify`, docs/audit.md); nothing was recorded")
    fact = Fact(PartialDate.parse(now.date().isoformat()), principal.id,
                Source(chat=principal.id))
    events = acknowledge_gap(aggregate_id, missing, fact, reason=reason)
    try:
        tracker.save(*events)
    except IntegrityError:
        # Someone acknowledged it at the same moment: theirs stands, and there is no gap.
        return GapRepair(label, key, done.versions, (), tuple(missing), principal.id, reason)
    container.catch_up()
    return GapRepair(label, key, done.versions, tuple(missing), done.earlier, principal.id,
                     reason.strip())


def _find(tracker: Tracker, key: str) -> tuple[UUID, list[Any]]:
    """The aggregate the key names (an item's key, a partner's, or an id), and its stored
    events in version order."""
    candidates = [item_id(key), partner_id(key)]
    with contextlib.suppress(ValueError):  # a key, not an id
        candidates.append(UUID(key))
    for candidate in candidates:
        stored = list(tracker.recorder.select_events(candidate))
        if stored:
            return candidate, stored
    raise UnknownItemError(f"nothing is tracked under the key {key!r}")


def _earlier(stored: list[Any]) -> tuple[int, ...]:
    return tuple(s.originator_version for s in stored
                 if s.topic == ev.VersionGapAcknowledged.TOPIC)

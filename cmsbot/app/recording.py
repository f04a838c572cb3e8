"""Recording one fact about an item: authorized, checked by the item's own rules, saved
as one event, and retried when another writer saved the same item first.

The rules a fact's fields must meet beyond their types (named partners exist; a
correction's changes take the corrected event's types) are here, and the import
(`cmsbot.app.importing`) applies the same ones to every event of a history file.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError

from cmsbot.app.auth import Principal
from cmsbot.eventstore.tracker import Tracker
from cmsbot.history_entries import partners_named
from domain.catalogue import SPECS, FieldSpec, coerce_value, lookup
from domain.dates import PartialDate
from domain.describe import describe
from domain.errors import CorrectionTargetError, UnknownItemError
from domain.events import ItemEvent
from domain.items import Item, partner_id
from domain.provenance import Fact, Source

log = logging.getLogger(__name__)
T = TypeVar("T")

# The summary of a record whose ref was recorded before: nothing new was recorded.
ALREADY_RECORDED = "already recorded"



@dataclass(frozen=True)
class Recorded:
    item_key: str
    title: str
    version: int
    summary: str


class Recorder:
    """Records facts about items: one command, one save, retried on a concurrent write."""

    def __init__(self, tracker: Tracker, *, attempts: int = 12,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self.tracker, self.attempts, self.today = tracker, attempts, today

    def record(self, principal: Principal, *, key: str, what: str, fields: dict[str, Any],
               occurred: PartialDate | str, source: Source, note: str | None = None,
               ref: str | None = None) -> Recorded:
        """Record that `what` happened to the item `key`; raises a DomainError if it makes
        no sense, and NotAuthorizedError unless the principal is an editor."""
        principal.require_editor()
        when = PartialDate.parse(occurred).within_horizon(self.today())

        def attempt() -> Recorded:
            # The cached item, this thread's alone until saved (dropped if anything fails).
            with self.tracker.item_checked_out(key) as item:
                if ref and item.has_recorded(ref):
                    return Recorded(key, item.state.title, item.version, ALREADY_RECORDED)
                event = self._apply(principal, item, what, fields, when, source, note, ref)
                title = item.state.title
            return Recorded(key, title, event.originator_version,
                            describe(event, self._partner_name))

        return retrying(attempt, self.attempts)

    def _apply(self, principal: Principal, item: Item, what: str, fields: dict[str, Any],
               when: PartialDate, source: Source, note: str | None, ref: str | None,
               ) -> ItemEvent:
        """Run the command on the item and save the one event it raised."""
        spec = lookup(item.KIND, what)
        values = spec.coerce(fields, today=self.today())
        check_partners(values, lambda partner: self.tracker.exists(partner_id(partner)))
        if spec.command == "correct":
            values["changes"] = typed_changes(item, values["corrects"], values["changes"])
        fact = Fact(when, principal.id, source, note, ref)
        getattr(item, spec.command)(fact, **values)
        [event] = item.pending_events  # the one this command raised: what is confirmed
        self.tracker.save(item)
        return event  # type: ignore[return-value]  # an item raises item events

    def _partner_name(self, key: str) -> str:
        try:
            partner = self.tracker.partner(key)
        except UnknownItemError:
            return key
        return partner.acronym or partner.name


class ConcurrentWriteError(Exception):
    """A write lost the race too many times; nothing was recorded."""


def retrying(attempt: Callable[[], T], attempts: int = 12) -> T:
    """Run `attempt` (load, command, save) until no other writer saved the same aggregate
    first; each attempt must load afresh (and evict what it mutated when it fails)."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except IntegrityError:
            # A short random pause, so that racing writers spread out.
            log.info("concurrent write, retrying (attempt %d)", number)
            time.sleep(random.uniform(0, 0.01 * number))  # noqa: S311 - not security
    raise ConcurrentWriteError("it kept changing while recording; try again")


def check_partners(fields: Mapping[str, Any], known: Callable[[str], bool]) -> None:
    """Raise UnknownItemError if the fields (checked) name a partner `known` does not know."""
    for key in partners_named(fields):
        if not known(key):
            raise UnknownItemError(f"no partner has the key {key!r}")


def typed_changes(item: Item, corrects: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Turn a correction's raw values into the corrected event's own field types."""
    if not 1 <= corrects <= len(item.history):
        raise CorrectionTargetError(f"{item.state.title} has no event {corrects}")
    target = item.history[corrects - 1]
    if target.type_name == "ItemRegistered":
        return changes
    spec = next((s for s in SPECS if s.event_class is type(target)), None)
    if spec is None:  # an acknowledged gap, not a recorded fact: `Item.correct` refuses it
        return changes
    typed: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "occurred":
            typed[name] = PartialDate.parse(value)
            continue
        field = next((f for f in spec.fields if f.name == name), FieldSpec(name, "str", False))
        typed[name] = coerce_value(field, value)
    return typed

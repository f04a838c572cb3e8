"""Application services: every write goes through here, authorized, and is saved whole."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from cmsbot.history import History, HistoryFileError
from cmsbot.store import Tracker
from domain.catalogue import SPECS, FieldSpec, coerce_value, lookup
from domain.dates import PartialDate
from domain.describe import describe
from domain.errors import CorrectionTargetError, DomainError, UnknownItemError
from domain.items import ITEM_CLASSES, Item, Partner, item_id, partner_id
from domain.provenance import Fact, Source
from projections.bulk import collector_paused

log = logging.getLogger(__name__)
T = TypeVar("T")

# Fields whose values name partners by key; unknown keys are refused.
_PARTNER_FIELDS = ("partner", "donor", "organisers")


class NotAuthorizedError(Exception):
    """The person asking may read but not record."""


@dataclass(frozen=True)
class Principal:
    """Who is asking, and whether they may record."""

    id: str
    may_record: bool

    def require_editor(self) -> None:
        if not self.may_record:
            raise NotAuthorizedError(
                "Only editors may record updates; ask a Secretariat editor to add you.")


LOCAL_OPERATOR = Principal("local", may_record=True)


@dataclass(frozen=True)
class Recorded:
    item_key: str
    title: str
    version: int
    summary: str


@dataclass(frozen=True)
class ImportResult:
    partners: int
    items: int
    events: int
    skipped: int

    def __str__(self) -> str:
        if not (self.partners or self.items or self.events):
            return f"Nothing new: all {self.skipped} entries were recorded before."
        return (f"Recorded {self.events} events, {self.items} new items and "
                f"{self.partners} new partners ({self.skipped} entries already recorded).")


class Recorder:
    """Records facts about items: one command, one save, retried on a concurrent write."""

    def __init__(self, tracker: Tracker, *, attempts: int = 12) -> None:
        self.tracker, self.attempts = tracker, attempts

    def record(self, principal: Principal, *, key: str, what: str, fields: dict[str, Any],
               occurred: PartialDate | str, source: Source, note: str | None = None,
               ref: str | None = None) -> Recorded:
        """Record that `what` happened to the item `key`; raises a DomainError if it makes
        no sense, and NotAuthorizedError unless the principal is an editor."""
        principal.require_editor()
        when = PartialDate.parse(occurred)

        def attempt() -> Recorded:
            item = self.tracker.item(key)
            try:
                return self._apply(principal, item, key, what, fields, when, source, note,
                                   ref)
            except BaseException:
                self.tracker.forget(item.id)  # its cached copy may hold the failed event
                raise

        return retrying(attempt, self.attempts)

    def _apply(self, principal: Principal, item: Item, key: str, what: str,
               fields: dict[str, Any], when: PartialDate, source: Source, note: str | None,
               ref: str | None) -> Recorded:
        if ref and item.has_recorded(ref):
            return Recorded(key, item.state.title, item.version, "already recorded")
        spec = lookup(item.KIND, what)
        values = spec.coerce(fields)
        self._check_partners(values)
        if spec.command == "correct":
            values["changes"] = _typed_changes(item, values["corrects"], values["changes"])
        fact = Fact(when, principal.id, source, note, ref)
        getattr(item, spec.command)(fact, **values)
        self.tracker.save(item)
        return Recorded(key, item.state.title, item.version,
                        describe(item.history[-1], self._partner_name))

    def _check_partners(self, values: dict[str, Any]) -> None:
        for name in _PARTNER_FIELDS:
            value = values.get(name)
            for key in [value] if isinstance(value, str) else value or []:
                if not self.tracker.exists(partner_id(key)):
                    raise UnknownItemError(f"no partner has the key {key!r}")

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


def _typed_changes(item: Item, corrects: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Turn a correction's raw values into the corrected event's own field types."""
    if not 1 <= corrects <= len(item.history):
        raise CorrectionTargetError(f"{item.state.title} has no event {corrects}")
    target = item.history[corrects - 1]
    if target.type_name == "ItemRegistered":
        return changes
    spec = next(s for s in SPECS if s.event_class is type(target))
    typed: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "occurred":
            typed[name] = PartialDate.parse(value)
            continue
        field = next((f for f in spec.fields if f.name == name), FieldSpec(name, "str", False))
        typed[name] = coerce_value(field, value)
    return typed


class Importer:
    """Records a checked history file: all of it in one transaction, or nothing."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def run(self, principal: Principal, history: History) -> ImportResult:
        principal.require_editor()
        touched: list[UUID] = []
        try:
            with collector_paused():
                return self._run(history, touched)
        except BaseException:
            # Cached copies of the existing items may hold events that were never saved.
            self.tracker.forget(*touched)
            raise

    def _run(self, history: History, touched: list[UUID]) -> ImportResult:
        problems: list[tuple[int, str]] = []
        partners: list[Partner] = []
        known = set()
        skipped = 0
        saved = self.tracker.existing([partner_id(p.key) for p in history.partners]
                                      + [item_id(entry.key) for entry in history.items])
        for p in history.partners:
            known.add(p.key)
            if partner_id(p.key) in saved:
                skipped += 1
                continue
            partners.append(Partner.register(
                key=p.key, name=p.name, actor=history.actor, acronym=p.acronym,
                aliases=p.aliases, category=p.category, ref=history.ref("partner", p.key)))

        def is_partner(key: str) -> bool:
            return key in known or self.tracker.exists(partner_id(key))

        items: list[Item] = []
        new_items = events = 0
        for entry in history.items:
            for key in entry.details["partners"]:
                if not is_partner(key):
                    problems.append((entry.line, f"no partner has the key {key!r}"))
            source = Source(history.document, entry.paragraph)
            if item_id(entry.key) in saved:
                item = self.tracker.item(entry.key)
                touched.append(item.id)
                if item.KIND is not entry.kind:
                    problems.append((entry.line, f"{entry.key!r} is already tracked as "
                                                 f"{_a(item.KIND.value)}, not "
                                                 f"{_a(entry.kind.value)}"))
                    continue
                skipped += 1
            else:
                fact = Fact(entry.occurred, history.actor, source, None,
                            history.ref(entry.key))
                item = ITEM_CLASSES[entry.kind].register(fact, key=entry.key,
                                                         title=entry.title, **entry.details)
                new_items += 1
            for event in entry.events:
                ref = history.ref(entry.key, event.id)
                if item.has_recorded(ref):
                    skipped += 1
                    continue
                try:
                    values = dict(event.raw)
                    for name in _PARTNER_FIELDS:
                        value = values.get(name)
                        for key in [value] if isinstance(value, str) else value or []:
                            if not is_partner(key):
                                raise UnknownItemError(f"no partner has the key {key!r}")
                    for name in ("corrects", "retracts"):
                        if name in values:
                            values[name] = _version_of(item, history, entry.key, values[name])
                    if "changes" in values:
                        values["changes"] = _typed_changes(item, values["corrects"],
                                                           values["changes"])
                    fact = Fact(event.occurred, history.actor,
                                Source(history.document, event.paragraph), event.note, ref)
                    getattr(item, event.spec.command)(fact, **values)
                    events += 1
                except DomainError as error:
                    problems.append((event.line, str(error)))
                except TypeError as error:
                    problems.append((event.line, f"wrong fields for '{event.spec.name}': {error}"))
            items.append(item)
        if problems:
            raise HistoryFileError(history.name, problems)
        self.tracker.save_all(*partners, *items)
        return ImportResult(len(partners), new_items, events, skipped)


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _version_of(item: Item, history: History, item_key: str, target: Any) -> int:
    """A correction names its target by version number, by entry id (in this file, or in
    an earlier one when only one entry of the item has that id) or by full ref."""
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    wanted = str(target)
    same_file = history.ref(item_key, wanted)
    refs = {event.ref: event.originator_version for event in item.history if event.ref}
    if same_file in refs:
        return refs[same_file]
    if wanted in refs:
        return refs[wanted]
    elsewhere = [v for ref, v in refs.items() if ref.endswith(f"#{item_key}/{wanted}")]
    if len(elsewhere) == 1:
        return elsewhere[0]
    raise CorrectionTargetError(f"{item_key!r} has no earlier event with id {wanted!r}"
                                + (" in one file only; give its full ref" if elsewhere else ""))

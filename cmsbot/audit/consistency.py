"""Checking the log against itself: what the hash chain cannot see.

The chain proves that the log is what was recorded. These checks say whether what was
recorded can be read and holds together: each aggregate's versions run 1, 2, 3… without a
gap or a repeat and in log order; its first event registers it, under the id its key
gives, and no other does; every event is of a known, pinned type for its kind of
aggregate, and its stored data reads as that type; corrections and retractions point at
an earlier event of the same item that can be corrected, and a restatement
(`FactCorroborated`) at an earlier fact of it that can be restated; no ref (the key that makes a
record exactly-once) is recorded twice on one aggregate; every partner an event names is
registered before it. A gap that an operator acknowledged (`cmsbot audit repair-gap`) is
reported as such, not as a failure.

They run in `verify`'s one pass over the log and keep a few numbers for each aggregate
(one byte per event, for what corrections point at) and a filter of the refs seen (eight
bytes per event), never the events themselves. The module is over 400 lines because each
check needs its own words for an auditor, and all of them share that one pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, MapperDeserialisationError, Notification
from eventsourcing.utils import TopicError, resolve_topic

from domain import channels as ch
from domain import events as ev
from domain import outlines as ol
from domain.catalogue import SPECS
from domain.dates import PartialDate
from domain.items import UNCORRECTABLE, Partner, item_id, partner_id
from domain.provenance import Source
from domain.state import KIND_BY_TOPIC, Kind

KEPT = 1000  # problems kept to report; beyond this they are only counted

_ITEM, _PARTNER, _CHANNEL, _DIGEST, _OUTLINE = "item", "partner", "channel", "digest", "outline"
_FAMILIES: dict[type[Any], str] = {
    ev.ItemRegistered: _ITEM, **dict.fromkeys(ev.ITEM_EVENTS, _ITEM),
    ev.PartnerRegistered: _PARTNER, ev.PartnerAliasAdded: _PARTNER,
    ch.ChannelRegistered: _CHANNEL, ch.ChannelSubscribed: _CHANNEL,
    ch.ChannelUnsubscribed: _CHANNEL, ch.ChannelFollowed: _CHANNEL,
    ch.ChannelUnfollowed: _CHANNEL,
    ch.DigestClaimed: _DIGEST, ch.DigestReclaimed: _DIGEST, ch.DigestPosted: _DIGEST,
    ol.ReportOutlined: _OUTLINE, ol.ReportOutlineRevised: _OUTLINE,
}
# The event that registers each family, and the aggregate types it may register.
_REGISTERS: dict[type[Any], frozenset[str]] = {
    ev.ItemRegistered: frozenset(KIND_BY_TOPIC),
    ev.PartnerRegistered: frozenset({Partner.TOPIC}),
    ch.ChannelRegistered: frozenset({ch.Channel.TOPIC}),
    ch.DigestClaimed: frozenset({ch.Digest.TOPIC}),
    ol.ReportOutlined: frozenset({ol.ReportOutline.TOPIC}),
}
_STORABLE: tuple[type[Any], ...] = (*_FAMILIES, ev.VersionGapAcknowledged)
# The kind of item an event belongs to (None: every kind), from the catalogue.
_KIND_OF: dict[type[Any], Kind | None] = {spec.event_class: spec.kind for spec in SPECS}
_REVISIONS = (ev.EventCorrected, ev.EventRetracted)


@dataclass(frozen=True)
class Inconsistency:
    """One way in which the log does not hold together, where it shows."""

    position: int
    label: str  # the item's title and key, where known
    version: int
    reason: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.label}, version {self.version}: {self.reason}"


@dataclass(frozen=True)
class AcknowledgedGap:
    """A version at which no event is stored, acknowledged by an operator."""

    label: str
    key: str
    version: int
    position: int  # of the acknowledgement
    actor: str
    reason: str
    recorded: datetime

    def __str__(self) -> str:
        return (f"{self.label}: no event at version {self.version}; acknowledged by "
                f"{self.actor} at position {self.position} ({self.recorded:%Y-%m-%d %H:%M} "
                f"UTC): {self.reason}")


@dataclass(frozen=True)
class _Type:
    """What the checks need to know of a stored event type."""

    cls: type[Any]
    code: int  # one byte, kept for each version of an aggregate
    family: str | None  # None: any (an acknowledged gap)
    fields: frozenset[str]
    required: frozenset[str]  # the fields without a default, which every stored state has
    checks: tuple[tuple[str, tuple[type[Any], ...]], ...]  # field, types it may hold


_SIMPLE: dict[str, tuple[type[Any], ...]] = {
    "PartialDate": (PartialDate,), "Source": (Source,), "str": (str,), "int": (int,),
    "bool": (bool,), "datetime": (datetime,), "UUID": (UUID,),
}


def _field_types(annotation: object) -> tuple[type[Any], ...] | None:
    """The types a field's value may have, from its annotation; None when not checked."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    optional = text.endswith("| None")
    base = text.removesuffix("| None").strip()
    types = ((list,) if base.startswith("list") else (dict,) if base.startswith("dict")
             else _SIMPLE.get(base))
    if types is None:
        return None
    return (*types, type(None)) if optional else types


def _types() -> dict[str, _Type]:
    known: dict[str, _Type] = {}
    for code, cls in enumerate(_STORABLE, 1):
        fields = dataclasses.fields(cls)
        checks = tuple((f.name, types) for f in fields
                       if f.name not in ("originator_id", "originator_version")
                       and (types := _field_types(f.type)) is not None)
        required = frozenset(f.name for f in fields if f.default is dataclasses.MISSING
                             and f.default_factory is dataclasses.MISSING)
        known[cls.TOPIC] = _Type(cls, code, _FAMILIES.get(cls),
                                 frozenset(f.name for f in fields), required, checks)
    return known


_TYPES = _types()
_BY_CODE = {t.code: t for t in _TYPES.values()}
_ACKNOWLEDGED = _TYPES[ev.VersionGapAcknowledged.TOPIC].code
_REVISION_CODES = frozenset(_TYPES[cls.TOPIC].code for cls in _REVISIONS)
_CORROBORATION = _TYPES[ev.FactCorroborated.TOPIC].code
_MANY = 65_536  # a jump in versions beyond this stops keeping what each version is


def _partners_named(event: Any) -> list[str]:
    """The partner keys an event names, which must be registered before it."""
    if isinstance(event, ev.ItemRegistered):
        return list(event.partners)
    if isinstance(event, ev.PartnerJoined):
        return [event.partner]
    if isinstance(event, ev.PostFunded):
        return [event.donor]
    if isinstance(event, ev.MeetingScheduled):
        return list(event.organisers)
    return []


class _Aggregate:
    """What the checks remember of one aggregate."""

    __slots__ = ("family", "holes", "key", "kind", "label", "retracted", "top", "versions")

    def __init__(self, aggregate_id: UUID) -> None:
        self.label, self.key = f"the record {aggregate_id}", str(aggregate_id)
        self.family: str | None = None
        self.kind: Kind | None = None
        self.top = 0  # the highest version seen
        self.versions: bytearray | None = bytearray()  # the type code at each version
        self.holes: list[list[int]] = []  # [first, last, position] of each gap
        self.retracted: set[int] | None = None

    def hole_at(self, version: int) -> list[int] | None:
        return next((h for h in self.holes if h[0] <= version <= h[1]), None)

    def fill(self, hole: list[int], version: int) -> None:
        first, last, position = hole
        self.holes.remove(hole)
        self.holes.extend([part for part in ([first, version - 1, position],
                                             [version + 1, last, position])
                           if part[0] <= part[1]])

    def code_at(self, version: int) -> int:
        """The type code of the event at `version` (0: unknown, unreadable or none)."""
        versions = self.versions
        return versions[version - 1] if versions is not None and version <= len(versions) else 0

    def keep(self, version: int, code: int) -> None:
        versions = self.versions
        if versions is None:
            return
        if version > len(versions) + _MANY:
            self.versions = None  # a wild version number: stop keeping them
            return
        if version > len(versions):
            versions.extend(bytes(version - len(versions)))
        versions[version - 1] = code


class _Filter:
    """The (aggregate, ref) pairs seen so far, as a Bloom filter: 8 bytes for each event of
    the log, where a set of their hashes takes some 70. It may say that a pair was seen when
    it was not (about once in 70,000 events), never the other way; `finish` confirms each
    pair it reports from the store."""

    HASHES = 4

    def __init__(self, events: int) -> None:
        size = 1 << max(20, (64 * max(events, 1) - 1).bit_length())  # bits, 64 an event
        self.mask, self.bits = size - 1, bytearray(size >> 3)

    def add(self, value: object) -> bool:
        """Add the value; True when it was (probably) there already."""
        hashed = hash(value)
        first, step = hashed & 0xFFFFFFFF, ((hashed >> 32) & 0xFFFFFFFF) | 1
        bits, seen = self.bits, True
        for number in range(self.HASHES):
            index = (first + number * step) & self.mask
            byte, bit = index >> 3, 1 << (index & 7)
            if not bits[byte] & bit:
                bits[byte] |= bit
                seen = False
        return seen


class Consistency:
    """The checks, fed the log's entries in order; `finish` once after the last."""

    def __init__(self, mapper: Mapper[Any],
                 refs_of: Callable[[UUID], Iterable[tuple[int, str | None]]], *,
                 events: int) -> None:
        # refs_of: (version, ref) of each event of one aggregate, read from the store, to
        # confirm a ref that looks recorded twice. events: about how many the log holds.
        self.mapper, self.refs_of = mapper, refs_of
        self.aggregates: dict[UUID, _Aggregate] = {}
        self.partners: set[str] = set()
        self.refs = _Filter(events)
        self.suspects: dict[tuple[UUID, str], int] = {}  # a ref maybe seen before: position
        self.gapped: set[_Aggregate] = set()
        self.last_id = 0
        self._problems: list[tuple[int, _Aggregate | None, int, str]] = []
        self.more = 0  # problems beyond those kept
        self._acknowledged: list[tuple[_Aggregate, int, int, Any]] = []
        self.problems: list[Inconsistency] = []
        self.acknowledged: list[AcknowledgedGap] = []

    def _problem(self, position: int, aggregate: _Aggregate | None, version: int,
                 reason: str) -> None:
        if len(self._problems) < KEPT:
            self._problems.append((position, aggregate, version, reason))
        else:
            self.more += 1

    # One event --------------------------------------------------------------------------

    def feed(self, position: int, stored: Notification) -> None:
        if stored.id <= self.last_id:
            self._problem(position, None, stored.originator_version,
                          f"its log id {stored.id} does not follow the previous event's "
                          f"{self.last_id}: the log's order was changed")
        self.last_id = stored.id
        aggregate_id = stored.originator_id
        if not isinstance(aggregate_id, UUID):
            aggregate_id = UUID(aggregate_id)
        aggregate = self.aggregates.get(aggregate_id)
        if aggregate is None:
            aggregate = self.aggregates[aggregate_id] = _Aggregate(aggregate_id)
        version = stored.originator_version
        known = _TYPES.get(stored.topic)
        event, reason = self._read(stored, known)
        if not self._in_sequence(position, aggregate, version, known, event):
            return
        aggregate.keep(version, known.code if known is not None and event is not None else 0)
        if reason is not None:
            self._problem(position, aggregate, version, reason)
        if reason is not None or known is None:
            return
        self._check(position, aggregate, version, known, event)

    def _read(self, stored: Notification, known: _Type | None) -> tuple[Any, str | None]:
        if known is None:
            try:
                cls = resolve_topic(stored.topic)
            except TopicError:
                return None, (f"its type {stored.topic!r} is not one cmsbot knows: nothing "
                              "can read it")
            pinned = getattr(cls, "TOPIC", None)
            if pinned == stored.topic:
                return None, (f"its type {stored.topic!r} is not one that is ever recorded "
                              "by itself")
            return None, (f"its type is stored as {stored.topic!r}, not under a pinned name"
                          + (f" ({pinned!r})" if isinstance(pinned, str) else "")
                          + ": moving the class in the code would orphan it")
        try:
            event = self.mapper.to_domain_event(stored)
        except (MapperDeserialisationError, TopicError, ValueError, TypeError,
                KeyError) as error:
            return None, f"its stored data cannot be read as {_a(known.cls.__name__)}: {error}"
        state = vars(event)
        missing = known.required - state.keys()
        extra = state.keys() - known.fields
        if missing or extra:
            said = [f"lacks {', '.join(sorted(missing))}" if missing else "",
                    f"has {', '.join(sorted(extra))}, which {_a(known.cls.__name__)} does not"
                    if extra else ""]
            return None, (f"its stored data {' and '.join(s for s in said if s)}: it "
                          f"cannot be read as {_a(known.cls.__name__)}")
        wrong = [name for name, types in known.checks if name in state and (
                 not isinstance(state[name], types)
                 or (types[0] is int and isinstance(state[name], bool)))]
        if wrong:
            return None, (f"its stored data has the wrong type of value for "
                          f"{', '.join(wrong)}: it cannot be read as {_a(known.cls.__name__)}")
        return event, None

    def _in_sequence(self, position: int, aggregate: _Aggregate, version: int,
                     known: _Type | None, event: Any) -> bool:
        """Whether the event takes its place in the aggregate's versions (False: a version
        stored twice, or an impossible one)."""
        marker = known is not None and known.code == _ACKNOWLEDGED
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self._problem(position, aggregate, 0, f"its version {version!r} is not a "
                                                  "whole number from 1")
            return False
        top = aggregate.top
        if version > top:
            if version > top + 1:
                aggregate.holes.append([top + 1, version - 1, position])
                self.gapped.add(aggregate)
            aggregate.top = version
            if marker:
                self._problem(position, aggregate, version,
                              "it acknowledges a gap, but no version before it is missing")
            return True
        hole = aggregate.hole_at(version)
        if hole is None:
            self._problem(position, aggregate, version, "this version is stored twice")
            return False
        aggregate.fill(hole, version)
        if marker and version == 1:
            self._problem(position, aggregate, version,
                          "it acknowledges a missing registration, which cannot be read "
                          "without one")
        elif marker and event is not None:
            self._acknowledged.append((aggregate, version, position, event))
        elif not marker:
            self._problem(position, aggregate, version,
                          f"it was recorded after version {top}: the item's events are out "
                          "of order in the log")
        return True

    def _check(self, position: int, aggregate: _Aggregate, version: int, known: _Type,
               event: Any) -> None:
        cls = known.cls
        if cls in _REGISTERS:
            if version != 1:
                self._problem(position, aggregate, version,
                              f"a second registration ({cls.__name__}): only version 1 "
                              "registers an aggregate")
            else:
                self._registered(position, aggregate, event)
            return
        if known.family is None:  # an acknowledged gap fits every kind
            return
        if version == 1:
            self._problem(position, aggregate, version,
                          f"its first event is {_a(cls.__name__)}, not a registration")
        elif aggregate.family is not None and known.family != aggregate.family:
            self._problem(position, aggregate, version,
                          f"{_a(cls.__name__)} is not an event of {_a(aggregate.family)}")
        elif (kind := _KIND_OF.get(cls)) is not None and aggregate.kind not in (None, kind):
            self._problem(position, aggregate, version,
                          f"{_a(cls.__name__)} is an event of {_a(kind.value)}, not of "
                          f"{_a(str(aggregate.kind))}")
        if isinstance(event, _REVISIONS):
            self._revision(position, aggregate, version, event)
        elif isinstance(event, ev.FactCorroborated):
            self._corroboration(position, aggregate, version, event.corroborates)
        self._named(position, aggregate, version, event)
        self._ref(position, event)

    def _registered(self, position: int, aggregate: _Aggregate, event: Any) -> None:
        topic = getattr(event, "originator_topic", None)
        cls = type(event)
        if topic not in _REGISTERS[cls]:
            self._problem(position, aggregate, 1, f"it registers an aggregate of type "
                                                  f"{topic!r}, which {_a(cls.__name__)} cannot")
        aggregate.label, aggregate.key = names_of(event)
        aggregate.family = _FAMILIES[cls]
        if isinstance(event, ev.ItemRegistered):
            aggregate.kind = KIND_BY_TOPIC.get(str(topic))
            expected = item_id(event.key)
        elif isinstance(event, ev.PartnerRegistered):
            expected = partner_id(event.key)
            self.partners.add(event.key)
        elif isinstance(event, ch.ChannelRegistered):
            expected = ch.channel_id(event.channel)
        elif isinstance(event, ol.ReportOutlined):
            expected = ol.outline_id(event.document)
        else:
            expected = ch.digest_id(event.channel, event.period)
        if event.originator_id != expected:
            self._problem(position, aggregate, 1,
                          f"it is stored under the id {event.originator_id}, not the one "
                          f"its key gives ({expected}): nothing finds it by its key")
        if aggregate.family in (_ITEM, _PARTNER):
            self._named(position, aggregate, 1, event)
            self._ref(position, event)

    def _revision(self, position: int, aggregate: _Aggregate, version: int,
                  event: ev.EventCorrected | ev.EventRetracted) -> None:
        corrects = isinstance(event, ev.EventCorrected)
        target = event.corrects if isinstance(event, ev.EventCorrected) else event.retracts
        reason = _pointer_problem(aggregate, version, "corrects" if corrects else "retracts",
                                  target)
        if reason is None and not corrects and target == 1:
            reason = "it retracts the item's registration, which cannot be retracted"
        elif reason is None and isinstance(event, ev.EventCorrected):
            reason = self._changes_problem(event, target, aggregate.code_at(target))
        if reason is not None:
            self._problem(position, aggregate, version, reason)
        elif not corrects:
            aggregate.retracted = {*(aggregate.retracted or ()), target}

    def _corroboration(self, position: int, aggregate: _Aggregate, version: int,
                       target: object) -> None:
        """A restatement points where `corroborate` lets one point: as a revision does,
        and not at another restatement."""
        reason = _pointer_problem(aggregate, version, "corroborates", target)
        if (reason is None and isinstance(target, int)
                and aggregate.code_at(target) == _CORROBORATION):
            reason = f"it corroborates version {target}, which is itself a restatement"
        if reason is not None:
            self._problem(position, aggregate, version, reason)

    @staticmethod
    def _changes_problem(event: ev.EventCorrected, target: int, code: int) -> str | None:
        changes = event.changes
        if not changes:
            return "it corrects nothing: its changes are empty"
        corrected = _BY_CODE.get(code)
        if corrected is None:
            return None  # the target could not be read; that is reported there
        unknown = sorted(set(changes) - (corrected.fields - UNCORRECTABLE))
        if unknown:
            return (f"it changes {', '.join(unknown)} of version {target}, "
                    f"{_a(corrected.cls.__name__)}, which has no such field to correct")
        return None

    def _named(self, position: int, aggregate: _Aggregate, version: int, event: Any) -> None:
        unknown = [key for key in _partners_named(event) if key not in self.partners]
        if unknown:
            self._problem(position, aggregate, version,
                          f"it names the partner{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))}, not registered before it")

    def _ref(self, position: int, event: Any) -> None:
        ref = getattr(event, "ref", None)
        if not ref:
            return
        if self.refs.add((event.originator_id, ref)):
            self.suspects.setdefault((event.originator_id, ref), position)

    # After the last event -------------------------------------------------------------

    def finish(self) -> None:
        """Report the gaps still open and the refs recorded twice; name every problem."""
        for aggregate in self.gapped:
            for first, last, position in aggregate.holes:
                self._problem(position, aggregate, last + 1, _gap_words(aggregate, first, last))
        read: dict[UUID, list[tuple[int, str | None]]] = {}
        for (aggregate_id, ref), position in self.suspects.items():
            if aggregate_id not in read:
                read[aggregate_id] = list(self.refs_of(aggregate_id))
            versions = [v for v, r in read[aggregate_id] if r == ref]
            if len(versions) > 1:
                self._problem(position, self.aggregates[aggregate_id], max(versions),
                              f"its ref {ref!r} is recorded {len(versions)} times (versions "
                              f"{', '.join(map(str, versions))}): a record meant to be kept "
                              "once was kept again")
        self.problems = sorted(
            (Inconsistency(position, aggregate.label if aggregate else "the log", version,
                           reason)
             for position, aggregate, version, reason in self._problems),
            key=lambda p: (p.position, p.version))
        self.acknowledged = [
            AcknowledgedGap(aggregate.label, aggregate.key, version, position, event.actor,
                            event.reason, event.timestamp)
            for aggregate, version, position, event in self._acknowledged]


def _pointer_problem(aggregate: _Aggregate, version: int, verb: str,
                     target: object) -> str | None:
    """What is wrong with where a revision or a restatement at `version` points (None:
    nothing): it must be an earlier event of the item, stored, not itself a revision, and
    not retracted already."""
    code = aggregate.code_at(target) if isinstance(target, int) else 0
    if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target < version:
        return f"it {verb} version {target}, which is not an earlier event of the item"
    if aggregate.hole_at(target) is not None or code == _ACKNOWLEDGED:
        return f"it {verb} version {target}, where no event is stored"
    if code in _REVISION_CODES:
        return f"it {verb} version {target}, which is itself a correction or a retraction"
    if aggregate.retracted is not None and target in aggregate.retracted:
        return f"it {verb} version {target}, which was retracted already"
    return None


def names_of(registration: Any) -> tuple[str, str]:
    """How an aggregate is named in what verify says, from its first event, and the key that
    commands take (the id, for a channel or a digest)."""
    if isinstance(registration, ev.ItemRegistered):
        return f"“{registration.title}” ({registration.key})", registration.key
    if isinstance(registration, ev.PartnerRegistered):
        name = registration.acronym or registration.name
        return f"{name} ({registration.key})", registration.key
    if isinstance(registration, ch.ChannelRegistered):
        return f"channel {registration.channel}", str(registration.originator_id)
    if isinstance(registration, ol.ReportOutlined):
        return f"the report outline of {registration.document}", registration.document
    if isinstance(registration, ch.DigestClaimed):
        return (f"the {registration.period} digest of channel {registration.channel}",
                str(registration.originator_id))
    aggregate_id = registration.originator_id
    return f"the record {aggregate_id}", str(aggregate_id)


def _gap_words(aggregate: _Aggregate, first: int, last: int) -> str:
    if first == 1:
        return (f"it has no registration: its events begin at version {last + 1}, so it "
                "cannot be read")
    missing = f"version {first} is" if first == last else f"versions {first}–{last} are"
    return (f"{missing} missing: version {last + 1} follows version {first - 1}, so it "
            "cannot be read or recorded on. Once an operator has found out why, the gap can "
            f"be acknowledged with `cmsbot audit repair-gap {aggregate.key} --reason \"…\"`")


def _a(word: str) -> str:
    return f"an {word}" if word[:1].lower() in ("a", "e", "i", "o", "u") else f"a {word}"

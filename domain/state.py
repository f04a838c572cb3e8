"""An item's current state, as a pure function of its events.

The aggregate keeps one to check commands; the status board keeps one per row; an as-at
question folds one from the events that had happened by that date. All three use `fold`
and `ItemState.apply`, so they cannot disagree. No I/O, no clock: recorded times come from
the events themselves. How each event changes the state is in `domain.handlers`, one
module per kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain import events as ev
from domain.dates import PartialDate
from domain.handlers import HANDLERS
from domain.provenance import Cited, Source


@dataclass(frozen=True)
class FirstPlan:
    """The first date planned for a meeting, its venue unless that was tentative, and
    who said it."""

    when: PartialDate
    venue: str | None = None
    cited: Cited | None = None


class Kind(StrEnum):
    """The five kinds of tracked item."""

    AGREEMENT = "agreement"
    POST = "post"
    MEETING = "meeting"
    CONSULTATION = "consultation"
    ENGAGEMENT = "engagement"

    @property
    def named(self) -> str:
        """The kind with its article, as an error says it: "an agreement", "a post"."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value}"


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
    # The first date put on the agenda for the item itself (labelled with its title as it
    # then was), as `domain.overdue.first_plan` defines it: what a slipped meeting is
    # compared with.
    first_plan: FirstPlan | None = None
    # Who said each date of the agenda (by label), and the day a meeting was held: what a
    # line about one date cites, rather than every source of the item.
    dated_by: dict[str, Cited] = field(default_factory=dict)
    held_by: Cited | None = None

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
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        # Only a dating event puts a date on the agenda (`DATING`), so only one can make
        # the first plan; looking after every event made a long item's fold quadratic in
        # its agenda (5,000 events, 1,249 entries: 62 ms, against 29).
        if self.first_plan is None and self.agenda and type(event) in DATING:
            self._note_first_plan(event)
        self._note_provenance(event.source, event.occurred, event.timestamp,
                              event.originator_version)

    def _note_first_plan(self, event: ev.ItemEvent) -> None:
        when = next((w for label, w in self.agenda if label == self.title), None)
        if when is not None:
            tentative = getattr(event, "venue_tentative", False)
            self.first_plan = FirstPlan(when, None if tentative else getattr(event, "venue", None),
                                        self.dated_by.get(self.title))

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

    def next_entry(self, after: date | None = None, skip: Collection[str] = (),
                   ) -> tuple[str, PartialDate] | None:
        """The earliest dated thing still to come for the item (ending on or after `after`),
        leaving out the labels in `skip` (steps that have settled)."""
        pending = [e for e in self.agenda
                   if (after is None or e[1].end >= after) and e[0] not in skip]
        return min(pending, key=lambda e: e[1].sort_key) if pending else None

    def step(self, name: str | None) -> tuple[str, PartialDate] | None:
        """The agenda entry called `name` (in any case), or with no name the next one."""
        if name is None:
            return self.next_entry()
        wanted = name.strip().casefold()
        return next((e for e in self.agenda if e[0].casefold() == wanted), None)

    def _plan(self, label: str, when: PartialDate, event: ev.ItemEvent) -> None:
        self._unplan(label)
        self.agenda.append((label, when))
        self.dated_by[label] = Cited(event.originator_version, (event.source,))

    def _unplan(self, label: str) -> None:
        self.agenda = [e for e in self.agenda if e[0] != label]
        self.dated_by.pop(label, None)

    def _clear_agenda(self) -> None:
        self.agenda = []
        self.dated_by = {}

    def _held(self, when: PartialDate, event: ev.ItemEvent) -> None:
        self._clear_agenda()
        self.held, self.held_on = True, when
        self.held_by = Cited(event.originator_version, (event.source,))

    def _also_cited(self, version: int, source: Source) -> None:
        """A restatement or a correction of the event at `version` by `source`: a further
        source of the dates that event gave (as corrected)."""
        self.dated_by = {label: cited.corroborated(version, source)
                         for label, cited in self.dated_by.items()}
        if self.held_by is not None:
            self.held_by = self.held_by.corroborated(version, source)
        first = self.first_plan
        if first is not None and first.cited is not None:
            self.first_plan = dataclasses.replace(
                first, cited=first.cited.corroborated(version, source))

    @property
    def is_workshop(self) -> bool:
        """Whether the item is a workshop: its subtype says so, or its title names it."""
        return (self.subtype or "") == "workshop" or "workshop" in self.title.lower()

    def cited(self, label: str) -> tuple[Source, ...]:
        """The sources of the date of the agenda entry `label` (of the day the meeting was
        held, for its title once held); the item's sources if none is known."""
        found = (self.held_by if self.held and label == self.title and self.held_by
                 else self.dated_by.get(label))
        return found.sources if found is not None else tuple(self.sources)

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
        values["dated_by"] = dict(self.dated_by)
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
        for name in _DATE_FIELDS:
            value = getattr(self, name)
            data[name] = value.to_dict() if value else None
        data["sources"] = [source.to_dict() for source in self.sources]
        data["last_recorded"] = self.last_recorded.isoformat() if self.last_recorded else None
        data["kind"] = self.kind.value
        first = self.first_plan
        data["first_plan"] = (None if first is None else {
            "when": first.when.to_dict(), "venue": first.venue,
            "cited": first.cited.to_dict() if first.cited is not None else None})
        data["dated_by"] = {label: cited.to_dict() for label, cited in self.dated_by.items()}
        data["held_by"] = self.held_by.to_dict() if self.held_by is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemState:
        values = dict(data)
        values["agenda"] = [(label, PartialDate.from_dict(when)) for label, when in data["agenda"]]
        for name in _DATE_FIELDS:
            values[name] = PartialDate.from_dict(data[name]) if data.get(name) else None
        values["sources"] = [Source.from_dict(source) for source in data["sources"]]
        recorded = data.get("last_recorded")
        values["last_recorded"] = datetime.fromisoformat(recorded) if recorded else None
        values["kind"] = Kind(data["kind"])
        first = data.get("first_plan")  # absent from a dict stored before it was kept
        values["first_plan"] = (None if first is None else FirstPlan(
            PartialDate.from_dict(first["when"]), first.get("venue"),
            Cited.from_dict(first["cited"]) if first.get("cited") else None))
        values["dated_by"] = {label: Cited.from_dict(cited)
                              for label, cited in data.get("dated_by", {}).items()}
        held_by = data.get("held_by")
        values["held_by"] = Cited.from_dict(held_by) if held_by else None
        return cls(**values)


_FIELDS = dataclasses.fields(ItemState)
_DATE_FIELDS = ("status_since", "held_on", "last_occurred")
_LIST_FIELDS = tuple(f.name for f in _FIELDS if f.name not in ("agenda", "sources")
                     and str(f.type).startswith("list"))


def fold(events: Iterable[ev.ItemRegistered | ev.ItemEvent | ev.VersionGapAcknowledged],
         start: ItemState | None = None) -> ItemState | None:
    """The state after `events` (in version order), with corrections and retractions applied.
    An acknowledged gap's event says nothing about the item and is passed over.

    From `start` (changed in place), the state after the item's earlier events, when given:
    `events` are then the later ones, and their corrections and retractions may only point
    at one of them. Returns None when the registration is not among them (nor `start`).
    """
    state = start
    for _, stepped in folds(events, start):
        state = stepped
    return state


def folds(events: Iterable[ev.ItemRegistered | ev.ItemEvent | ev.VersionGapAcknowledged],
          start: ItemState | None = None) -> Iterator[tuple[int, ItemState]]:
    """`fold`, step by step: after each version (an acknowledged gap's aside, and any
    before the registration), that version and the state so far, one object changed in
    place from step to step."""
    state = start
    for event in corrected(events):
        if isinstance(event, int):  # a retracted event's version
            if state is not None:
                state.version = event
                yield event, state
        elif isinstance(event, ev.ItemRegistered):
            state = ItemState.registered(event)
            yield event.originator_version, state
        elif state is not None:
            state.apply(event)
            yield event.originator_version, state


def corrected(events: Iterable[ev.ItemRegistered | ev.ItemEvent | ev.VersionGapAcknowledged],
              ) -> Iterator[ev.ItemRegistered | ev.ItemEvent | int]:
    """The events (in version order) as their corrections say they were, each retracted one
    as its version alone; an acknowledged gap's event is passed over."""
    history = [e for e in events if not isinstance(e, ev.VersionGapAcknowledged)]
    retracted: set[int] = set()
    changes: dict[int, dict[str, Any]] = {}
    for event in history:
        if isinstance(event, ev.EventRetracted):
            retracted.add(event.retracts)
        elif isinstance(event, ev.EventCorrected):
            changes.setdefault(event.corrects, {}).update(event.changes)
    for event in history:
        version = event.originator_version
        if version in retracted:
            yield version
        elif version in changes:
            yield dataclasses.replace(event, **changes[version])
        else:
            yield event


def dated_as_corrected(events: Iterable[Any]) -> dict[int, PartialDate]:
    """Each event's business date (by version) as its corrections leave it: a correction
    may move when a fact happened, and an as-at reading counts the fact from the date it
    was corrected to. Registrations, revisions and acknowledged gaps have none."""
    found: dict[int, PartialDate] = {}
    for event in events:
        if isinstance(event, ev.EventCorrected):
            moved = event.changes.get("occurred")
            if isinstance(moved, PartialDate) and event.corrects in found:
                found[event.corrects] = moved
        elif isinstance(event, ev.ItemEvent) and not isinstance(event, ev.EventRetracted):
            found[event.originator_version] = event.occurred
    return found


def revised(events: Iterable[Any]) -> list[Any]:
    """The events (in version order) as their corrections and retractions leave them, as
    `fold` applies them: each corrected event with its changes, the retracted ones left
    out."""
    return [event for event in corrected(events) if not isinstance(event, int)]


# The events whose handlers change what is dated (the agenda, the day a meeting was held) or
# what those handlers read (pending endorsements); every other handler leaves both alone. An
# item's dates at any time are therefore the fold of its registration, its revisions and
# these alone (`projections.views.agenda` keeps them by business time on that ground;
# tests/domain/test_dating.py checks every other event leaves them alone).
DATING: frozenset[type[Any]] = frozenset({
    ev.AgreementSubmittedForEndorsement, ev.AgreementEndorsed, ev.AgreementExpired,
    ev.AgreementSuperseded, ev.MeetingPlanned, ev.MeetingScheduled, ev.MeetingRescheduled,
    ev.MeetingCancelled, ev.MeetingHeld, ev.ConsultationAnnounced, ev.ConsultationIssued,
    ev.ConsultationClosed, ev.ConsolidationPlanned, ev.ConsultationConsolidated,
    ev.MilestonePlanned, ev.MilestoneReached, ev.EngagementConcluded,
    ev.ItemPostponed, ev.ItemCancelled, ev.OutcomeUnknown,
})

# What a meeting's slip (`domain.overdue.slip`) compares besides what is dated: its venue,
# changed by the dating events and by a relocation alone. An item's slip at any time is
# therefore the fold of its registration, its revisions and these (tests/domain/test_dating.py
# checks every other event leaves the venue, `held` and the first plan alone).
SLIPPING: frozenset[type[Any]] = DATING | {ev.MeetingRelocated}

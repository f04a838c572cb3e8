"""The items as they stood at a business date and/or a recorded time, or now.

Now is read from the views. A past time folds the events of just the items asked about,
filtered to that time (`as_at`: what had happened by then; `known_at`: what had been
recorded by then), with the same fold the aggregates use, so no reading replays the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from cmsbot.eventstore.tracker import Tracker
from cmsbot.readmodel.resolve import Index
from domain import events as ev
from domain.dates import PartialDate
from domain.overdue import meeting_key
from domain.state import ItemState, dated_as_corrected, fold
from projections import queries as q

CalendarEntry = tuple[str, PartialDate, ItemState, bool]  # label, date, item, held


@dataclass(frozen=True)
class Dated:
    """Which dated entries a reading wants: those overlapping [first, last] (a "by" date
    only when it cannot fall after `last`), of these kinds (all when empty), of workshops
    only, of these items (all when None), held or not (`held`), held or over before a day
    (`held_or_before`); in date order, `limit` of them (all when None) from the `offset`th
    (from 0), and how many there are in all."""

    first: date | None = None
    last: date | None = None
    kinds: frozenset[str] = frozenset()
    workshops: bool = False
    item_ids: tuple[str, ...] | None = None
    held: bool | None = None
    held_or_before: date | None = None
    limit: int | None = None
    offset: int = 0

    def keeps(self, entry: CalendarEntry) -> bool:
        _, when, state, held = entry
        return ((not self.kinds or state.kind.value in self.kinds)
                and (not self.workshops or state.is_workshop)
                and (self.held is None or held == self.held)
                and (self.held_or_before is None or held
                     or when.end < self.held_or_before)
                and (self.first is None or when.end >= self.first)
                and (self.last is None or (when.earliest if when.start else when.end)
                     <= self.last))


def entry_order(entry: CalendarEntry) -> tuple[date, date, str, str]:
    """Date order (start, else a "by" date's end; then end, label and item)."""
    return (entry[1].sort_key, entry[1].end, entry[0], entry[2].id)


def dated_by_fold(snap: Snapshot, wanted: Dated) -> tuple[list[CalendarEntry], int]:
    """The entries `wanted`, and how many there are, from the items' folded states: the
    plain path, which `cmsbot.readmodel.agenda.dated` answers from the views."""
    item_ids = list(wanted.item_ids) if wanted.item_ids is not None else None
    entries = sorted((e for e in snap.calendar(item_ids) if wanted.keeps(e)), key=entry_order)
    end = None if wanted.limit is None else wanted.offset + wanted.limit
    return entries[wanted.offset:end], len(entries)


class Snapshot:
    """The items at one time, read through one connection."""

    def __init__(self, conn: Connection, tracker: Tracker, index: Index, *,
                 as_at: date | None, known_at: datetime | None, reference: date) -> None:
        self.conn, self.tracker, self.index = conn, tracker, index
        self.as_at, self.known_at, self.reference = as_at, known_at, reference
        self.names = {k: (r.acronym or r.name) for k, r in index.partners.items()}
        self._held: dict[str, PartialDate | None] = {}  # meeting_key: held on, looked up

    @property
    def historical(self) -> bool:
        """Whether it folds events (a past time) rather than reading the views."""
        return self.as_at is not None or self.known_at is not None

    def name(self, key: str) -> str:
        """A partner's short name (its acronym, else its name)."""
        return self.names.get(key, key)

    def events_of(self, item_id: str) -> list[Any]:
        """The item's events recorded by `known_at` (all of them without it)."""
        return self._recorded(self.tracker.item_events(UUID(item_id)))

    def _recorded(self, events: list[Any]) -> list[Any]:
        if self.known_at is None:
            return events
        return [e for e in events if e.timestamp <= self.known_at]

    def visible(self, events: list[Any], *, shown_through: int = 0) -> list[Any]:
        """Of an item's events, those that had happened by `as_at` (by their dates as
        corrected), with its registration
        and the corrections and retractions of those (which apply to what they point at,
        whenever they were made). A correction of an event not shown is left out with it,
        so that an answer as at a date cites only the sources of what it shows.
        `shown_through`: the versions up to it are shown (when `events` are those after
        it, every one of which had happened by `as_at`)."""
        if self.as_at is None:
            return events
        as_at = self.as_at
        dated = dated_as_corrected(events)  # a correction may move when a fact happened
        shown = {e.originator_version for e in events if isinstance(e, ev.ItemRegistered)
                 or (e.originator_version in dated
                     and dated[e.originator_version].certainly_by(as_at))}
        return [e for e in events if e.originator_version in shown
                or (isinstance(e, ev.EventCorrected)
                    and (e.corrects in shown or e.corrects <= shown_through))
                or (isinstance(e, ev.EventRetracted)
                    and (e.retracts in shown or e.retracts <= shown_through))]

    def state(self, item_id: str) -> ItemState | None:
        if not self.historical:
            return q.states(self.conn, [item_id]).get(item_id)
        return self.state_from(self.events_of(item_id))

    def state_from(self, events: list[Any]) -> ItemState | None:
        """The state the item's events (from `events_of`) fold to at this time; None when
        nothing had happened to it yet."""
        visible = self.visible(events)
        if not visible:
            return None
        registration = visible[0]
        if self.as_at is not None and len(visible) == sum(
                isinstance(e, ev.EventCorrected | ev.EventRetracted) for e in visible) + 1 \
                and not registration.occurred.certainly_by(self.as_at):
            return None
        return fold(visible)

    def states(self, item_ids: list[str]) -> list[ItemState]:
        """The items' states in the order asked, leaving out those not there yet."""
        if not self.historical:
            now = q.states(self.conn, item_ids)
            return [now[i] for i in item_ids if i in now]
        found: dict[str, ItemState] = {}
        for aggregate, events in self.tracker.items_events(
                dict.fromkeys(map(UUID, item_ids), (None, None))):  # a query for many items
            state = self.state_from(self._recorded(events))
            if state is not None:
                found[str(aggregate)] = state
        return [found[i] for i in item_ids if i in found]

    def calendar(self, item_ids: list[str] | None = None, *,
                 known: dict[str, ItemState] | None = None) -> list[CalendarEntry]:
        """(label, date, item, held) for every dated entry of the items (default: all);
        `known` holds states already read through this snapshot, by item id."""
        if item_ids is None:
            if self.historical:
                item_ids = q.agenda_item_ids(self.conn, occurred_by=self.as_at,
                                             recorded_by=self.known_at)
            else:
                rows = q.calendar_between(self.conn, date.min, date.max)
                item_ids = list(dict.fromkeys(r.item_id for r in rows))
        if known is not None:
            missing = [i for i in item_ids if i not in known]
            if missing:
                known = {**known, **{s.id: s for s in self.states(missing)}}
            states = [known[i] for i in item_ids if i in known]
        else:
            states = self.states(item_ids)
        entries = []
        for state in states:
            for label, when in state.agenda:
                entries.append((label, when, state, False))
            if state.held_on is not None:
                entries.append((state.title, state.held_on, state, True))
        return entries

    def held_meetings(self, names: Iterable[str], *,
                      known: Mapping[str, ItemState] | None = None) -> dict[str, PartialDate]:
        """When the meetings named were held, by `meeting_key` of each name, for those held
        by then. A name counts when it is exactly one meeting item's key, title or alias
        ("StC44"); `known` holds states already read through this snapshot."""
        asked = list(dict.fromkeys(map(meeting_key, names)))
        for name in asked:
            if name in self._held:
                continue
            exact = [s.item.item_id for s in self.index.search(name, kinds={"meeting"})
                     if s.exact]
            state = None
            if len(exact) == 1:
                state = (known or {}).get(exact[0]) or self.state(exact[0])
            self._held[name] = state.held_on if state is not None and state.held else None
        return {name: when for name in asked if (when := self._held[name]) is not None}

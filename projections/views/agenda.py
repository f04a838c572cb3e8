"""The agenda by business time: the dated entries each item had as at every business day,
as the log stood at every recorded time, so that "what was coming up as at D (known at K)"
reads rows instead of folding every item that ever had a date.

The as-at reading is the definition (`cmsbot.readmodel.snapshot`): as at D, an item's state
is the fold of its registration, its revisions and the events whose date ended by D. What
is dated changes only by the events in `domain.state.DATING` (and the registration's title,
which a held meeting is listed by), and a meeting's slip (`domain.overdue.slip`: its date
held or planned, its venue, its first plan) only by those and relocations
(`domain.state.SLIPPING`), so what an item had dated on a day, and whether it had slipped,
is the fold of those alone (`points`).

A meeting's own entry (its held day, else its date planned) carries where the meeting is
listed as slipped, if it did (`slip_start`, `slip_end`, as `board.slip_listed` says): part
of the entry, so a change of its slip closes the span and opens another, and "what had
slipped as at D" reads rows too (`cmsbot.readmodel.stale_asat`).

Each item's event moves its timeline on (`Timeline.apply`):
- one that is neither dating nor a relocation changes nothing;
- a dating event or relocation dated on or after every earlier one changes only the days
  from its date on, to what is dated in the item's state now, and only the labels it
  changed;
- one told late (dated before another already recorded) is the item's latest version:
  from its day on, what was dated is what was dated before with it applied. It is applied
  to what was dated on each of those days, kept while the log is applied in one go;
- a correction, a retraction, or a late event older than what is kept folds the item's
  dating events again, from the store.

Rows are never rewritten for a change of business time: a changed span is closed in
recorded time (`recorded_to`, the event's own timestamp) and its successor opened, so the
rows also answer "as known at K". A rebuild applies the same events with the same
timestamps, so it makes the same rows.

The module is long (over 400 lines) for one job: a timeline's ways of moving on (an event
in date order, one told late, a refold, rows set aside) all read and change the same rows
and points; apart, each would reach into the others' state.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, delete, select, update

from domain import events as ev
from domain.dates import PartialDate
from domain.state import SLIPPING, FirstPlan, ItemState, Kind, dated_as_corrected, revised
from projections import tables as t
from projections.agenda_days import OPEN, span_level
from projections.views.board import slip_listed

TABLES = (t.agenda, t.agenda_marks)
KEPT_POINTS = 256  # days an item's timeline keeps what was dated on, in a bulk application
SETTLE_FROM = 32  # rows of an item's timeline from which those long over are set aside
SETTLED_AFTER = timedelta(days=400)  # how long before its latest date a span is long over
Slipped = tuple[date, date] | None  # where a slipped meeting is listed: sort key, end
Value = tuple[PartialDate, Slipped]  # an entry's date, and the slip its row lists
Entry = tuple[str, bool, PartialDate, Slipped]  # label, held, when, slip
Span = tuple[Entry, date, date]  # entry, from day, to day (exclusive)


def dated(state: ItemState | None) -> dict[tuple[str, bool], Value]:
    """What is dated in an item's state, by label and whether it was held: its agenda,
    and the day it was held; a meeting's own entry (held, else planned) with where it is
    listed as slipped (`board.slip_listed`), the others with None."""
    if state is None:
        return {}
    found: dict[tuple[str, bool], Value] = {
        (label, False): (when, None) for label, when in state.agenda}
    if state.held_on is not None:
        found[state.title, True] = (state.held_on, None)
    own = found.get((state.title, state.held)) if state.kind is Kind.MEETING else None
    if own is not None:
        listed = slip_listed(state)
        if listed is not None:
            found[state.title, state.held] = (own[0], (listed.sort_key, listed.end))
    return found


def entries(state: ItemState | None) -> frozenset[Entry]:
    """What is dated in an item's state, as entries."""
    return frozenset((label, held, when, slip)
                     for (label, held), (when, slip) in dated(state).items())


def dating_part(state: ItemState) -> ItemState:
    """A copy of what the dating events and relocations read and change in a state
    (`SLIPPING`): enough to apply one more of them to; nothing else."""
    return ItemState(state.id, state.kind, state.key, state.title,
                     agenda=list(state.agenda), held_on=state.held_on,
                     pending_endorsements=[list(p) for p in state.pending_endorsements],
                     venue=state.venue, held=state.held, first_plan=state.first_plan)


class Dating(NamedTuple):
    """What `dating_part` keeps of a state, as a tuple: what a timeline holds for each of
    its points (a tenth of the state's memory; a rebuild holds hundreds of thousands)."""

    title: str
    agenda: tuple[tuple[str, PartialDate], ...]
    held_on: PartialDate | None
    pending: tuple[tuple[str, ...], ...]
    venue: str | None
    held: bool
    first_plan: FirstPlan | None

    @classmethod
    def of(cls, state: ItemState) -> Dating:
        return cls(state.title, tuple(state.agenda), state.held_on,
                   tuple(tuple(p) for p in state.pending_endorsements), state.venue,
                   state.held, state.first_plan)

    def state(self, item_id: str, kind: Kind, key: str) -> ItemState:
        """A state to apply one more dating event to (`dating_part`'s)."""
        return ItemState(item_id, kind, key, self.title, agenda=list(self.agenda),
                         held_on=self.held_on,
                         pending_endorsements=[list(p) for p in self.pending],
                         venue=self.venue, held=self.held, first_plan=self.first_plan)


Point = tuple[date, ItemState]  # a day an item's dating event ended, and what was dated then
Kept = tuple[date, Dating]  # a point as a timeline keeps it


def points(events: Iterable[Any], since: date) -> tuple[ItemState | None, list[Point]]:
    """From an item's events (version order): its registration's state, and what was
    dated (`dating_part`) as at each dating event's end day from `since` on: the fold of
    its registration, revisions and dating events dated by then.

    Each day's state is the one of the longest run of versions all dated by then, kept as
    the days go on, with the later versions dated by then applied to a copy: the few
    events told late, rather than the whole history, are applied again for each day."""
    kept = [e for e in revised(events) if isinstance(e, ev.ItemRegistered)
            or type(e) in SLIPPING]
    if not kept or not isinstance(kept[0], ev.ItemRegistered):
        return None, []
    registered, later = ItemState.registered(kept[0]), kept[1:]
    days = sorted({e.occurred.end for e in later if e.occurred.end >= since})
    found: list[Point] = []
    base, settled = dating_part(registered), 0  # the state after later[:settled]
    for day in days:
        while settled < len(later) and later[settled].occurred.end <= day:
            base.apply(later[settled])
            settled += 1
        state = dating_part(base)
        for event in later[settled:]:
            if event.occurred.end <= day:
                state.apply(event)
        found.append((day, state))
    return dating_part(registered), found


@dataclass(slots=True)
class _Row:
    span: Span
    kind: str
    recorded_from: datetime
    recorded_to: datetime | None = None
    stored: bool = False  # in the table already
    gone: bool = False  # opened and closed at the same time: never seen, not kept


class Timeline:
    """One item's timeline as the log stands (its rows not closed in recorded time), the
    rows closed since it was read, its marks, and what was dated at its latest dating
    events' days (`points`, kept while the log is applied in one go: a rebuild, a long
    catch-up), to which a late event is applied instead of folding the item again."""

    def __init__(self, item_id: str, rows: list[_Row], dating_end: date | None = None,
                 last_end: date | None = None, *, from_start: bool = False) -> None:
        self.item_id, self.closed = item_id, list[_Row]()
        self.current = {row.span: row for row in rows}
        self.open: dict[tuple[str, bool], _Row] | None = None  # the open spans, by label
        # Rows ending before `settled_by` are set aside (`settled`): events told late are
        # rarely that late, so a long history's old spans are not walked for each event.
        self.settled: list[_Row] = []
        self.settled_by, self.settle_at = date.min, SETTLE_FROM
        self.dating_end, self.last_end = dating_end, last_end
        # Made from the item's first event on (`from_start`): its registration's state, and
        # every day's point until there are more than KEPT_POINTS.
        self.from_start = from_start
        self.registered: Dating | None = None
        self.points: list[Kept] = []
        self.kind, self.key = Kind.MEETING, ""  # the item's, from the first state it meets

    @classmethod
    def read(cls, conn: Connection, item_id: str) -> Timeline:
        """The item's timeline as the table holds it."""
        a = t.agenda.c
        rows = [_Row(((r.label, r.held, PartialDate.from_dict(r.when),
                       None if r.slip_start is None else (r.slip_start, r.slip_end)),
                      r.from_day, r.to_day), r.kind, _aware(r.recorded_from), stored=True)
                for r in conn.execute(select(t.agenda).where(
                    a.item_id == item_id, a.recorded_to.is_(None)))]
        mark = conn.execute(select(t.agenda_marks).where(
            t.agenda_marks.c.item_id == item_id)).first()
        if mark is None:  # an item the view has not met: its events come from the first
            return cls(item_id, rows, from_start=True)
        return cls(item_id, rows, mark.dating_end, mark.last_end)

    def apply(self, event: Any, dated_before: dict[tuple[str, bool], Value],
              after: ItemState | None,
              events: Callable[[], list[Any]]) -> None:
        """Move the timeline on by one of the item's events (already applied to `after`,
        its state now). `dated_before` says what was dated before it (for a dating event);
        `events` reads the item's events up to it, for a revision, or a late event when
        the points do not reach back to its day."""
        if after is None:
            return
        self.kind, self.key = after.kind, after.key
        if isinstance(event, ev.ItemRegistered):
            self.registered = Dating.of(after) if self.from_start else None
            return
        kind, at = after.kind.value, event.timestamp
        if isinstance(event, ev.EventCorrected | ev.EventRetracted):
            history = events()
            self._refold(history, date.min, kind, at)
            self.dating_end, self.last_end = _marks(history)
            return
        end = event.occurred.end
        self.last_end = max(end, self.last_end or end)
        if type(event) not in SLIPPING:
            return
        late = self.dating_end is not None and end < self.dating_end
        same_day = end == self.dating_end
        self.dating_end = max(end, self.dating_end or end)
        if not late:
            self._keep(end, Dating.of(after))
            self._advance(end, dated_before, dated(after), same_day, kind, at)
        else:
            start = self._dated_on(end)
            if start is None:
                self._refold(events(), end, kind, at)
            else:
                self._late(event, end, start, kind, at)

    def _dated_on(self, day: date) -> Dating | None:
        """What was dated on `day`, if the points reach back to it."""
        place = bisect_right(self.points, day, key=_day)
        if place:
            return self.points[place - 1][1]
        return self.registered if self.from_start else None

    def _keep(self, day: date, state: Dating) -> None:
        if self.points and self.points[-1][0] == day:
            self.points[-1] = (day, state)
        else:
            self.points.append((day, state))
        if len(self.points) > KEPT_POINTS:
            del self.points[0]
            self.from_start = False

    def _late(self, event: Any, day: date, start: Dating, kind: str, at: datetime,
              ) -> None:
        """A dating event dated `day`, before the item's latest (what was dated on `day`
        before it: `start`): from `day` on, what was dated is what it was with this event,
        the latest version, applied."""
        place = bisect_left(self.points, day, key=_day)
        if place == len(self.points) or self.points[place][0] != day:
            self.points.insert(place, (day, start))
        changed: set[tuple[str, bool]] = set()  # the labels whose dates it changes
        after: list[tuple[date, dict[tuple[str, bool], Value]]] = []
        # A point, what the event made of it and what that dates: a point equal to the one
        # before it (half of them, in the benchmark's histories) becomes the same.
        last: tuple[Dating, Dating, dict[tuple[str, bool], Value]] | None = None
        for number in range(place, len(self.points)):
            when, part = self.points[number]
            if last is None or part != last[0]:
                state = part.state(self.item_id, self.kind, self.key)
                old = dated(state)
                state.apply(event)
                new = dated(state)
                changed.update(key for key in old.keys() | new.keys()
                               if not _same(old.get(key), new.get(key)))
                last = (part, Dating.of(state), new)
            self.points[number] = (when, last[1])
            after.append((when, last[2]))
        if changed:
            self._become(self._from_days(day, [(when, frozenset(
                (key[0], key[1], *value) for key, value in new.items() if key in changed))
                for when, new in after], changed), kind, at, changed)

    def _refold(self, events: list[Any], since: date, kind: str, at: datetime) -> None:
        """Fold the item's dating events again, for the days from `since` on."""
        registered, found = points(events, since)
        self._become(self._from_days(since, [(day, entries(state)) for day, state in found]),
                     kind, at)
        whole = since == date.min
        self.registered = Dating.of(registered) if whole and registered is not None else None
        self.from_start = whole and len(found) <= KEPT_POINTS
        self.points = [(day, Dating.of(state)) for day, state in found[-KEPT_POINTS:]]

    def _advance(self, day: date, before: dict[tuple[str, bool], Value],
                 after: dict[tuple[str, bool], Value], same_day: bool, kind: str,
                 at: datetime) -> None:
        """A dating event dated on or after every earlier one: from `day` on, what is dated
        is what is dated now (`after`, `before` the event). Only what changed is touched."""
        if self.open is None:
            self.open = {row.span[0][:2]: row for row in self.current.values()
                         if row.span[2] == OPEN}
        # A span of an entry that ends on `day` (only if an event of the same day ended
        # it) goes on if the entry is dated again.
        ending = ({row.span[0]: row for row in self.current.values() if row.span[2] == day}
                  if same_day else {})
        for key, when in before.items():
            now = after.get(key)
            if now is when or now == when:
                continue
            row = self.open[key]
            self._close(row, at)
            entry, first, _ = row.span
            if first < day:
                self._open((entry, first, day), kind, at)
        for key, when in after.items():
            was = before.get(key)
            if was is when or was == when:
                continue
            entry = (key[0], key[1], *when)
            joined = ending.get(entry)
            if joined is None:
                self._open((entry, day, OPEN), kind, at)
            else:
                self._close(joined, at)
                self._open((entry, joined.span[1], OPEN), kind, at)
        if len(self.current) > self.settle_at:
            self._settle()

    def _open(self, span: Span, kind: str, at: datetime) -> None:
        row = self.current[span] = _Row(span, kind, at)
        if span[2] == OPEN and self.open is not None:
            self.open[span[0][:2]] = row

    def _close(self, row: _Row, at: datetime) -> None:
        del self.current[row.span]
        if row.span[2] == OPEN and self.open is not None:
            self.open.pop(row.span[0][:2], None)
        row.recorded_to = at
        row.gone = row.recorded_from >= at
        self.closed.append(row)

    def _settle(self) -> None:
        """Set aside the rows long over before the latest date."""
        if self.dating_end is not None:
            self.settled_by = max(self.settled_by, self.dating_end - SETTLED_AFTER)
            for span, row in list(self.current.items()):
                if span[2] < self.settled_by:
                    self.settled.append(row)
                    del self.current[span]
        self.settle_at = max(SETTLE_FROM, 2 * len(self.current))

    def _from_days(self, day: date, dated: list[tuple[date, frozenset[Entry]]],
                   labels: set[tuple[str, bool]] | None = None) -> list[Span]:
        """The timeline (of the rows not set aside; of these labels only, if given) with
        what was dated from `day` on replaced by `dated` (what was dated from each of its
        days on, the first of them `day`)."""
        if day <= self.settled_by:  # as late as that: every row counts
            self.current.update((row.span, row) for row in self.settled)
            self.settled, self.settled_by = [], date.min
        spans: list[Span] = []
        ending: dict[Entry, int] = {}  # the spans ending on `day`, which may go on
        for row in self.current.values():
            entry, first, last = row.span
            if labels is not None and entry[:2] not in labels:
                continue
            if last <= day:
                spans.append(row.span)
            elif first < day:
                spans.append((entry, first, day))
            else:
                continue
            if spans[-1][2] == day:
                ending[entry] = len(spans) - 1
        since: dict[Entry, date] = {}
        joined: set[int] = set()
        for number, (when, now) in enumerate(dated):
            for entry in [e for e in since if e not in now]:
                spans.append((entry, since.pop(entry), when))
            for entry in now:
                if entry in since:
                    continue
                going_on = ending.get(entry) if number == 0 else None
                if going_on is None:
                    since[entry] = when
                else:
                    since[entry] = spans[going_on][1]
                    joined.add(going_on)
        spans = [span for number, span in enumerate(spans) if number not in joined]
        spans.extend((entry, first, OPEN) for entry, first in since.items())
        return spans

    def _become(self, spans: Sequence[Span], kind: str, at: datetime,
                labels: set[tuple[str, bool]] | None = None) -> None:
        """Close (as at `at`) the rows (of these labels, if given) not in `spans`, and open
        those new in it."""
        wanted = set(spans)
        for span, row in list(self.current.items()):
            if span not in wanted and (labels is None or span[0][:2] in labels):
                self._close(row, at)
        for span in spans:
            if span not in self.current:
                self.current[span] = _Row(span, kind, at)
        self.open = None  # made again when next needed
        if len(self.current) > self.settle_at:
            self._settle()

    def take_closed(self) -> list[dict[str, Any]]:
        """The rows to insert that were opened and closed since the table was read: they
        change no more, so a bulk application writes them as it goes rather than holding
        them to the end (most of a rebuild's rows), and forgets them here. The stored rows
        closed since are kept, for `close_stored`."""
        rows = [_row_dict(self.item_id, row) for row in self.closed
                if not row.stored and not row.gone]
        self.closed = [row for row in self.closed if row.stored]
        return rows

    def new_rows(self) -> list[dict[str, Any]]:
        """The rows to insert: those opened since the table was read."""
        return [_row_dict(self.item_id, row)
                for row in (*self.current.values(), *self.settled, *self.closed)
                if not row.stored and not row.gone]

    def mark(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "dating_end": self.dating_end,
                "last_end": self.last_end}

    def close_stored(self, conn: Connection) -> None:
        """Close (or drop) in the table the rows read from it that were closed since."""
        a = t.agenda.c
        for row in self.closed:
            if not row.stored:
                continue
            (label, held, _, _), first, last = row.span
            match = and_(a.item_id == self.item_id, a.label == label, a.held == held,
                         a.from_day == first, a.to_day == last,
                         a.recorded_from == row.recorded_from, a.recorded_to.is_(None))
            if row.gone:
                conn.execute(delete(t.agenda).where(match))
            else:
                conn.execute(update(t.agenda).where(match).values(recorded_to=row.recorded_to))
        self.closed = [row for row in self.closed if not row.stored]


def _marks(events: list[Any]) -> tuple[date | None, date | None]:
    """An item's marks (`dating_end`, `last_end`) from its events' dates as corrected (a
    correction may move when a fact happened). A retracted event still counts: its
    retraction, which an as-at reading shows with it, is part of the item's state now."""
    dated = dated_as_corrected(events)
    dating_end = last_end = None
    for event in events:
        when = dated.get(event.originator_version)
        if when is None:
            continue
        last_end = when.end if last_end is None else max(last_end, when.end)
        if type(event) in SLIPPING:
            dating_end = when.end if dating_end is None else max(dating_end, when.end)
    return dating_end, last_end


def _day(point: Kept) -> date:
    return point[0]


def _same(one: Value | None, other: Value | None) -> bool:
    return one is other or one == other


def _aware(value: datetime) -> datetime:
    # SQLite keeps a timestamp as text without its zone: the log's are in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _row_dict(item_id: str, row: _Row) -> dict[str, Any]:
    (label, held, when, slip), first, last = row.span
    return {"item_id": item_id, "label": label, "held": held, "kind": row.kind,
            "start": when.earliest if when.start else when.end, "end": when.end,
            "when": when.to_dict(), "from_day": first, "to_day": last,
            "span_level": span_level(first, last),
            "slip_start": None if slip is None else slip[0],
            "slip_end": None if slip is None else slip[1],
            "recorded_from": row.recorded_from, "recorded_to": row.recorded_to}


def rows(timelines: Sequence[Timeline]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows to insert for these items' timelines (the marks afresh)."""
    return [(t.agenda, [row for tl in timelines for row in tl.new_rows()]),
            (t.agenda_marks, [tl.mark() for tl in timelines])]

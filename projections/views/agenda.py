"""The agenda by business time: the dated entries each item had as at every business day,
as the log stood at every recorded time, so that "what was coming up as at D (known at K)"
reads rows instead of folding every item that ever had a date.

The as-at reading is the definition (`cmsbot.readmodel.snapshot`): as at D, an item's state
is the fold of its registration, its revisions and the events whose date ended by D. What
is dated changes only by the events in `domain.state.DATING` (and the registration's title,
which a held meeting is listed by), so an item's timeline is the fold of those alone at
each of their end dates (`timeline`).

Each item's event moves the timeline on (`Timeline.apply`):
- one that is not dating changes nothing;
- a dating event dated on or after every earlier dating event of the item changes only
  the days from its date on, to what is dated now (the item's current state): no fold;
- a late one (dated before another already recorded), a correction or a retraction folds
  the item's dating events again, from the store, and keeps what did not change.

Rows are never rewritten for a change of business time: a changed span is closed in
recorded time (`recorded_to`, the event's own timestamp) and its successor opened, so the
rows also answer "as known at K". A rebuild applies the same events with the same
timestamps, so it makes the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select, update

from domain import events as ev
from domain.dates import PartialDate
from domain.state import DATING, ItemState, fold
from projections import tables as t

TABLES = (t.agenda, t.agenda_marks)
OPEN = date(9999, 12, 31)  # a span's end when it has none
Entry = tuple[str, bool, PartialDate]  # label, held, when
Span = tuple[Entry, date, date]  # entry, from day, to day (exclusive)
_ALWAYS = (ev.ItemRegistered, ev.EventCorrected, ev.EventRetracted)


def entries(state: ItemState | None) -> frozenset[Entry]:
    """What is dated in an item's state: its agenda, and the day it was held."""
    if state is None:
        return frozenset()
    found = {(label, False, when) for label, when in state.agenda}
    if state.held_on is not None:
        found.add((state.title, True, state.held_on))
    return frozenset(found)


def timeline(events: Iterable[Any]) -> list[Span]:
    """An item's dated entries by business day, from its events in version order: the
    fold (as the as-at reading folds) of its registration, revisions and dating events at
    each dating event's end date, each entry's days joined into spans."""
    kept = [e for e in events if isinstance(e, _ALWAYS) or type(e) in DATING]
    days = sorted({e.occurred.end for e in kept if not isinstance(e, _ALWAYS)})
    spans: list[Span] = []
    since: dict[Entry, date] = {}
    for day in days:
        now = entries(fold(e for e in kept
                           if isinstance(e, _ALWAYS) or e.occurred.end <= day))
        for entry in [e for e in since if e not in now]:
            spans.append((entry, since.pop(entry), day))
        for entry in now:
            since.setdefault(entry, day)
    spans.extend((entry, day, OPEN) for entry, day in since.items())
    return spans


@dataclass
class _Row:
    entry: Entry
    from_day: date
    to_day: date
    kind: str
    recorded_from: datetime
    recorded_to: datetime | None = None
    stored: bool = False  # in the table already
    gone: bool = False  # opened and closed at the same time: never seen, not kept

    @property
    def span(self) -> Span:
        return (self.entry, self.from_day, self.to_day)


class Timeline:
    """One item's timeline as the log stands (its rows not closed in recorded time), the
    rows a batch closed, and its marks."""

    def __init__(self, item_id: str, rows: list[_Row], dating_end: date | None = None,
                 last_end: date | None = None) -> None:
        self.item_id, self.current, self.closed = item_id, rows, list[_Row]()
        self.dating_end, self.last_end = dating_end, last_end

    @classmethod
    def read(cls, conn: Connection, item_id: str) -> Timeline:
        """The item's timeline as the table holds it."""
        a = t.agenda.c
        rows = [_Row((r.label, r.held, PartialDate.from_dict(r.when)), r.from_day, r.to_day,
                     r.kind, _aware(r.recorded_from), stored=True)
                for r in conn.execute(select(t.agenda).where(
                    a.item_id == item_id, a.recorded_to.is_(None)))]
        mark = conn.execute(select(t.agenda_marks).where(
            t.agenda_marks.c.item_id == item_id)).first()
        return cls(item_id, rows, mark.dating_end if mark else None,
                   mark.last_end if mark else None)

    def apply(self, event: Any, dated_before: frozenset[Entry], after: ItemState | None,
              events: Callable[[], list[Any]]) -> None:
        """Move the timeline on by one of the item's events (already applied to `after`,
        its state now). `dated_before` says what was dated before it; `events` reads the
        item's events up to it, for a late event or a revision."""
        if after is None or isinstance(event, ev.ItemRegistered):
            return
        kind, at = after.kind.value, event.timestamp
        if isinstance(event, ev.EventCorrected | ev.EventRetracted):
            self._become(timeline(events()), kind, at)
            return
        end = event.occurred.end
        self.last_end = max(end, self.last_end or end)
        if type(event) not in DATING:
            return
        late = self.dating_end is not None and end < self.dating_end
        self.dating_end = max(end, self.dating_end or end)
        if late:
            self._become(timeline(events()), kind, at)
        elif entries(after) != dated_before:
            self._become(self._from(end, entries(after)), kind, at)

    def _from(self, day: date, now: frozenset[Entry]) -> list[Span]:
        """The timeline with what is dated from `day` on replaced by `now`."""
        spans: list[Span] = []
        for row in self.current:
            entry, first, last = row.span
            if last <= day or (last == OPEN and entry in now):
                spans.append(row.span)
            elif first < day:
                spans.append((entry, first, day))
        going = {span[0] for span in spans if span[2] == OPEN}
        for entry in now - going:
            joined = next((n for n, s in enumerate(spans) if s[0] == entry and s[2] == day),
                          None)
            if joined is None:
                spans.append((entry, day, OPEN))
            else:
                spans[joined] = (entry, spans[joined][1], OPEN)
        return spans

    def _become(self, spans: Sequence[Span], kind: str, at: datetime) -> None:
        """Close (as at `at`) the rows not in `spans`, and open those new in it."""
        wanted = set(spans)
        kept = []
        for row in self.current:
            if row.span in wanted:
                kept.append(row)
                wanted.discard(row.span)
                continue
            row.recorded_to = at
            row.gone = row.recorded_from >= at
            self.closed.append(row)
        kept.extend(_Row(span[0], span[1], span[2], kind, at)
                    for span in spans if span in wanted)
        self.current = kept

    def new_rows(self) -> list[dict[str, Any]]:
        """The rows to insert: those opened since the table was read."""
        return [_row_dict(self.item_id, row) for row in (*self.current, *self.closed)
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
            match = and_(a.item_id == self.item_id, a.label == row.entry[0],
                         a.held == row.entry[1], a.from_day == row.from_day,
                         a.to_day == row.to_day, a.recorded_from == row.recorded_from,
                         a.recorded_to.is_(None))
            if row.gone:
                conn.execute(delete(t.agenda).where(match))
            else:
                conn.execute(update(t.agenda).where(match).values(recorded_to=row.recorded_to))
        self.closed = [row for row in self.closed if not row.stored]


def _aware(value: datetime) -> datetime:
    # SQLite keeps a timestamp as text without its zone: the log's are in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _row_dict(item_id: str, row: _Row) -> dict[str, Any]:
    label, held, when = row.entry
    return {"item_id": item_id, "label": label, "held": held, "kind": row.kind,
            "start": when.earliest if when.start else when.end, "end": when.end,
            "when": when.to_dict(), "from_day": row.from_day, "to_day": row.to_day,
            "recorded_from": row.recorded_from, "recorded_to": row.recorded_to}


def rows(timelines: Sequence[Timeline]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows to insert for these items' timelines (the marks afresh)."""
    return [(t.agenda, [row for tl in timelines for row in tl.new_rows()]),
            (t.agenda_marks, [tl.mark() for tl in timelines])]

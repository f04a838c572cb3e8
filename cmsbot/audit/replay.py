"""`audit replay`: the views rebuilt as they stood at a point, in a scratch store.

The point is a business date (what was true then, from everything known now, as `ask
--as-at` reads it), a recorded time (what the system knew then) or a log position. The
real projector applies the events visible at that point to a throwaway SQLite store, so the
board printed is the board the views would have shown; the live store is only read.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from cmsbot.audit.walk import walk
from cmsbot.db import create_views, make_engine
from cmsbot.eventstore.tracker import Positioned, Tracker
from cmsbot.settings import Database
from cmsbot.wording import cite, count, dated, day, status_line, status_since
from domain import events as ev
from domain.describe import describe
from domain.state import ItemState
from projections import queries as q
from projections.projector import Projector

_ALWAYS = (ev.ItemRegistered, ev.EventCorrected, ev.EventRetracted)


class ReplayError(ValueError):
    """A replay that cannot be made as asked: no such point in the log, or no place for
    the scratch store."""


@dataclass(frozen=True)
class Cutoff:
    """Where to replay to: exactly one of a position, a business date or a recorded time."""

    position: int | None = None
    as_at: date | None = None
    known_at: datetime | None = None

    @classmethod
    def parse(cls, text: str) -> Cutoff:
        value = text.strip()
        if re.fullmatch(r"\d+", value):
            return cls(position=int(value))
        try:
            if "T" in value or ":" in value:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return cls(known_at=moment if moment.tzinfo else moment.replace(tzinfo=UTC))
            return cls(as_at=date.fromisoformat(value))
        except ValueError:
            raise ReplayError(f"--until takes a date (2015-01-01), a recorded time "
                              f"(2026-03-03T12:00:00Z) or a log position (57), "
                              f"not {text!r}") from None

    def words(self) -> str:
        if self.position is not None:
            return f"position {self.position} of the log"
        if self.as_at is not None:
            return f"{day(self.as_at)} (business time)"
        return f"{self.known_at:%Y-%m-%d %H:%M} UTC (as recorded by then)"


class _VisibleLog:
    """The log as it stood at the cutoff, as the projector reads a log."""

    def __init__(self, tracker: Tracker, cutoff: Cutoff, stop: int | None) -> None:
        self.tracker, self.cutoff, self.stop = tracker, cutoff, stop
        self.hidden: set[UUID] = set()

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        while True:
            page = self.tracker.recorder.select_notifications(
                start=after, limit=limit, stop=self.stop, inclusive_of_start=False)
            if not page:
                return []
            events = [Positioned(n.id, self.tracker.mapper.to_domain_event(n)) for n in page]
            shown = [p for p in events if self.visible(p.event)]
            if shown or len(page) < limit:
                return shown
            after = page[-1].id  # a whole page of later events: read on

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        return [e for e in self.tracker.item_events(aggregate_id, up_to_version=up_to_version)
                if self.visible(e)]

    def visible(self, event: Any) -> bool:
        cutoff = self.cutoff
        if cutoff.known_at is not None:
            return bool(event.timestamp <= cutoff.known_at)
        if cutoff.as_at is None or not isinstance(event, ev.ItemRegistered | ev.ItemEvent):
            return True
        if event.originator_id in self.hidden:
            return False
        if isinstance(event, ev.ItemRegistered) and not event.occurred.certainly_by(
                cutoff.as_at) and not self._had_happened(event.originator_id, cutoff.as_at):
            self.hidden.add(event.originator_id)  # as the question engine: not yet begun
            return False
        if isinstance(event, ev.EventCorrected | ev.EventRetracted):
            return self._target_visible(event)  # as the question engine: with what it fixes
        return isinstance(event, _ALWAYS) or event.occurred.certainly_by(cutoff.as_at)

    def _target_visible(self, fix: ev.EventCorrected | ev.EventRetracted) -> bool:
        target = fix.corrects if isinstance(fix, ev.EventCorrected) else fix.retracts
        return any(e.originator_version == target and self.visible(e) for e in
                   self.tracker.item_events(fix.originator_id, up_to_version=target))

    def _had_happened(self, item: UUID, as_at: date) -> bool:
        return any(isinstance(e, ev.ItemEvent) and not isinstance(e, _ALWAYS)
                   and e.occurred.certainly_by(as_at) for e in self.tracker.item_events(item))


@dataclass
class Replay:
    """The board at the cutoff, and how to tell what happened to an item since."""

    cutoff: Cutoff
    events: int  # how many events the scratch views applied
    states: dict[str, ItemState]
    names: dict[str, str]
    source: _VisibleLog

    def later_events(self, tracker: Tracker, item_id: str) -> list[Any]:
        """The item's events now that were not visible at the cutoff."""
        then = self.states.get(item_id)
        events = tracker.item_events(UUID(item_id))
        if self.cutoff.position is not None:
            version = then.version if then is not None else 0
            return [e for e in events if e.originator_version > version]
        return [e for e in events if not self.source.visible(e)
                or (then is None and not isinstance(e, ev.ItemRegistered))]


def replay(tracker: Tracker, cutoff: Cutoff, *, keep: Path | None = None) -> Replay:
    """Rebuild every view as it stood at `cutoff` into a scratch SQLite store (kept at
    `keep` if given, else thrown away) and read its board."""
    stop = _log_id_at(tracker, cutoff.position) if cutoff.position is not None else None
    source = _VisibleLog(tracker, cutoff, stop)
    with tempfile.TemporaryDirectory(prefix="cmsbot-replay-") as scratch:
        path = keep or Path(scratch) / "replay.sqlite"
        if path.exists():
            raise ReplayError(f"{path} exists already; replay builds a new store")
        engine = make_engine(Database(f"sqlite:///{path}"), create=True)
        try:
            create_views(engine)
            count = Projector(engine, source).catch_up()
            states, names = _board(engine)
        finally:
            engine.dispose()
    return Replay(cutoff, count, states, names, source)


def _log_id_at(tracker: Tracker, position: int) -> int:
    if position < 1:
        raise ReplayError("log positions start at 1")
    last = None
    for entry in walk(tracker, decode=False, stop_position=position):
        last = entry
    if last is None or last.position < position:
        count = last.position if last else 0
        raise ReplayError(f"the log has only {count} events, so no position {position}")
    return last.log_id


def _board(engine: Engine) -> tuple[dict[str, ItemState], dict[str, str]]:
    with engine.connect() as conn:
        states = {row.item_id: ItemState.from_dict(row.state) for row in q.board(conn)}
        names = {row.key: row.acronym or row.name for row in q.partner_rows(conn)}
    return states, names


# Words ------------------------------------------------------------------------------------

_KINDS = {"agreement": "Agreements", "post": "Posts", "meeting": "Meetings and workshops",
          "consultation": "Consultations", "engagement": "Engagements"}


def _status_line(state: ItemState, names: dict[str, str], after: date | None) -> str:
    return status_line(state, [names.get(p, p) for p in state.partners], after, cited=False)


def board_text(result: Replay) -> str:
    states = sorted(result.states.values(), key=lambda s: (s.kind.value, s.title))
    after = result.cutoff.as_at
    lines = [f"Status board as at {result.cutoff.words()}: {count(len(states), 'item')} "
             f"(replayed from {count(result.events, 'event')})"]
    shown: str | None = None
    for state in states:
        kind = state.kind.value
        if kind != shown:
            shown = kind
            lines.append(f"\n{_KINDS.get(kind, kind.title())}")
        lines.append(f"  • {_status_line(state, result.names, after)}")
    return "\n".join(lines)


_COMPARED = ("title", "status", "status_since", "detail", "agenda", "held_on", "venue",
             "partners", "documents", "endorsements", "submissions", "period")


def diff_text(result: Replay, now: dict[str, ItemState], names: dict[str, str],
              tracker: Tracker) -> str:
    """What changed between the cutoff and now, item by item, with the events between."""
    blocks: list[str] = []
    unchanged = 0
    for item_id, state in sorted(now.items(), key=lambda kv: (kv[1].kind.value,
                                                               kv[1].title)):
        then = result.states.get(item_id)
        later = [e for e in result.later_events(tracker, item_id)
                 if not isinstance(e, ev.ItemRegistered)]
        if then is not None and _same(then, state) and not later:
            unchanged += 1
            continue
        if then is None:
            head = f"+ {state.title}: new; now {_status(state)}"
        elif _same(then, state):
            head = f"= {state.title}: still {_status(state)}"
        else:
            head = f"~ {state.title}: {_status(then)} → {_status(state)}"
            head += _field_changes(then, state, names)
        lines = [head] + [f"    • {e.occurred}: {describe(e, lambda k: names.get(k, k))} — "
                          f"{cite([e.source])}" for e in later]
        blocks.append("\n".join(lines))
    gone = [s for i, s in result.states.items() if i not in now]
    blocks += [f"- {s.title}: no longer on the board" for s in gone]
    header = (f"Changes since {result.cutoff.words()}, item by item: {len(blocks)} "
              f"changed, {unchanged} unchanged")
    return "\n".join([header, *blocks]) if blocks else header


def _status(state: ItemState) -> str:
    since = f", {status_since(state.status_since)}" if state.status_since is not None else ""
    return f"{state.status}" + (f" ({state.detail})" if state.detail else "") + since


def _same(a: ItemState, b: ItemState) -> bool:
    left, right = a.to_dict(), b.to_dict()
    return all(left[name] == right[name] for name in _COMPARED)


def _field_changes(then: ItemState, now: ItemState, names: dict[str, str]) -> str:
    notes = []
    added = [names.get(p, p) for p in now.partners if p not in then.partners]
    if added:
        notes.append("partners + " + ", ".join(added))
    documents = [d for d in now.documents if d not in then.documents]
    if documents:
        notes.append("documents + " + ", ".join(documents))
    if len(now.submissions) != len(then.submissions):
        notes.append(f"submissions {len(then.submissions)} → {len(now.submissions)}")
    before, after = then.next_entry(), now.next_entry()
    if before != after:
        notes.append(f"next: {_entry(before, now.title)} → {_entry(after, now.title)}")
    return f" [{'; '.join(notes)}]" if notes else ""


def _entry(entry: tuple[str, Any] | None, title: str) -> str:
    if entry is None:
        return "nothing"
    return str(entry[1]) if entry[0] == title else f"{entry[0]} {dated(entry[1])}"

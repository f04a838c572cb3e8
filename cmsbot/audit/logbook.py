"""`audit log`: every event in log order, with who, when, on what source, and what it
corrects or was corrected by."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from cmsbot.audit import tables as t
from cmsbot.audit.records import Book, record, recorded_of
from cmsbot.audit.walk import walk
from cmsbot.eventstore.tracker import Tracker
from domain import events as ev
from domain.provenance import recorder_of

_FIXES = (ev.EventCorrected.TOPIC, ev.EventRetracted.TOPIC)


@dataclass(frozen=True)
class LogFilter:
    """Which events to show: of one item (or partner), recorded in [since, until), by one
    actor. Empty fields show everything."""

    item: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None

    def accepts(self, event: Any, book: Book) -> bool:
        if self.item is not None and book.labels.get(event.originator_id) != self.item:
            return False
        recorded = recorded_of(event)
        if self.since is not None and recorded < self.since:
            return False
        if self.until is not None and recorded >= self.until:
            return False
        actor = getattr(event, "actor", None) or getattr(event, "claimed_by", None) or ""
        # Who recorded it: "cli:ann on behalf of X" is ann's record, not X's.
        return self.actor is None or recorder_of(actor).casefold() == self.actor.casefold()


@dataclass(frozen=True)
class Fix:
    """A correction or retraction, as the event it fixes sees it."""

    position: int | None  # None while the chain has not reached it
    log_id: int
    what: str  # "corrected" or "retracted"
    reason: str


def _fixes(engine: Engine, tracker: Tracker) -> dict[tuple[UUID, int], list[Fix]]:
    """Every correction and retraction in the log, by the (aggregate, version) it fixes.
    Reads only those events; positions come from the stored chain, or are counted on from
    its head for events it has not reached."""
    found: list[tuple[tuple[UUID, int], int, str, str]] = []
    after = 0
    while True:
        page = tracker.recorder.select_notifications(start=after, limit=1000, topics=_FIXES,
                                                     inclusive_of_start=False)
        for notification in page:
            event = tracker.mapper.to_domain_event(notification)
            if isinstance(event, ev.EventCorrected):
                found.append(((event.originator_id, event.corrects), notification.id,
                              "corrected", event.reason))
            elif isinstance(event, ev.EventRetracted):
                found.append(((event.originator_id, event.retracts), notification.id,
                              "retracted", event.reason))
        if len(page) < 1000:
            break
        after = page[-1].id
    positions: dict[int, int] = {}
    ids = [log_id for _, log_id, _, _ in found]
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = conn.execute(select(t.chain.c.log_id, t.chain.c.position).where(
                t.chain.c.log_id.in_(chunk)))
            positions.update({row.log_id: row.position for row in rows})
    missing = set(ids) - set(positions)
    if missing:
        positions.update(_unchained_positions(engine, tracker, missing))
    fixes: dict[tuple[UUID, int], list[Fix]] = {}
    for target, log_id, what, reason in found:
        fixes.setdefault(target, []).append(Fix(positions.get(log_id), log_id, what, reason))
    return fixes


def _unchained_positions(engine: Engine, tracker: Tracker, wanted: set[int],
                         ) -> dict[int, int]:
    """The positions of events the stored chain has not reached yet, counted on from its
    head (a read chains nothing)."""
    with engine.connect() as conn:
        head = conn.execute(select(t.chain_head.c.position, t.chain_head.c.log_id).where(
            t.chain_head.c.name == t.HEAD_ROW)).first()
    position, after = (head.position, head.log_id) if head else (0, 0)
    found: dict[int, int] = {}
    while len(found) < len(wanted):
        page = tracker.recorder.select_notifications(start=after, limit=1000,
                                                     inclusive_of_start=False)
        for notification in page:
            position += 1
            if notification.id in wanted:
                found[notification.id] = position
        if len(page) < 1000:
            break
        after = page[-1].id
    return found


def entries(engine: Engine, tracker: Tracker, wanted: LogFilter) -> Iterator[dict[str, Any]]:
    """The log's events as records, in log order, with corrections shown both ways."""
    fixes = _fixes(engine, tracker)
    targets: dict[tuple[UUID, int], tuple[int, str]] = {}
    book = Book()
    for entry in walk(tracker):
        event = entry.event
        book.learn(event)
        key = (event.originator_id, event.originator_version)
        accepted = wanted.accepts(event, book)
        if not accepted and key not in fixes:
            continue
        data = record(entry, book)
        if key in fixes:
            targets[key] = (entry.position, data["summary"])
        if not accepted:
            continue
        if key in fixes:
            data["fixed_by"] = [{"position": f.position, "what": f.what, "reason": f.reason}
                                for f in fixes[key]]
        if isinstance(event, ev.EventCorrected | ev.EventRetracted):
            target = event.corrects if isinstance(event, ev.EventCorrected) else event.retracts
            position, summary = targets.get((event.originator_id, target), (0, ""))
            data["fixes"] = {"position": position or None, "version": target,
                             "summary": summary}
        yield data


def occurred_words(occurred: dict[str, Any] | None) -> str:
    if occurred is None:
        return "—"
    marks = [occurred["precision"]]
    if occurred["start"] is None:
        marks.append("no later than")
    if occurred["tentative"]:
        marks.append("tentative")
    return f"{occurred['words']} [{', '.join(marks)}]"


def text(data: dict[str, Any]) -> str:
    """One event as a few lines for people."""
    recorded = datetime.fromisoformat(data["recorded"])
    lines = [
        f"#{data['position']}  {recorded:%Y-%m-%d %H:%M:%S} UTC  {data['actor'] or '?'}",
        f"    {data['item']} v{data['version']}  {data['type']} — {data['summary']}",
        f"    occurred: {occurred_words(data['occurred'])}   source: {data['cite'] or '—'}",
    ]
    if data["data"]:
        lines.append("    data: " + json.dumps(data["data"], ensure_ascii=False,
                                                 sort_keys=True))
    if data["note"]:
        lines.append(f"    note: {data['note']}")
    fixes = data.get("fixes")
    if fixes is not None:
        at = f"#{fixes['position']}" if fixes["position"] else "an event not shown"
        verb = "corrects" if data["type"] == "EventCorrected" else "retracts"
        lines.append(f"    {verb} {at} (v{fixes['version']}: {fixes['summary']})")
    for fix in data.get("fixed_by", []):
        at = f"#{fix['position']}" if fix["position"] else "an event not yet chained"
        lines.append(f"    {fix['what']} by {at}: {fix['reason']}")
    return "\n".join(lines)

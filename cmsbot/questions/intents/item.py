"""Where one item stands, and its history."""

from __future__ import annotations

from typing import Any

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel import agenda
from cmsbot.readmodel.resolve import ItemRef
from domain.dates import PartialDate
from domain.provenance import Source
from projections import queries as q

_FIXES = ("EventCorrected", "EventRetracted")
_RESTATED = "FactCorroborated"  # shown as a further source of the line it restates


def status(ask: Asking) -> Answer:
    """The status of the item the question names."""
    return about(ask, "status")


def history(ask: Asking) -> Answer:
    """The history of the item the question names."""
    return about(ask, "history")


def about(ask: Asking, intent: str) -> Answer:
    found = ask.item(ask.parsed.subject)
    if isinstance(found, Answer):
        return found
    if intent == "history":
        return _history(ask, found)
    state = agenda.state(ask.snap, found.item_id)
    if state is None:
        return Answer("status", phrases.nothing_yet(found.title, ask.when))
    match = ask.match(state, slips=True)
    return Answer("status", phrases.status(ask.status_line(state, match, slips=True), ask.when),
                  matches=[match], sources=list(state.sources))


def _history(ask: Asking, item: ItemRef) -> Answer:
    """Every event of the item from the activity view (cheap even for thousands),
    corrections and retractions shown beside what they correct."""
    snap = ask.snap
    state = agenda.state(snap, item.item_id)
    if state is None:
        return Answer("history", phrases.nothing_yet(item.title, ask.when))
    rows = q.item_activity(snap.conn, item.item_id, recorded_by=snap.known_at)
    fixes: dict[int, list[Any]] = {}
    for row in rows:
        if row.event_type in _FIXES or row.event_type == _RESTATED:
            fixes.setdefault(row.target_version, []).append(row)
    shown = []
    for row in rows:
        if row.event_type in (*_FIXES, _RESTATED, "ItemRegistered"):
            continue
        if snap.as_at is not None and row.occurred_end > snap.as_at:
            continue
        shown.append((PartialDate.from_dict(row.occurred), row))
    shown.sort(key=lambda pair: (pair[0].sort_key, pair[1].version))
    lines: list[Line] = []
    for when, row in shown:
        text = row.summary
        sources = [Source.from_dict(row.source)]
        for fix in fixes.get(row.version, []):
            if fix.event_type == _RESTATED:
                sources.append(Source.from_dict(fix.source))
                continue
            text = (f"~{text}~ [{fix.summary}]" if fix.event_type == "EventRetracted"
                    else f"{text} [{fix.summary}]")
            sources.append(Source.from_dict(fix.source))  # the fix's source beside the original's
        note = f" ({row.note})" if row.note else ""
        lines.append(Line(str(when), text + note, item.title,
                          tuple(unique_sources(sources))))
    match = ask.match(state, slips=True)
    return Answer("history", phrases.history(state.title, ask.when, lines,
                                             ask.status_line(state, match, slips=True)),
                  matches=[match],
                  sources=unique_sources([s for line in lines for s in line.sources])
                  or list(state.sources), lines=lines)

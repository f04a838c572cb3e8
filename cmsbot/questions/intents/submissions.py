"""Who submitted on a consultation (or on every consultation)."""

from __future__ import annotations

from typing import Any

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, Match, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.resolve import resolve
from domain import events as ev
from projections import queries as q


def submissions(ask: Asking) -> Answer:
    snap, subject = ask.snap, ask.parsed.subject
    if ask.index.normal(subject):
        resolution = resolve(ask.index, subject, kinds={"consultation"})
        if resolution.winner is not None:
            targets = [resolution.winner.item_id]
        elif resolution.tied:
            targets = [i.item_id for i in resolution.tied]
        else:
            return ask.not_found(subject, resolution)
    else:
        targets = [r.item_id for r in q.consultations(snap.conn)]
    lines: list[Line] = []
    matches: list[Match] = []
    blocks: list[str] = []
    for item_id in targets:
        events = snap.events_of(item_id)
        state = snap.state_from(events)
        if state is None:
            continue
        item_lines = [Line(str(e.occurred), f"{snap.name(e.submitter)}: “{e.title}”"
                           + (f" ({e.note})" if e.note else ""), state.title, (e.source,))
                      for e in _received(snap.visible(events))]
        lines += item_lines
        matches.append(ask.match(state))
        blocks.append(phrases.submissions_of(state.title, state.status, item_lines))
    return Answer("submissions", phrases.submissions(blocks, ask.when), matches=matches,
                  sources=unique_sources([s for line in lines for s in line.sources]),
                  lines=lines)


def _received(events: list[Any]) -> list[ev.SubmissionReceived]:
    retracted = {e.retracts for e in events if isinstance(e, ev.EventRetracted)}
    return [e for e in events if isinstance(e, ev.SubmissionReceived)
            and e.originator_version not in retracted]

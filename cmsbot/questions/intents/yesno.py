"""Yes/no questions: "did StC44 endorse the Ramsar JWP?" — yes, no or not recorded, as at
the answer's time, with the event that decides it and its source."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line
from cmsbot.questions.asking import Asking
from cmsbot.questions.verbs import VERBS
from domain import events as ev
from domain.dates import PartialDate
from domain.describe import describe
from domain.provenance import Source

YES, NO, UNKNOWN = "Yes", "No", "Not recorded"
# What rules a "yes" out for good: a meeting cancelled is never held, an agreement
# superseded or expired is not signed or endorsed after it.
_ENDED = ("MeetingCancelled", "AgreementSuperseded", "AgreementExpired", "PostVacated",
          "EngagementConcluded")


def yesno(ask: Asking) -> Answer:
    """Whether the named item's events (as at the answer's time) say it happened: yes,
    citing the event; no, citing the event that says it has not yet (or will not); or
    not recorded."""
    parsed = ask.parsed
    verb = VERBS.get(parsed.verb or "")
    if verb is None:
        return Answer("not_found", phrases.not_found(parsed.subject, []))
    found = ask.item(parsed.subject, kinds=set(verb.kinds) or None)
    if isinstance(found, Answer):
        return found
    snap = ask.snap
    events = snap.events_of(found.item_id)
    state = snap.state_from(events)
    if state is None:
        nothing = phrases.nothing_yet(found.title, ask.when)
        return Answer("yesno", f"{UNKNOWN}: {nothing[:1].lower()}{nothing[1:]}")
    shown = _effective(snap.visible(events))
    hits = [e for e in shown if type(e.event).__name__ in verb.events
            and (parsed.by is None or _names(e.event, parsed.by, snap.name))]
    verdict, deciding = (YES, hits[0]) if hits else _otherwise(ask, shown)
    match = ask.match(state)
    lines = [] if deciding is None else [
        Line(str(deciding.event.occurred), describe(deciding.event, snap.name), state.title,
             deciding.sources)]
    text = phrases.yes_no(verdict, state.title, verb.said, parsed.by, ask.when,
                          lines[0] if lines else None, ask.status_line(state, match))
    return Answer("yesno", text, matches=[match],
                  sources=list(deciding.sources) if deciding else [], lines=lines)


@dataclasses.dataclass(frozen=True)
class _Read:
    """An event as it now reads, with its source and those of its corrections."""

    event: Any
    sources: tuple[Source, ...]


def _otherwise(ask: Asking, shown: list[_Read]) -> tuple[str, _Read | None]:
    """No, when the item's events say it has not happened yet (a date of it is still
    ahead) or will not (cancelled, ended); else not recorded. With the event that says so."""
    ended = [e for e in shown if type(e.event).__name__ in _ENDED]
    if ended:
        return NO, ended[-1]
    reference = ask.snap.reference
    ahead = [e for e in shown if any(when.earliest > reference for when in _dates(e.event))]
    if ahead:
        return NO, ahead[-1]
    others = [e for e in shown if not isinstance(e.event, ev.ItemRegistered)]
    return UNKNOWN, others[-1] if others else None


def _dates(event: Any) -> list[PartialDate]:
    """The dates an event puts ahead of the item (a meeting's dates, a submission's
    meeting, a consultation's deadline)."""
    names = ("dates", "when", "meeting_date", "expected", "deadline", "start")
    return [v for v in (getattr(event, n, None) for n in names) if isinstance(v, PartialDate)]


def _effective(events: list[Any]) -> list[_Read]:
    """The events as they now read: retracted ones dropped, corrected ones corrected (and
    citing their corrections' sources beside their own), in business-date order."""
    retracted = {e.retracts for e in events if isinstance(e, ev.EventRetracted)}
    changes: dict[int, dict[str, Any]] = {}
    fixes: dict[int, list[Source]] = {}
    for e in events:
        if isinstance(e, ev.EventCorrected):
            changes.setdefault(e.corrects, {}).update(e.changes)
            fixes.setdefault(e.corrects, []).append(e.source)
    kept = [_Read(dataclasses.replace(e, **changes.get(e.originator_version, {})),
                  tuple(dict.fromkeys([e.source, *fixes.get(e.originator_version, [])])))
            for e in events if not isinstance(e, ev.EventCorrected | ev.EventRetracted)
            and e.originator_version not in retracted]
    return sorted(kept, key=lambda r: (r.event.occurred.sort_key, r.event.originator_version))


def _names(event: Any, by: str, name: Any) -> bool:
    """Whether the event names the body, meeting, venue or partner `by` names ("StC44",
    "the Standing Committee", "Germany")."""
    said: list[str] = []
    for field in dataclasses.fields(event):
        if field.name in ("actor", "source", "note", "ref", "occurred", "originator_id"):
            continue
        value = getattr(event, field.name)
        values = value if isinstance(value, list) else [value]
        said += [f"{v} {name(v)}" for v in values if isinstance(v, str)]
    words = set(_tokens(" ".join(said)))
    wanted = _tokens(by)
    return bool(wanted) and all(w in words for w in wanted)


def _tokens(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower())
            if w not in ("the", "of", "by", "at", "in", "during")]

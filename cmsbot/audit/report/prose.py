"""Plain-English sentences about an item: where it stood, what happened, what is open."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from domain import events as ev
from domain.dates import PartialDate
from domain.describe import describe
from domain.state import ItemState, Kind

_PHRASES = {
    "registered": "it was being followed, with nothing yet recorded",
    "proposed": "it had been proposed",
    "in drafting": "it was being drafted",
    "draft ready": "a draft text had been developed",
    "in negotiation": "it was under negotiation",
    "awaiting endorsement": "it was awaiting endorsement",
    "endorsed": "it had been endorsed",
    "signed": "it had been signed",
    "in implementation": "it was being implemented",
    "expired": "it had expired",
    "superseded": "it had been superseded",
    "funded": "the post was funded",
    "stalled": "it had stalled",
    "filled": "the post was filled",
    "vacant": "the post was vacant",
    "planned": "it was planned",
    "scheduled": "it was scheduled",
    "rescheduled": "it had been rescheduled",
    "cancelled": "it had been cancelled",
    "held": "it had been held",
    "announced": "a call for submissions had been announced",
    "open for submissions": "it was open for submissions",
    "closed": "it was closed for submissions",
    "consolidated": "the submissions had been consolidated",
    "ongoing": "it was ongoing",
    "concluded": "it had concluded",
}
_OPEN = {
    Kind.AGREEMENT: {"registered", "proposed", "in drafting", "draft ready", "in negotiation",
                     "awaiting endorsement"},
    Kind.POST: {"registered", "proposed", "funded", "stalled", "vacant"},
    Kind.CONSULTATION: {"registered", "announced", "open for submissions"},
}


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def listed(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def status_sentence(state: ItemState, when: str, told: Sequence[str] = ()) -> str:
    """"As at 1 September 2015, it had been endorsed by … (since 2014)." Parts of the
    status's detail that `told` (the item's happenings) already say are left out."""
    phrase = _PHRASES.get(state.status, f"it was {state.status}")
    said = " ".join(told).casefold()
    detail = "; ".join(part for part in (state.detail or "").split("; ")
                       if part and part.casefold() not in said)
    if detail and state.status in ("endorsed", "signed") and detail.startswith(state.status):
        phrase, detail = f"it had been {detail}", ""
    since = ""
    if state.status_since is not None:
        since = (f" (so {state.status_since})" if state.status_since.is_by
                 else f" (since {state.status_since})")
    return f"{capital(when)}, {phrase}" + (f": {detail}" if detail else "") + since + "."


def happenings(visible: list[Any], name: Callable[[str], str]) -> list[tuple[PartialDate, str]]:
    """What happened to the item, with corrections applied and retractions left out, in
    order of when it happened (the same reading as "history of X")."""
    retracted = {e.retracts for e in visible if isinstance(e, ev.EventRetracted)}
    fixes: dict[int, list[ev.EventCorrected]] = {}
    for e in visible:
        if isinstance(e, ev.EventCorrected):
            fixes.setdefault(e.corrects, []).append(e)
    shown = []
    for e in visible:
        if not isinstance(e, ev.ItemEvent) or isinstance(
                e, ev.EventCorrected | ev.EventRetracted | ev.FactCorroborated):  # a source
            continue
        if e.originator_version in retracted:
            continue
        reasons = []
        for fix in fixes.get(e.originator_version, []):
            e = dataclasses.replace(e, **fix.changes)
            reasons.append(fix.reason)
        text = _words(e, name) + (f" ({e.note})" if e.note else "")
        if reasons:
            text += f" [as corrected: {'; '.join(reasons)}]"
        shown.append((e.occurred, e.originator_version, text))
    shown.sort(key=lambda s: (s[0].sort_key, s[1]))
    return [(occurred, text) for occurred, _, text in shown]


def _words(event: Any, name: Callable[[str], str]) -> str:
    if isinstance(event, ev.MilestonePlanned):  # "Next: …" reads oddly as a past fact
        return f"Next step planned: {event.milestone}" + (
            f" ({event.when})" if event.when else "")
    return describe(event, name)


def next_sentence(state: ItemState, after: date | None) -> str | None:
    entry = state.next_entry(after)
    if entry is None:
        return None
    label, when = entry
    return f"Next: {when}." if label == state.title else f"Next: {label}, {when}."


def is_open(state: ItemState) -> bool:
    """Whether the item waits on something: an agreement not yet in force, a post not
    filled, a consultation not yet closed. Meetings and engagements are followed, not
    decided, so they are never open in this sense."""
    return state.status in _OPEN.get(state.kind, set()) or bool(state.pending_endorsements)


def action(state: ItemState) -> str:
    """What the Standing Committee is asked to do about an open item."""
    if state.pending_endorsements:
        bodies = listed([f"{body} at {meeting}" for body, meeting in
                         state.pending_endorsements])
        documents = f" ({', '.join(state.documents)})" if state.documents else ""
        return f"Consider {state.title}{documents}, submitted for endorsement by {bodies}"
    detail = f" ({state.detail})" if state.detail else ""
    return f"Take note of {state.title}: {state.status}{detail}"

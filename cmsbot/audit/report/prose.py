"""Plain-English sentences about an item: where it stood, what happened, what is open."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cmsbot.wording import dated
from domain import events as ev
from domain.dates import PartialDate
from domain.describe import describe
from domain.provenance import Source
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


@dataclass(frozen=True)
class Happening:
    """One thing that happened to the item, in words, with the sources that say it (its
    own and those of its corrections)."""

    when: PartialDate
    text: str
    sources: tuple[Source, ...]


def status_sentence(state: ItemState, as_at: date, happened: Sequence[Happening]) -> str:
    """"It had been endorsed by …." The parts of the status's detail that the happenings
    say already are left out, and so is its date when a happening says it or when it is
    only the report's own date (a source that gives no date states a thing as at its own
    date, and the report says that date once, at its head)."""
    phrase = _PHRASES.get(state.status, f"it was {state.status}")
    told = " ".join(h.text for h in happened).casefold()
    detail = "; ".join(kept for part in (state.detail or "").split("; ")
                       if (kept := _untold(part, told)))
    if detail and state.status in ("endorsed", "signed") and detail.startswith(state.status):
        phrase, detail = f"it had been {detail}", ""
    since = state.status_since
    when = ""
    said = {str(h.when) for h in happened}
    if since is not None and not _undated(since, as_at) and str(since) not in said and \
            str(since).casefold() not in f"{told} {detail.casefold()}":
        when = f", {since}" if since.is_by else f", since {since}"
    return capital(phrase) + (f": {detail}" if detail else "") + when + "."


def _untold(part: str, told: str) -> str:
    """The pieces of a part of the status's detail ("27-29 October 2015, Philippines")
    that the happenings do not say already ("next: X" says X)."""
    pieces = [piece for piece in part.split(", ") if piece and
              piece.split(": ", 1)[-1].casefold() not in told]
    return ", ".join(pieces)


def told(happened: Sequence[Happening], as_at: date) -> list[str]:
    """What happened, as the report says it: the things of one date after that date said
    once ("In 2014: …"), no date where every sentence says it already or where it is only
    the report's own date, and no sentence said twice."""
    out: list[str] = []
    seen: set[str] = set()
    for _, group in itertools.groupby(happened, key=lambda h: str(h.when)):
        said = list(group)
        sentences = []
        for happening in said:
            sentence = capital(happening.text.strip().rstrip(".")) + "."
            if sentence.casefold() not in seen:
                seen.add(sentence.casefold())
                sentences.append(sentence)
        if not sentences:
            continue
        when = said[0].when
        if _undated(when, as_at) or all(str(when) in s for s in sentences):
            out += sentences
        else:
            out.append(f"{capital(dated(when))}: " + " ".join(sentences))
    return out


def _undated(when: PartialDate, as_at: date) -> bool:
    """Whether the date is only "by" the report's own date: what a source that gives no
    date says of the things it states."""
    return when.is_by and when.end == as_at


def happenings(visible: list[Any], name: Callable[[str], str]) -> list[Happening]:
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
        reasons, sources = [], [e.source]
        for fix in fixes.get(e.originator_version, []):
            e = dataclasses.replace(e, **fix.changes)
            reasons.append(fix.reason)
            sources.append(fix.source)
        text = _words(e, name) + (f" ({e.note})" if e.note else "")
        if reasons:
            text += f" [as corrected: {'; '.join(reasons)}]"
        shown.append((e.occurred, e.originator_version, text, tuple(sources)))
    shown.sort(key=lambda s: (s[0].sort_key, s[1]))
    return [Happening(occurred, text, sources) for occurred, _, text, sources in shown]


def cited(visible: list[Any], happened: Sequence[Happening]) -> list[Source]:
    """The sources of what the paragraph shows: the item's registration (and what corrects
    it) and each happening; never a source of an event it leaves out."""
    registration = [e for e in visible if isinstance(e, ev.ItemRegistered)]
    sources = [e.source for e in registration]
    sources += [e.source for e in visible if isinstance(e, ev.EventCorrected)
                and e.corrects == 1]
    sources += [source for h in happened for source in h.sources]
    return list(dict.fromkeys(sources))


def _words(event: Any, name: Callable[[str], str]) -> str:
    if isinstance(event, ev.MilestonePlanned):  # "Next: …" reads oddly as a past fact
        return f"Next step planned: {event.milestone}" + (
            f" ({event.when})" if event.when else "")
    return describe(event, name)


def next_sentence(state: ItemState, after: date, said: Sequence[str],
                  skip: Collection[str] = ()) -> str | None:
    """What is next for the item (leaving out the steps in `skip`, which have settled),
    unless the paragraph's sentences (`said`) say its date already (they say it with what
    is to happen then)."""
    entry = state.next_entry(after, skip)
    if entry is None:
        return None
    label, when = entry
    text = " ".join(said).casefold()
    if str(when).casefold() in text:
        return None
    return (f"Next: {when}." if label == state.title
            else f"Next: {label}, {dated(when)}.")


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

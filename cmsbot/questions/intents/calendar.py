"""What is coming up (or was held): the calendar, for a window, a kind or a partner."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.questions.intents import item
from cmsbot.readmodel import agenda
from cmsbot.readmodel.snapshot import Dated

_DEADLINE_KINDS = frozenset({"agreement", "post", "consultation", "engagement"})


def upcoming(ask: Asking) -> Answer:
    """The dated entries in the window asked for (else ahead of, or before, the answer's
    day), of the kinds asked for, of a partner's items when one is named: those of the page
    asked for (`Asking.paged`), read from the views, and only their items' states."""
    parsed, snap = ask.parsed, ask.snap
    subject_items: list[str] | None = None
    partners = ask.index.only_partners(parsed.subject)
    if partners:
        subject_items = ask.items_of(partners)
    elif parsed.subject and ask.index.normal(parsed.subject):
        # "when is the Philippines workshop?" is about one item; "workshops in 2016" is
        # not, and is not searched for one.
        if not parsed.plural and parsed.window is None and ask.names_one(parsed.subject):
            return item.status(ask)
        named = ask.index.partners_in(parsed.subject)
        if named:
            subject_items = ask.items_of(named)
    kinds, subtypes = parsed.kinds - {"deadline"}, parsed.subtypes
    first: date | None
    last: date | None
    if parsed.window is not None:
        first, last = parsed.window
    elif parsed.past:  # "which meetings were held"
        first, last = None, snap.reference
    else:
        first, last = snap.reference, None
    if "deadline" in parsed.kinds:
        kinds = kinds or set(_DEADLINE_KINDS)
    wanted = _wanted(ask, subject_items, kinds, subtypes, first, last)
    entries, shown, total = ask.paged(
        lambda offset, count: agenda.dated(snap, replace(wanted, offset=offset, limit=count)))
    listed = phrases.what(kinds if "deadline" not in parsed.kinds else set(), subtypes)
    lines = [Line(str(when), phrases.agenda_entry(label, state, held), state.title,
                  state.cited(label)) for label, when, state, held in entries]
    states = list({id(e[2]): e[2] for e in entries}.values())
    text = phrases.upcoming(listed, phrases.window(first, last), ask.when, lines)
    return Answer("upcoming", text, matches=[ask.match(s) for s in states],
                  sources=unique_sources([s for line in lines for s in line.sources]),
                  lines=lines, first=shown, entries=total)


def _wanted(ask: Asking, item_ids: list[str] | None, kinds: set[str], subtypes: set[str],
            first: date | None, last: date | None) -> Dated:
    """The entries the question asks for: in the window asked for; else those still to
    come (not held, not over before the answer's day), or for the past ("which meetings
    were held") those held or over before it, whenever dated."""
    held, held_or_before = None, None
    if ask.parsed.window is None:
        if ask.parsed.past:
            first, last, held_or_before = None, None, ask.snap.reference
        else:
            held = False
    return Dated(first=first, last=last, kinds=frozenset(kinds),
                 workshops="workshop" in subtypes,
                 item_ids=tuple(item_ids) if item_ids is not None else None, held=held,
                 held_or_before=held_or_before, limit=None)

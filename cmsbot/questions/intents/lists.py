"""Lists of items: what we have with a partner, and the items of a kind."""

from __future__ import annotations

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.resolve import PartnerRef
from domain.state import ItemState
from projections import queries as q


def partner(ask: Asking, partner: PartnerRef) -> Answer:
    """Every item with the partner (of the kinds asked for), by kind and title."""
    states = ask.snap.states(q.items_with_partner(ask.snap.conn, partner.key))
    if ask.parsed.kinds:
        states = [s for s in states if s.kind.value in ask.parsed.kinds]
    states.sort(key=lambda s: (s.kind.value, s.title))
    lines = [Line(str(s.status_since or ""), ask.status_line(s), s.title, tuple(s.sources))
             for s in states]
    return _listed("partner", phrases.partner(partner.label, ask.when, lines), ask, states,
                   lines)


def listing(ask: Asking) -> Answer:
    """The items of the kinds asked for ("which agreements are awaiting endorsement")."""
    parsed = ask.parsed
    kinds = parsed.kinds - {"deadline"}
    ids = [i for kind in sorted(kinds) for i in q.item_ids(ask.snap.conn, kind=kind)]
    states = ask.snap.states(ids)
    if "JWP" in parsed.subtypes or "MoC" in parsed.subtypes:
        states = [s for s in states if s.subtype in parsed.subtypes]
    asked = parsed.text.lower()
    named = [status for status in {s.status for s in states} if status in asked]
    if named:  # "which agreements are awaiting endorsement"
        longest = max(named, key=len)
        states = [s for s in states if s.status == longest]
    lines = [Line("", ask.status_line(s), s.title, tuple(s.sources)) for s in states]
    text = phrases.listing(phrases.what(kinds, parsed.subtypes), ask.when, lines)
    return _listed("list", text, ask, states, lines)


def _listed(intent: str, text: str, ask: Asking, states: list[ItemState],
            lines: list[Line]) -> Answer:
    return Answer(intent, text, matches=[ask.match(s) for s in states],
                  sources=unique_sources([src for s in states for src in s.sources]),
                  lines=lines)

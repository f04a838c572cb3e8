"""What is overdue or slipped: the items whose planned dates have passed with no outcome
recorded, the steps whose meeting was held with none, and the meetings held or planned
later than first planned, or elsewhere; with their dates and sources."""

from __future__ import annotations

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.stale import stale
from cmsbot.wording import as_of


def overdue(ask: Asking) -> Answer:
    """Everything late or slipped as at the answer's day, of the kinds asked for, of a
    partner's items when one is named."""
    parsed, snap = ask.parsed, ask.snap
    item_ids: list[str] | None = None
    partners = ask.index.partners_in(parsed.subject)
    if partners:
        item_ids = ask.items_of(partners)
    states = list({id(e[2]): e[2] for e in snap.calendar(item_ids)}.values())
    kinds = parsed.kinds - {"deadline"}
    states = [s for s in states if not kinds or s.kind.value in kinds]
    found = stale(snap, states)
    lines = [Line(str(entry.when), entry.words(), entry.state.title,
                  tuple(entry.state.sources)) for entry in found]
    items = list({entry.state.id: entry.state for entry in found}.values())
    # Whether a date has passed depends on the day, so even an answer for now says it.
    when = ask.when or as_of(snap.reference, None)
    return Answer("overdue", phrases.overdue(when, lines),
                  matches=[ask.match(s) for s in items],
                  sources=unique_sources([s for st in items for s in st.sources]),
                  lines=lines)


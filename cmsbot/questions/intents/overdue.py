"""What is overdue or slipped: the items whose planned dates have passed with no outcome
recorded, the steps whose meeting was held with none, and the meetings held or planned
later than first planned, or elsewhere; with their dates and sources."""

from __future__ import annotations

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.stale_rows import stale_page
from cmsbot.wording import as_of


def overdue(ask: Asking) -> Answer:
    """Everything late or slipped as at the answer's day, of the kinds asked for, of a
    partner's items when one is named: the entries of the page asked for (`Asking.paged`),
    their items, the sources of their dates, and how many there are in all."""
    parsed, snap = ask.parsed, ask.snap
    item_ids: list[str] | None = None
    partners = ask.index.partners_in(parsed.subject)
    if partners:
        item_ids = ask.items_of(partners)
    kinds = frozenset(parsed.kinds - {"deadline"})
    found, first, total = ask.paged(lambda offset, count: stale_page(
        snap, kinds=kinds, item_ids=item_ids, first=offset, count=count))
    lines = [Line(str(entry.when), entry.words(), entry.state.title, entry.sources())
             for entry in found]
    items = list({entry.state.id: entry.state for entry in found}.values())
    # Whether a date has passed depends on the day, so even an answer for now says it.
    when = ask.when or as_of(snap.reference, None)
    return Answer("overdue", phrases.overdue(when, lines, total),
                  matches=[ask.match(s) for s in items],
                  sources=unique_sources([s for line in lines for s in line.sources]),
                  lines=lines, first=first, entries=total)

"""What is coming up (or was held): the calendar, for a window, a kind or a partner."""

from __future__ import annotations

from datetime import date

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.questions.intents import item
from cmsbot.readmodel.snapshot import CalendarEntry
from domain.dates import PartialDate
from projections import queries as q

_DEADLINE_KINDS = frozenset({"agreement", "post", "consultation", "engagement"})


def upcoming(ask: Asking) -> Answer:
    """The dated entries in the window asked for (else ahead of, or before, the answer's
    day), of the kinds asked for, of a partner's items when one is named."""
    parsed, snap = ask.parsed, ask.snap
    subject_items: list[str] | None = None
    partners = ask.index.only_partners(parsed.subject)
    if partners:
        subject_items = [i for partner in partners
                         for i in q.items_with_partner(snap.conn, partner.key)]
    elif parsed.subject and ask.index.normal(parsed.subject):
        # "when is the Philippines workshop?" is about one item; "workshops in 2016" is
        # not, and is not searched for one.
        if not parsed.plural and parsed.window is None and ask.names_one(parsed.subject):
            return item.status(ask)
        named = ask.index.partners_in(parsed.subject)
        if named:
            subject_items = [i for partner in named
                             for i in q.items_with_partner(snap.conn, partner.key)]
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
    entries = (_dated_then(ask, subject_items, kinds, subtypes, first, last)
               if snap.historical else
               _dated_now(ask, subject_items, kinds, subtypes, first, last))
    listed = phrases.what(kinds if "deadline" not in parsed.kinds else set(), subtypes)
    lines = [Line(str(when), phrases.agenda_entry(label, state, held), state.title,
                  tuple(state.sources)) for label, when, state, held in entries]
    states = list({id(e[2]): e[2] for e in entries}.values())
    text = phrases.upcoming(listed, phrases.window(first, last), ask.when, lines)
    return Answer("upcoming", text, matches=[ask.match(s) for s in states],
                  sources=unique_sources([s for st in states for s in st.sources]),
                  lines=lines)


def _in_range(ask: Asking, when: PartialDate, held: bool, first: date | None,
              last: date | None) -> bool:
    reference = ask.snap.reference
    if ask.parsed.window is None:
        if ask.parsed.past:
            return held or when.end < reference
        if held or when.end < reference:
            return False
    low, high = first or date.min, last or date.max
    # A "by" date counts only when it cannot fall after the range.
    return when.overlaps(low, high) and (not when.is_by or when.end <= high)


def _dated_then(ask: Asking, item_ids: list[str] | None, kinds: set[str], subtypes: set[str],
                first: date | None, last: date | None) -> list[CalendarEntry]:
    """As at a date or as known at a time: fold the items that had dates."""
    entries = [e for e in ask.snap.calendar(item_ids)
               if (not kinds or e[2].kind.value in kinds)
               and ("workshop" not in subtypes or (e[2].subtype or "") == "workshop"
                    or "workshop" in e[2].title.lower())
               and _in_range(ask, e[1], e[3], first, last)]
    entries.sort(key=lambda e: (e[1].sort_key, e[1].end, e[0]))
    return entries


def _dated_now(ask: Asking, item_ids: list[str] | None, kinds: set[str], subtypes: set[str],
               first: date | None, last: date | None) -> list[CalendarEntry]:
    """Now: the calendar view filters and sorts in SQL, by the rules of `_in_range` ("by"
    dates are stored at their end, so the same rules hold), and the items of its entries
    are read whole."""
    conn, reference = ask.snap.conn, ask.snap.reference
    held, held_or_before = None, None
    if ask.parsed.window is None:
        if ask.parsed.past:  # what was held, whenever dated, or is over by now
            first, last, held_or_before = None, None, reference
        else:
            held = False
    rows, _ = q.calendar_rows(conn, first=first, last=last, kinds=kinds or None,
                              workshops="workshop" in subtypes, item_ids=item_ids,
                              held=held, held_or_before=held_or_before)
    found = q.states(conn, list(dict.fromkeys(r.item_id for r in rows)))
    return [(r.label, PartialDate.from_dict(r.when), found[r.item_id], r.held)
            for r in rows if r.item_id in found]

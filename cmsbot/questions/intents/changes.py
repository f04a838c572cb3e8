"""What changed since a day: the activity of every item, or of those the question names."""

from __future__ import annotations

from datetime import timedelta

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.resolve import resolve
from domain.dates import PartialDate
from domain.provenance import Source
from projections import queries as q

ROWS_READ = 2000  # changes read at most (a list shows far fewer)


def changes(ask: Asking) -> Answer:
    parsed, snap = ask.parsed, ask.snap
    since = parsed.since or snap.reference - timedelta(days=7)
    subject_ids: set[str] | None = None
    if parsed.subject and ask.index.normal(parsed.subject):
        partners = ask.index.only_partners(parsed.subject)
        if partners:
            subject_ids = {i for partner in partners
                           for i in q.items_with_partner(snap.conn, partner.key)}
        else:
            found = resolve(ask.index, parsed.subject)
            if found.winner is not None:
                subject_ids = {found.winner.item_id}
    rows = q.activity_since(snap.conn, occurred_from=since, occurred_to=snap.as_at,
                            recorded_by=snap.known_at, limit=ROWS_READ)
    rows = [r for r in rows if r.event_type != "ItemRegistered"
            and (subject_ids is None or r.item_id in subject_ids)]
    titles = {i.item_id: i.title for i in ask.index.items}
    lines = [Line(str(PartialDate.from_dict(r.occurred)),
                  f"{titles.get(r.item_id, r.item_id)}: {r.summary}", titles.get(r.item_id),
                  (Source.from_dict(r.source),)) for r in rows]
    states = snap.states(list(dict.fromkeys(r.item_id for r in rows)))
    return Answer("changes", phrases.changes(since, ask.when, lines),
                  matches=[ask.match(s) for s in states],
                  sources=unique_sources([s for line in lines for s in line.sources]),
                  lines=lines)

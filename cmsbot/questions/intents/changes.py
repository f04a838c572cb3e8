"""What changed since a day (or a meeting, or the last report), of every item or of those
the question names: by business date ("what happened since StC44"), or by recorded time
("what was recorded since 1 September 2015", back-dated events included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line, unique_sources
from cmsbot.questions.asking import Asking
from cmsbot.readmodel.changes import Changed
from cmsbot.readmodel.changes_sql import changed
from cmsbot.readmodel.resolve import resolve
from cmsbot.wording import day, moment, span
from domain.dates import PartialDate
from domain.provenance import Source
from projections import queries as q


def changes(ask: Asking) -> Answer:
    """The changes asked for, grouped by item: the events of the page asked for
    (`Asking.paged`), read in order from the views (`changes_sql.changed`), their items and
    sources, and how many events (on how many items) there are in all."""
    parsed, snap = ask.parsed, ask.snap
    counted = _since(ask)
    if isinstance(counted, Answer):
        return counted
    since, until, words = counted
    subject_ids = _subject(ask)
    last = (snap.as_at if parsed.recorded
            else min(d for d in (until, snap.as_at, date.max) if d is not None))
    wanted = Changed(since, None if last == date.max else last, recorded=parsed.recorded,
                     known_at=snap.known_at,
                     item_ids=tuple(subject_ids) if subject_ids is not None else None)
    items_in_all = 0

    def read(first: int, count: int | None) -> tuple[list[Any], int]:
        nonlocal items_in_all
        rows, events, items_in_all = changed(snap.conn, wanted, first, count)
        return rows, events

    rows, first, total = ask.paged(read)
    titles = {i.item_id: i.title for i in ask.index.items}
    lines = [_line(r, titles.get(r.item_id, r.item_id), recorded=parsed.recorded)
             for r in rows]
    states = snap.states(list(dict.fromkeys(r.item_id for r in rows)))
    return Answer("changes", phrases.changes(words, ask.when, lines, recorded=parsed.recorded,
                                             events=total, items=items_in_all),
                  matches=[ask.match(s) for s in states],
                  sources=unique_sources([s for line in lines for s in line.sources]),
                  lines=lines, first=first, entries=total)


def _line(row: Any, title: str, *, recorded: bool) -> Line:
    """A change: its business date, or (`recorded`) when it was recorded and its date."""
    when = PartialDate.from_dict(row.occurred)
    source = (Source.from_dict(row.source),)
    # Each line names its item, so that a page of them reads alone; a note is said as the
    # item's history says it.
    said = f"{title}: {row.summary}" + (f" ({row.note})" if row.note else "")
    if recorded:
        return Line(moment(_utc(row.recorded)), f"{said} (dated {when})", title, source)
    return Line(str(when), said, title, source)


def _utc(value: datetime | str) -> datetime:
    moment_ = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment_ if moment_.tzinfo else moment_.replace(tzinfo=UTC)


def _subject(ask: Asking) -> set[str] | None:
    """The items the question names (a partner's, or one item), or None for every item."""
    parsed = ask.parsed
    if not (parsed.subject and ask.index.normal(parsed.subject)):
        return None
    partners = ask.index.only_partners(parsed.subject)
    if partners:
        return set(ask.items_of(partners))
    found = resolve(ask.index, parsed.subject)
    return {found.winner.item_id} if found.winner is not None else None


def _since(ask: Asking) -> tuple[date, date | None, str] | Answer:
    """The day the changes count from, the last day (a window's end, or None), and the
    words saying so: "since 1 September 2015", "since StC44 (14-15 October 2015)", "since
    the last report (UNEP/CMS/StC44/18, as at 1 September 2015)", "in October 2015"."""
    parsed, snap = ask.parsed, ask.snap
    if parsed.since_name:
        return _since_named(ask, parsed.since_name)
    if parsed.since is not None:
        return parsed.since, None, f"since {day(parsed.since)}"
    if parsed.window is not None:
        first, last = parsed.window
        return first, last, span(first, last)
    since = snap.reference - timedelta(days=7)
    return since, None, f"since {day(since)}"


def _since_named(ask: Asking, name: str) -> tuple[date, date | None, str] | Answer:
    snap = ask.snap
    if name.lower().rstrip("s") in ("last report", "latest report", "previous report",
                                    "last document", "report"):
        found = q.latest_report(snap.conn, occurred_by=snap.as_at, recorded_by=snap.known_at)
        if found is None:
            return Answer("changes", f"No report is recorded{_when(ask)}, so I can't tell "
                          "when the last one was.")
        document, as_at = found
        return as_at, None, f"since the last report ({document}, as at {day(as_at)})"
    meeting = resolve(ask.index, name, kinds={"meeting"}).winner
    state = snap.state(meeting.item_id) if meeting is not None else None
    when = None
    if state is not None:
        when = state.held_on or next((w for label, w in state.agenda if label == state.title),
                                     None)
    if state is None or when is None:
        return Answer("unread", f"I can't tell when “{name}” was: it is not a date I can "
                      f"read, nor a meeting with a date recorded{_when(ask)}. Ask “since "
                      "1 September 2015” or name a meeting (“since StC44”).")
    return when.earliest, None, f"since {state.title} ({when})"


def _when(ask: Asking) -> str:
    return f" {ask.when}" if ask.when else ""

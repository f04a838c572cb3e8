"""The question engine: a question in, an `Answer` with its sources out.

Current answers read the views. An as-at answer (business time) or a known-at answer
(recorded time) folds the events of just the items it is about, filtered to that time, so
no question replays the whole log.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Connection, Engine

from cmsbot.eventstore.tracker import Tracker
from cmsbot.questions import parse as p
from cmsbot.questions.answer import Answer, Line, Match, cite, match_of, unique_sources
from cmsbot.questions.resolve import Index, ItemRef, PartnerRef, Resolution, resolve
from domain import events as ev
from domain.dates import PartialDate
from domain.provenance import Source
from domain.state import ItemState, fold
from projections import queries as q

T = TypeVar("T")
LIST_LIMIT = 25
DERIVED_KEPT = 8  # what is derived from one survey: a few periods' digest material
HISTORY_LIMIT = 100
_FIXES = ("EventCorrected", "EventRetracted")
HELP_TEXT = (
    "Ask me about the Secretariat's partnerships, for example:\n"
    "• status of IWC JWP — where an item stands, with its sources\n"
    "• history of the CITES joint work plan — everything recorded about it\n"
    "• what's coming up / upcoming workshops / meetings in 2016\n"
    "• what changed since 1 June 2015\n"
    "• what do we have with Ramsar?\n"
    "• who submitted on civil society?\n"
    "Add --as-at DATE for what was true then, or --known-at TIME for what we knew then.\n"
    "In Slack: /cms record (editors), /cms subscribe [weekly|daily] [mon 09:00] "
    "[Europe/Berlin] [partner, kind or item], /cms unsubscribe, /cms subscriptions, "
    "/cms follow <item or partner>, /cms unfollow <…>."
)
KIND_NAMES = {"agreement": "agreements", "meeting": "meetings", "post": "posts",
              "consultation": "consultations", "engagement": "engagements"}


class QuestionEngine:
    """Answers questions from the views and, for past times, from the items' own events."""

    def __init__(self, engine: Engine, tracker: Tracker, *,
                 before_reading: Callable[[], Any] | None = None,
                 today: Callable[[], date] | None = None) -> None:
        self.engine, self.tracker = engine, tracker
        self.before_reading = before_reading
        self.today = today or (lambda: datetime.now(UTC).date())
        self._index: tuple[int, Index] | None = None
        self._survey: _Kept | None = None

    # Entry point ----------------------------------------------------------------------

    def answer(self, question: str, *, as_at: date | None = None,
               known_at: datetime | None = None) -> Answer:
        """Answer one question. It never raises for what a user can type."""
        if self.before_reading is not None:
            self.before_reading()
        question = question[:4000]
        reference = as_at or (known_at.date() if known_at else self.today())
        parsed = p.parse(question, reference)
        with self.engine.connect() as conn:
            ask = _Asking(self, conn, parsed, as_at, known_at, reference)
            answer = ask.run()
        answer.as_at = as_at.isoformat() if as_at else None
        answer.known_at = known_at.isoformat() if known_at else None
        return answer

    def snapshot(self, conn: Connection, *, as_at: date | None = None,
                 known_at: datetime | None = None) -> Snapshot:
        reference = as_at or (known_at.date() if known_at else self.today())
        if known_at is not None and as_at is None and _knows_everything(conn, known_at):
            known_at = None  # nothing recorded since: the current views are exact, and cheap
        return Snapshot(self, conn, as_at, known_at, reference)

    def survey(self, snap: Snapshot) -> tuple[list[ItemState], list[CalendarEntry]]:
        """Every item's state (by title) and calendar entry as the snapshot sees them; kept
        while no item changes (the events of channels and digests, such as each digest's
        claim, leave it), so a hundred channels' digests read them once."""
        kept = self._kept(snap)
        if kept.survey is None:
            states = snap.states([i.item_id for i in snap.index.items])
            calendar = snap.calendar(known={s.id: s for s in states})  # read once, not twice
            kept.survey = (sorted(states, key=lambda s: s.title), calendar)
        return kept.survey

    def derived(self, snap: Snapshot, key: Hashable, make: Callable[[], T]) -> T:
        """What `make` computes from what the snapshot sees (a period's digest material,
        say), kept under `key` as long as the survey would be: while no item changes."""
        kept = self._kept(snap).derived
        try:
            value: T = kept[key]
        except KeyError:
            value = make()
            for oldest in list(kept)[:max(0, len(kept) - DERIVED_KEPT + 1)]:
                kept.pop(oldest, None)
            kept[key] = value
        return value

    def _kept(self, snap: Snapshot) -> _Kept:
        key = (q.items_position(snap.conn), q.names_position(snap.conn), snap.as_at,
               snap.known_at)
        kept = self._survey
        if kept is None or kept.key != key:
            kept = self._survey = _Kept(key)
        return kept

    def index(self, conn: Connection) -> Index:
        position = q.names_position(conn)
        if self._index is None or self._index[0] != position:
            self._index = (position, Index(q.index_rows(conn), q.partner_rows(conn)))
        return self._index[1]


CalendarEntry = tuple[str, PartialDate, ItemState, bool]  # label, date, item, held


@dataclass
class _Kept:
    """What is kept while no item changes: the survey (once read), and what was derived."""

    key: Hashable
    survey: tuple[list[ItemState], list[CalendarEntry]] | None = None
    derived: dict[Hashable, Any] = field(default_factory=dict)


def _knows_everything(conn: Connection, moment: datetime) -> bool:
    latest = q.latest_recorded(conn)
    return latest is None or latest <= moment


class Snapshot:
    """The items as they stood at a business date and/or a recorded time (or now), read
    through one connection. Digests and reports read through it too."""

    def __init__(self, engine: QuestionEngine, conn: Connection, as_at: date | None,
                 known_at: datetime | None, reference: date) -> None:
        self.engine, self.conn = engine, conn
        self.as_at, self.known_at, self.reference = as_at, known_at, reference
        self.index = engine.index(conn)
        self.names = {k: (r.acronym or r.name) for k, r in self.index.partners.items()}

    @property
    def historical(self) -> bool:
        return self.as_at is not None or self.known_at is not None

    def when_words(self) -> str:
        words = []
        if self.as_at:
            words.append(f"as at {_day(self.as_at)}")
        if self.known_at:
            words.append(f"as known on {self.known_at:%d %B %Y %H:%M} UTC")
        return " ".join(words)

    def suffix(self) -> str:
        words = self.when_words()
        return f" ({words})" if words else ""

    # Reading states at the answer's time ------------------------------------------------

    def events_of(self, item_id: str) -> list[Any]:
        events = self.engine.tracker.item_events(UUID(item_id))
        if self.known_at is not None:
            events = [e for e in events if e.timestamp <= self.known_at]
        return events

    def visible(self, events: list[Any]) -> list[Any]:
        if self.as_at is None:
            return events
        return [e for e in events if isinstance(e, ev.ItemRegistered | ev.EventCorrected |
                                                   ev.EventRetracted)
                or e.occurred.certainly_by(self.as_at)]

    def state(self, item_id: str) -> ItemState | None:
        if not self.historical:
            return q.states(self.conn, [item_id]).get(item_id)
        return self.state_from(self.events_of(item_id))

    def state_from(self, events: list[Any]) -> ItemState | None:
        visible = self.visible(events)
        if not visible:
            return None
        registration = visible[0]
        if self.as_at is not None and len(visible) == sum(
                isinstance(e, ev.EventCorrected | ev.EventRetracted) for e in visible) + 1 \
                and not registration.occurred.certainly_by(self.as_at):
            return None  # nothing had happened to it yet
        return fold(visible)

    def states(self, item_ids: list[str]) -> list[ItemState]:
        if not self.historical:
            found = q.states(self.conn, item_ids)
            return [found[i] for i in item_ids if i in found]
        return [s for s in (self.state(i) for i in item_ids) if s is not None]

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def match(self, state: ItemState) -> Match:
        return match_of(state, self.names, self.reference)

    def calendar(self, item_ids: list[str] | None = None, *,
                 known: dict[str, ItemState] | None = None) -> list[CalendarEntry]:
        """(label, date, item, held) for every dated entry of the items (default: all);
        `known` holds states already read through this snapshot, by item id."""
        if item_ids is None:
            if self.historical:
                item_ids = q.agenda_item_ids(self.conn, occurred_by=self.as_at,
                                             recorded_by=self.known_at)
            else:
                rows = q.calendar_between(self.conn, date.min, date.max)
                item_ids = list(dict.fromkeys(r.item_id for r in rows))
        if known is not None:
            missing = [i for i in item_ids if i not in known]
            if missing:
                known = {**known, **{s.id: s for s in self.states(missing)}}
            states = [known[i] for i in item_ids if i in known]
        else:
            states = self.states(item_ids)
        entries = []
        for state in states:
            for label, when in state.agenda:
                entries.append((label, when, state, False))
            if state.held_on is not None:
                entries.append((state.title, state.held_on, state, True))
        return entries



class _Asking(Snapshot):
    """One question being answered."""

    def __init__(self, engine: QuestionEngine, conn: Connection, parsed: p.Parsed,
                 as_at: date | None, known_at: datetime | None, reference: date) -> None:
        super().__init__(engine, conn, as_at, known_at, reference)
        self.parsed = parsed

    # Dispatch -------------------------------------------------------------------------

    def run(self) -> Answer:
        intent = self.parsed.intent
        if intent == "help":
            return Answer("help", HELP_TEXT)
        if intent == "submissions":
            return self.submissions()
        if intent == "changes":
            return self.changes()
        partners = self.index.only_partners(self.parsed.subject)
        if intent == "upcoming":
            return self.upcoming(partners)
        if partners and intent == "status":
            return self.partner(partners[0])
        if intent == "status" and self.parsed.listy and self.parsed.kinds and not \
                self._strong(self.parsed.subject):
            return self.listing()
        return self.about_item(intent)

    def _strong(self, subject: str) -> bool:
        return resolve(self.index, subject).winner is not None

    def _resolve_item(self, subject: str, kinds: set[str] | None = None,
                      ) -> ItemRef | Answer:
        found = resolve(self.index, subject, kinds=kinds)
        if found.winner is not None:
            return found.winner
        return self._not_found(subject, found)

    def _not_found(self, subject: str, found: Resolution) -> Answer:
        if found.tied:
            states = self.states([i.item_id for i in found.tied])
            matches = [self.match(s) for s in states] or [
                Match(i.item_id, i.key, i.kind, i.title, "", None, [], None) for i in found.tied]
            text = "Did you mean:\n" + "\n".join(
                f"• {m.title} ({m.kind}{', ' + m.status if m.status else ''})" for m in matches)
            return Answer("clarify", text, matches=matches, candidates=matches)
        shown = subject.strip() or "that"
        if found.suggestions:
            titles = "; ".join(s.title for s in found.suggestions)
            text = f"I couldn't find “{_clip(shown)}”. Did you mean: {titles}?"
        else:
            text = (f"I couldn't find “{_clip(shown)}” among the items I track. "
                    "Try a partner (\"what do we have with CITES?\") or \"help\".")
        return Answer("not_found", text, candidates=[
            Match(s.item_id, s.key, s.kind, s.title, "", None, [], None)
            for s in found.suggestions])

    # Status and history -----------------------------------------------------------------

    def about_item(self, intent: str) -> Answer:
        found = self._resolve_item(self.parsed.subject)
        if isinstance(found, Answer):
            return found
        if intent == "history":
            return self.history(found)
        state = self.state(found.item_id)
        if state is None:
            return Answer("status", f"Nothing had been recorded about {found.title} "
                          f"{self.when_words() or 'yet'}.")
        match = self.match(state)
        return Answer("status", _status_text(state, match) + self.suffix() + ".",
                      matches=[match], sources=list(state.sources))

    def history(self, item: ItemRef) -> Answer:
        """Every event of the item from the activity view (cheap even for thousands),
        corrections and retractions shown beside what they correct."""
        state = self.state(item.item_id)
        if state is None:
            return Answer("history", f"Nothing had been recorded about {item.title} "
                          f"{self.when_words() or 'yet'}.")
        rows = q.item_activity(self.conn, item.item_id, recorded_by=self.known_at)
        fixes: dict[int, list[Any]] = {}
        for row in rows:
            if row.event_type in _FIXES:
                fixes.setdefault(row.target_version, []).append(row)
        shown = []
        for row in rows:
            if row.event_type in _FIXES or row.event_type == "ItemRegistered":
                continue
            if self.as_at is not None and row.occurred_end > self.as_at:
                continue
            shown.append((PartialDate.from_dict(row.occurred), row))
        shown.sort(key=lambda pair: (pair[0].sort_key, pair[1].version))
        lines: list[Line] = []
        for when, row in shown:
            text = row.summary
            for fix in fixes.get(row.version, []):
                text = (f"~{text}~ [{fix.summary}]" if fix.event_type == "EventRetracted"
                        else f"{text} [{fix.summary}]")
            note = f" ({row.note})" if row.note else ""
            lines.append(Line(str(when), text + note, item.title,
                              (Source.from_dict(row.source),)))
        body = "\n".join(f"• {line.when}: {line.text} — {cite(list(line.sources))}"
                         for line in lines[-HISTORY_LIMIT:])
        if len(lines) > HISTORY_LIMIT:
            body = f"… {len(lines) - HISTORY_LIMIT} earlier events\n" + body
        text = (f"History of {state.title}{self.suffix()}:\n"
                f"{body or '• (no events beyond its registration)'}\n"
                f"Now: {_status_text(state, self.match(state))}.")
        return Answer("history", text, matches=[self.match(state)],
                      sources=unique_sources([s for line in lines for s in line.sources])
                      or list(state.sources), lines=lines)

    # Lists ------------------------------------------------------------------------------

    def upcoming(self, partners: list[PartnerRef]) -> Answer:
        parsed = self.parsed
        subject_items: list[str] | None = None
        if partners:
            subject_items = [i for partner in partners
                             for i in q.items_with_partner(self.conn, partner.key)]
        elif parsed.subject and self.index.normal(parsed.subject):
            # "when is the Philippines workshop?" is about one item; "workshops in 2016" is
            # not, and is not searched for one.
            if (not parsed.plural and parsed.window is None
                    and resolve(self.index, parsed.subject).winner is not None):
                return self.about_item("status")
            named = self.index.partners_in(parsed.subject)
            if named:
                subject_items = [i for partner in named
                                 for i in q.items_with_partner(self.conn, partner.key)]
        kinds, subtypes = parsed.kinds - {"deadline"}, parsed.subtypes
        if parsed.window is not None:
            first, last = parsed.window
            span = _span(first, last)
        elif parsed.past:  # "which meetings were held"
            first, last = None, self.reference
            span = f"before {_day(self.reference)}"
        else:
            first, last = self.reference, None
            span = f"after {_day(self.reference)}"
        if "deadline" in parsed.kinds:
            kinds = kinds or {"agreement", "post", "consultation", "engagement"}
        entries, total = (self._dated_then(subject_items, kinds, subtypes, first, last)
                          if self.historical else
                          self._dated_now(subject_items, kinds, subtypes, first, last))
        what = _what(kinds if "deadline" not in parsed.kinds else set(), subtypes)
        lines = [Line(str(when), _agenda_text(label, state, held), state.title,
                      tuple(state.sources)) for label, when, state, held in entries]
        states = list({id(e[2]): e[2] for e in entries}.values())
        if not lines:
            text = f"No {what} are on the calendar {span}{self.suffix()}."
        else:
            more = f"\n… and {total - len(lines)} more" if total > len(lines) else ""
            text = (f"{what.capitalize()} {span}{self.suffix()}:\n"
                    + _bullets(lines, LIST_LIMIT) + more)
        return Answer("upcoming", text, matches=[self.match(s) for s in states],
                      sources=unique_sources([s for st in states for s in st.sources]),
                      lines=lines)

    def _in_range(self, when: PartialDate, held: bool, first: date | None,
                  last: date | None) -> bool:
        if self.parsed.window is None:
            if self.parsed.past:
                return held or when.end < self.reference
            if held or when.end < self.reference:
                return False
        low, high = first or date.min, last or date.max
        # A "by" date counts only when it cannot fall after the range.
        return when.overlaps(low, high) and (not when.is_by or when.end <= high)

    def _dated_then(self, item_ids: list[str] | None, kinds: set[str], subtypes: set[str],
                    first: date | None, last: date | None,
                    ) -> tuple[list[CalendarEntry], int]:
        """As at a date or as known at a time: fold the items that had dates."""
        entries = [e for e in self.calendar(item_ids)
                   if (not kinds or e[2].kind.value in kinds)
                   and ("workshop" not in subtypes or (e[2].subtype or "") == "workshop"
                        or "workshop" in e[2].title.lower())
                   and self._in_range(e[1], e[3], first, last)]
        entries.sort(key=lambda e: (e[1].sort_key, e[1].end, e[0]))
        return entries, len(entries)

    def _dated_now(self, item_ids: list[str] | None, kinds: set[str], subtypes: set[str],
                   first: date | None, last: date | None,
                   ) -> tuple[list[CalendarEntry], int]:
        """Now: the calendar view filters, sorts and counts in SQL, by the rules of
        `_in_range` ("by" dates are stored at their end, so the same rules hold); only the
        entries shown are read, and their items read whole."""
        held, held_or_before = None, None
        if self.parsed.window is None:
            if self.parsed.past:  # what was held, whenever dated, or is over by now
                first, last, held_or_before = None, None, self.reference
            else:
                held = False
        rows, total = q.calendar_rows(self.conn, first=first, last=last, kinds=kinds or None,
                                      workshops="workshop" in subtypes, item_ids=item_ids,
                                      held=held, held_or_before=held_or_before,
                                      limit=LIST_LIMIT)
        found = q.states(self.conn, list(dict.fromkeys(r.item_id for r in rows)))
        return [(r.label, PartialDate.from_dict(r.when), found[r.item_id], r.held)
                for r in rows if r.item_id in found], total

    def partner(self, partner: PartnerRef) -> Answer:
        ids = q.items_with_partner(self.conn, partner.key)
        states = self.states(ids)
        if self.parsed.kinds:
            states = [s for s in states if s.kind.value in self.parsed.kinds]
        states.sort(key=lambda s: (s.kind.value, s.title))
        if not states:
            return Answer("partner", f"Nothing is recorded with {partner.label}"
                          f"{self.suffix()}.")
        lines = [Line(str(s.status_since or ""), _status_text(s, self.match(s)), s.title,
                      tuple(s.sources)) for s in states]
        count = len(states)
        text = (f"With {partner.label} we have {count} item{'s' if count != 1 else ''}"
                f"{self.suffix()}:\n" + _bullets(lines, LIST_LIMIT, when=False))
        return Answer("partner", text, matches=[self.match(s) for s in states],
                      sources=unique_sources([src for s in states for src in s.sources]),
                      lines=lines)

    def listing(self) -> Answer:
        kinds = self.parsed.kinds - {"deadline"}
        ids = [i for kind in sorted(kinds) for i in q.item_ids(self.conn, kind=kind)]
        states = self.states(ids)
        if "JWP" in self.parsed.subtypes or "MoC" in self.parsed.subtypes:
            states = [s for s in states if s.subtype in self.parsed.subtypes]
        asked = self.parsed.text.lower()
        named = [status for status in {s.status for s in states} if status in asked]
        if named:  # "which agreements are awaiting endorsement"
            longest = max(named, key=len)
            states = [s for s in states if s.status == longest]
        lines = [Line("", _status_text(s, self.match(s)), s.title, tuple(s.sources))
                 for s in states]
        what = _what(kinds, self.parsed.subtypes)
        text = (f"{what.capitalize()}{self.suffix()}: {len(lines)}\n"
                + _bullets(lines, LIST_LIMIT, when=False)) if lines else \
            f"No {what} are recorded{self.suffix()}."
        return Answer("list", text, matches=[self.match(s) for s in states],
                      sources=unique_sources([src for s in states for src in s.sources]),
                      lines=lines)

    def changes(self) -> Answer:
        since = self.parsed.since or self.reference - timedelta(days=7)
        subject_ids: set[str] | None = None
        if self.parsed.subject and self.index.normal(self.parsed.subject):
            partners = self.index.only_partners(self.parsed.subject)
            if partners:
                subject_ids = {i for partner in partners
                               for i in q.items_with_partner(self.conn, partner.key)}
            else:
                found = resolve(self.index, self.parsed.subject)
                if found.winner is not None:
                    subject_ids = {found.winner.item_id}
        rows = q.activity_since(self.conn, occurred_from=since, occurred_to=self.as_at,
                                recorded_by=self.known_at, limit=2000)
        rows = [r for r in rows if r.event_type != "ItemRegistered"
                and (subject_ids is None or r.item_id in subject_ids)]
        titles = {i.item_id: i for i in self.index.items}
        lines = [Line(str(PartialDate.from_dict(r.occurred)),
                      f"{titles[r.item_id].title if r.item_id in titles else r.item_id}: "
                      f"{r.summary}",
                      titles[r.item_id].title if r.item_id in titles else None,
                      (Source.from_dict(r.source),)) for r in rows]
        ids = list(dict.fromkeys(r.item_id for r in rows))
        states = self.states(ids)
        header = f"Changes since {_day(since)}{self.suffix()}"
        text = (f"{header}: {len(lines)}\n" + _bullets(lines, LIST_LIMIT)) if lines else \
            f"Nothing changed since {_day(since)}{self.suffix()}."
        return Answer("changes", text, matches=[self.match(s) for s in states],
                      sources=unique_sources([s for line in lines for s in line.sources]),
                      lines=lines)

    def submissions(self) -> Answer:
        subject = self.parsed.subject
        if self.index.normal(subject):
            resolution = resolve(self.index, subject, kinds={"consultation"})
            if resolution.winner is not None:
                targets = [resolution.winner.item_id]
            elif resolution.tied:
                targets = [i.item_id for i in resolution.tied]
            else:
                return self._not_found(subject, resolution)
        else:
            targets = [r.item_id for r in q.consultations(self.conn)]
        lines: list[Line] = []
        matches: list[Match] = []
        blocks: list[str] = []
        for item_id in targets:
            events = self.events_of(item_id)
            state = self.state_from(events)
            if state is None:
                continue
            received = _submissions(self.visible(events))
            item_lines = [Line(str(e.occurred), f"{self.names.get(e.submitter, e.submitter)}: "
                               f"“{e.title}”" + (f" ({e.note})" if e.note else ""),
                               state.title, (e.source,)) for e in received]
            lines += item_lines
            matches.append(self.match(state))
            count = len(item_lines)
            head = (f"{state.title} ({state.status}): {count} submission"
                    f"{'s' if count != 1 else ''}")
            blocks.append(head + ("\n" + _bullets(item_lines, LIST_LIMIT) if item_lines else ""))
        if not blocks:
            return Answer("submissions", f"No consultations are recorded{self.suffix()}.")
        text = "\n".join(blocks) + (f"\n({self.when_words()})" if self.when_words() else "")
        return Answer("submissions", text, matches=matches,
                      sources=unique_sources([s for line in lines for s in line.sources]),
                      lines=lines)


def _submissions(events: list[Any]) -> list[ev.SubmissionReceived]:
    retracted = {e.retracts for e in events if isinstance(e, ev.EventRetracted)}
    return [e for e in events if isinstance(e, ev.SubmissionReceived)
            and e.originator_version not in retracted]


def _status_text(state: ItemState, match: Match) -> str:
    parts = [f"{state.title}: {state.status}"]
    if state.detail:
        parts[0] += f" ({state.detail})"
    if state.status_since is not None:
        since = state.status_since
        parts.append(f"so {since}" if since.is_by else f"since {since}")
    if match.partners:
        parts.append(f"with {', '.join(match.partners)}")
    if match.next_date:
        parts.append(f"next: {match.next_label} on {match.next_date}"
                     if match.next_label and match.next_label != state.title
                     else f"next date: {match.next_date}")
    sources = cite(state.sources)
    if sources:
        parts.append(f"source: {sources}")
    return "; ".join(parts)


def _agenda_text(label: str, state: ItemState, held: bool) -> str:
    if label == state.title:
        venue = f", {state.venue}" if state.venue else ""
        return f"{label}{venue} ({'held' if held else state.status})"
    return f"{state.title}: {label}"


def _bullets(lines: list[Line], limit: int, *, when: bool = True) -> str:
    shown = [f"• {line.when + ': ' if when and line.when else ''}{line.text}"
             + (f" — {cite(list(line.sources))}" if when and line.sources else "")
             for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"… and {len(lines) - limit} more")
    return "\n".join(shown)


def _what(kinds: set[str], subtypes: set[str]) -> str:
    if "workshop" in subtypes:
        return "workshops"
    if "JWP" in subtypes:
        return "joint work plans"
    if len(kinds) == 1:
        return KIND_NAMES.get(next(iter(kinds)), "items")
    return "meetings, deadlines or milestones" if not kinds else "items"


def _span(first: date, last: date) -> str:
    if first.month == 1 and first.day == 1 and last.month == 12 and last.day == 31:
        return f"in {first.year}" if first.year == last.year else \
            f"in {first.year}–{last.year}"
    return f"between {_day(first)} and {_day(last)}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

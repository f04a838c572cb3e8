"""What a digest says: the log for one period, as known at the period's end.

Built from the views and, for dated items, from the items' own events as known at the
end of the period, so an auditor who previews a past period later gets the same digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any

from cmsbot.readmodel import agenda
from cmsbot.readmodel.agenda import DatedRow
from cmsbot.readmodel.reader import ReadModel
from cmsbot.readmodel.resolve import resolve
from cmsbot.readmodel.snapshot import CalendarEntry, Dated, Snapshot
from cmsbot.readmodel.stale import stale
from cmsbot.wording import cite, clip, count, day
from domain.channels import Schedule
from domain.dates import PartialDate
from domain.provenance import Source
from domain.state import ItemState
from projections import queries as q

UPCOMING_DAYS = 60
LATER = 5  # dated entries shown beyond the horizon, so a sparse calendar still says what's next
MAX_BLOCKS, MAX_TEXT = 50, 3000
CHUNKS_PER_SECTION = 4  # 2 + 7 sections x (heading + 4 + "more") = 44 blocks at most
_CLOSED = ("concluded", "expired", "superseded", "held", "cancelled", "consolidated", "closed")


@dataclass
class DigestContent:
    """One channel's digest for one period."""

    channel: str
    period: str
    start: datetime
    end: datetime
    scope: str
    changes: list[tuple[str, list[str]]] = field(default_factory=list)
    upcoming: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    consultations: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    head: str | None = None

    @property
    def title(self) -> str:
        return f"Digest {self.period}: {day(self.start)} – {day(self.end)}"

    def sections(self) -> list[tuple[str, list[str]]]:
        changed = [f"*{title}*\n" + "\n".join(f"• {line}" for line in lines)
                   for title, lines in self.changes] or [
            f"Nothing changed for {self.scope} in this period."]
        sections = [("What changed", changed),
                    (f"Coming up in the next {UPCOMING_DAYS} days",
                     [f"• {line}" for line in self.upcoming] or ["Nothing is scheduled."]),
                    ("Further ahead", [f"• {line}" for line in self.later] or ["Nothing."]),
                    ("Slipped or overdue", [f"• {line}" for line in self.stale] or ["Nothing."]),
                    ("Gone quiet", [f"• {line}" for line in self.quiet] or ["Nothing."]),
                    ("Open consultations",
                     [f"• {line}" for line in self.consultations] or ["None."])]
        if self.head:
            sections.append(("Audit", [f"Log head: {self.head}"]))
        return sections

    def text(self) -> str:
        parts = [f"{self.title} ({self.scope})"]
        for heading, lines in self.sections():
            parts.append(f"\n{heading}\n" + "\n".join(lines))
        return "\n".join(parts)

    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": clip(self.title, 150)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
                f"{self.scope} · recorded {day(self.start)} – {day(self.end)}", MAX_TEXT)}]},
        ]
        for heading, lines in self.sections():
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": f"*{heading}*"}})
            chunks = _chunks(lines)
            for chunk in chunks[:CHUNKS_PER_SECTION]:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
            hidden = sum(chunk.count("\n") + 1 for chunk in chunks[CHUNKS_PER_SECTION:])
            if hidden:
                blocks.append({"type": "context", "elements": [
                    {"type": "mrkdwn", "text": f"… and {hidden} more"}]})
        return blocks[:MAX_BLOCKS]

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "period": self.period,
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "scope": self.scope, "changes": [{"item": title, "lines": lines}
                                                 for title, lines in self.changes],
                "upcoming": self.upcoming, "later": self.later, "quiet": self.quiet,
                "consultations": self.consultations, "stale": self.stale, "head": self.head,
                "text": self.text()}


def _chunks(lines: list[str]) -> list[str]:
    """Lines packed into texts of at most 3,000 characters."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, MAX_TEXT)
        if current and len(current) + 1 + len(line) > MAX_TEXT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def build_digest(reader: ReadModel, *, channel: str, period: str, start: datetime,
                 end: datetime, schedule: Schedule | None, quiet_days: int = 180,
                 head: str | None = None, business_time: bool = False) -> DigestContent:
    """The digest for [start, end): what was recorded in it, as the log stood at `end`
    (what the clock posts, and what an auditor reproduces). With `business_time`, what
    happened in it instead, as everything known now says (a preview "as at" a date).

    The period's material is prepared once while no item changes (`_Week`; a digest's own
    claim does not count), and a channel's filter only selects from it (once per filter), so
    a hundred channels cost little more than one."""
    with reader.reading() as conn:
        snap = (reader.snapshot(conn, as_at=end.date()) if business_time
                else reader.snapshot(conn, known_at=end))
        week = reader.derived(
            snap, ("digest", start, end, business_time, quiet_days),
            lambda: _Week.prepare(snap, start=start, end=end,
                                  business_time=business_time, quiet_days=quiet_days))
        scope, chosen = week.select(snap, schedule)
        content = DigestContent(channel, period, start, end, scope, head=head)
        content.changes = [(title, list(lines)) for title, lines in chosen.changes]
        content.upcoming = list(chosen.upcoming)
        content.later = list(chosen.later)
        content.quiet = list(chosen.quiet)
        content.consultations = list(chosen.consultations)
        content.stale = list(chosen.stale)
        return content


@dataclass
class _Chosen:
    """A filter's selection of a period's material: the digest's sections, as lines."""

    changes: list[tuple[str, list[str]]]
    upcoming: list[str]
    later: list[str]
    quiet: list[str]
    consultations: list[str]
    stale: list[str]


@dataclass
class _Week:
    """What every channel's digest for one period draws on: the changes recorded in it,
    the dated entries ahead, the quiet items and the open consultations, each in digest
    order and with its item's id, so that a channel's filter only has to select. Each
    filter's selection is kept too, for the channels that share it."""

    titles: dict[str, str]
    changes: dict[str, list[str]]  # item id: its lines, in the order they were recorded
    ahead: list[tuple[DatedRow, bool]]  # an entry still to come, and whether within the horizon
    quiet: list[tuple[str, str]]
    consultations: list[tuple[str, str]]
    stale: list[tuple[str, str]]
    dated: dict[int, str] = field(default_factory=dict)  # ahead's lines, made when shown
    chosen: dict[tuple[str | None, str | None], tuple[str, _Chosen]] = field(
        default_factory=dict)

    @classmethod
    def prepare(cls, snap: Snapshot, *, start: datetime,
                end: datetime, business_time: bool, quiet_days: int) -> _Week:
        conn = snap.conn
        changes: dict[str, list[str]] = {}
        rows = (q.activity_occurred_between(conn, start.date(), end.date()) if business_time
                else q.activity_recorded_between(conn, start, end))
        for row in rows:
            when = PartialDate.from_dict(row.occurred)
            source = cite([Source.from_dict(row.source)])
            changes.setdefault(row.item_id, []).append(f"{row.summary} ({when}) — {source}")
        today = end.date()
        horizon = today + timedelta(days=UPCOMING_DAYS)
        # What is still to come, from the calendar view now or the agenda view then; the
        # items' states are read only for the lines shown (`_dated`).
        ahead, _ = agenda.dated_rows(snap, Dated(first=today, held=False))
        briefs = _briefs(snap)
        dated_states = _passed(snap, today, set(changes))
        cutoff = today - timedelta(days=quiet_days)
        return cls(
            titles={i.item_id: i.title for i in snap.index.items},
            changes=changes,
            ahead=[(row, row.when.overlaps(today, horizon)
                    and not (row.when.is_by and row.when.end > horizon)) for row in ahead],
            quiet=[(item_id, f"{title} — last event {last} ({status})")
                   for item_id, title, _, status, last, _ in briefs
                   if status not in _CLOSED and last is not None and last.end < cutoff],
            consultations=[(item_id, f"{title}: {status}, {count(submissions, 'submission')}")
                           for item_id, title, kind, status, _, submissions in briefs
                           if kind == "consultation"
                           and status in ("announced", "open for submissions")],
            # Every late entry, and a slip in the period it was recorded (or happened) in.
            stale=[(entry.state.id, f"{entry.when}: {entry.words()} — "
                    f"{cite(entry.sources())}")
                   for entry in stale(snap, dated_states)
                   if entry.late is not None or entry.state.id in changes])

    def select(self, snap: Snapshot, schedule: Schedule | None) -> tuple[str, _Chosen]:
        """The channel's scope in words, and its selection (made once per filter)."""
        key = ((schedule.filter_kind, schedule.filter_value) if schedule is not None
               else (None, None))
        found = self.chosen.get(key)
        if found is None:
            scope, ids = _scope(snap, schedule)
            found = self.chosen[key] = (scope, self._choose(snap, ids))
        return found

    def _choose(self, snap: Snapshot, ids: set[str] | None) -> _Chosen:
        def kept(item_id: str) -> bool:
            return ids is None or item_id in ids

        ahead = [(number, soon) for number, (row, soon) in enumerate(self.ahead)
                 if kept(row.item_id)]
        shown = [n for n, soon in ahead if soon]
        later = list(islice((n for n, soon in ahead if not soon), LATER))
        self._read(snap, shown + later)
        return _Chosen(
            changes=[(self.titles.get(i, i), lines) for i, lines in self.changes.items()
                     if kept(i)],
            upcoming=[self.dated[number] for number in shown if number in self.dated],
            later=[self.dated[number] for number in later if number in self.dated],
            quiet=[line for item_id, line in self.quiet if kept(item_id)],
            consultations=[line for item_id, line in self.consultations if kept(item_id)],
            stale=[line for item_id, line in self.stale if kept(item_id)])

    def _read(self, snap: Snapshot, numbers: list[int]) -> None:
        """Make the lines of these entries still to come that are not made yet, reading
        their items' states (as the snapshot sees them) at once."""
        missing = [n for n in numbers if n not in self.dated]
        ids = list(dict.fromkeys(self.ahead[n][0].item_id for n in missing))
        states = {s.id: s for s in agenda.states(snap, ids)}
        for number in missing:
            row = self.ahead[number][0]
            if row.item_id in states:
                self.dated[number] = _dated((row.label, row.when, states[row.item_id],
                                             row.held))


# What the digest shows of an item beside its dates: id, title, kind, status, when it last
# happened, how many submissions it has.
_Brief = tuple[str, str, str, str, PartialDate | None, int]


def _briefs(snap: Snapshot) -> list[_Brief]:
    """Every item's brief, by title (the index's order among equal titles), without
    reading whole states where the board says it: now, and as at a date for the items
    whose every event was over by then (their state then is their state now); the others'
    states are read as the snapshot sees them."""
    ids = [i.item_id for i in snap.index.items]
    if not snap.historical:
        board = set(ids)
    elif snap.as_at is not None and snap.known_at is None:
        board = q.settled_item_ids(snap.conn, None, by=snap.as_at)
    else:
        board = set()
    rows = {row.item_id: row for row in q.digest_rows(snap.conn) if row.item_id in board}
    states = {s.id: s for s in agenda.states(snap, [i for i in ids if i not in board])}
    briefs: list[_Brief] = []
    for item_id in ids:
        row, state = rows.get(item_id), states.get(item_id)
        if row is not None:
            briefs.append((row.item_id, row.title, row.kind, row.status,
                           PartialDate.from_dict(row.last_occurred) if row.last_occurred
                           else None, row.submission_count))
        elif state is not None:
            briefs.append((state.id, state.title, state.kind.value, state.status,
                           state.last_occurred, len(state.submissions)))
    return sorted(briefs, key=lambda brief: brief[1])


def _passed(snap: Snapshot, today: date, changed: set[str]) -> list[ItemState]:
    """The items with a date passed by `today` and not held (those that may be late), and
    the dated items that changed in the period (those whose slip is news), as the snapshot
    sees them (the calendar view now, the agenda view then). Only the entries' items are
    read, not the entries."""
    late = agenda.dated_item_ids(snap, Dated(held=False, held_or_before=today))
    news = (agenda.dated_item_ids(snap, Dated(last=today - timedelta(days=1),
                                              item_ids=tuple(sorted(changed))))
            if changed else [])
    return agenda.states(snap, list(dict.fromkeys([*late, *news])))


def _dated(entry: CalendarEntry) -> str:
    label, when, state, _ = entry
    what = state.title if label == state.title else f"{state.title} — {label}"
    venue = f", {state.venue}" if label == state.title and state.venue else ""
    return f"{when}: {what}{venue} — {cite(state.cited(label))}"


def _scope(snap: Snapshot, schedule: Schedule | None) -> tuple[str, set[str] | None]:
    """What the channel's filter covers, and the ids of its items (None: everything)."""
    if schedule is None or schedule.filter_kind is None or schedule.filter_value is None:
        return "everything", None
    value = schedule.filter_value
    if schedule.filter_kind == "kind":
        kind = value.lower().rstrip("s")
        return f"{kind}s", set(q.item_ids(snap.conn, kind=kind))
    if schedule.filter_kind == "partner":
        partners = ([snap.index.partners[value]] if value in snap.index.partners
                    else snap.index.only_partners(value))
        if not partners:
            return f"partner {value} (unknown)", set()
        partner = partners[0]
        return partner.label, set(q.items_with_partner(snap.conn, partner.key))
    found = resolve(snap.index, value)
    if found.winner is None:
        return f"item {value} (unknown)", set()
    return found.winner.title, {found.winner.item_id}

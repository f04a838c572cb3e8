"""What a digest says: the log for one period, as known at the period's end.

Built from the views and, for dated items, from the items' own events as known at the
end of the period, so an auditor who previews a past period later gets the same digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmsbot.questions.answer import cite
from cmsbot.questions.engine import CalendarEntry, QuestionEngine, Snapshot
from cmsbot.questions.resolve import resolve
from cmsbot.schedule_words import day
from domain.channels import Schedule
from domain.dates import PartialDate
from domain.provenance import Source
from projections import queries as q

UPCOMING_DAYS = 60
LATER = 5  # dated entries shown beyond the horizon, so a sparse calendar still says what's next
MAX_BLOCKS, MAX_TEXT = 50, 3000
CHUNKS_PER_SECTION = 6  # 2 + 6 sections x (heading + 6 + "more") = 50 blocks at most
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
            {"type": "header", "text": {"type": "plain_text", "text": _clip(self.title, 150)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(
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
                "consultations": self.consultations, "head": self.head, "text": self.text()}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(lines: list[str]) -> list[str]:
    """Lines packed into texts of at most 3,000 characters."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = _clip(line, MAX_TEXT)
        if current and len(current) + 1 + len(line) > MAX_TEXT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def build_digest(questions: QuestionEngine, *, channel: str, period: str, start: datetime,
                 end: datetime, schedule: Schedule | None, quiet_days: int = 180,
                 head: str | None = None, business_time: bool = False) -> DigestContent:
    """The digest for [start, end): what was recorded in it, as the log stood at `end`
    (what the clock posts, and what an auditor reproduces). With `business_time`, what
    happened in it instead, as everything known now says (a preview "as at" a date)."""
    with questions.engine.connect() as conn:
        snap = (questions.snapshot(conn, as_at=end.date()) if business_time
                else questions.snapshot(conn, known_at=end))
        scope, ids = _scope(snap, schedule)
        content = DigestContent(channel, period, start, end, scope, head=head)
        titles = {i.item_id: i.title for i in snap.index.items}
        grouped: dict[str, list[str]] = {}
        rows = (q.activity_occurred_between(conn, start.date(), end.date()) if business_time
                else q.activity_recorded_between(conn, start, end))
        for row in rows:
            if ids is not None and row.item_id not in ids:
                continue
            when = PartialDate.from_dict(row.occurred)
            source = cite([Source.from_dict(row.source)])
            grouped.setdefault(row.item_id, []).append(f"{row.summary} ({when}) — {source}")
        content.changes = [(titles.get(i, i), lines) for i, lines in grouped.items()]
        today = end.date()
        horizon = today + timedelta(days=UPCOMING_DAYS)
        every_state, every_entry = questions.survey(snap)
        ahead = sorted((e for e in every_entry if (ids is None or e[2].id in ids)
                        and not e[3] and e[1].end >= today),
                       key=lambda e: (e[1].sort_key, e[1].end, e[0]))
        soon = [e for e in ahead if e[1].overlaps(today, horizon)
                and not (e[1].is_by and e[1].end > horizon)]
        content.upcoming = [_dated(e) for e in soon]
        content.later = [_dated(e) for e in ahead if e not in soon][:LATER]
        states = [s for s in every_state if ids is None or s.id in ids]
        cutoff = today - timedelta(days=quiet_days)
        content.quiet = [f"{s.title} — last event {s.last_occurred} ({s.status})"
                         for s in states
                         if s.status not in _CLOSED and s.last_occurred is not None
                         and s.last_occurred.end < cutoff]
        content.consultations = [
            f"{s.title}: {s.status}, {len(s.submissions)} submission"
            f"{'s' if len(s.submissions) != 1 else ''}"
            for s in states
            if s.kind.value == "consultation" and s.status in ("announced",
                                                                "open for submissions")]
        return content


def _dated(entry: CalendarEntry) -> str:
    label, when, state, _ = entry
    what = state.title if label == state.title else f"{state.title} — {label}"
    venue = f", {state.venue}" if label == state.title and state.venue else ""
    return f"{when}: {what}{venue} — {cite(state.sources)}"


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

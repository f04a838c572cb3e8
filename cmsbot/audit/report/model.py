"""The "Synergies and Partnerships" overview as at a date, built from the log.

Each item's state is the read model's as-at reading (`ReadModel.snapshot`: the item's own
events, filtered to the date and folded with corrections and retractions), the one
`ask --as-at` answers from, so the report says what `ask --as-at` says. Rendering is
elsewhere (markdown, html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select

from cmsbot.audit.chain import ChainKeeper, Head
from cmsbot.audit.report import prose
from cmsbot.audit.report.outline import ACTION, SECTIONS, place
from cmsbot.readmodel import agenda
from cmsbot.readmodel.agenda import DatedRow
from cmsbot.readmodel.reader import ReadModel
from cmsbot.readmodel.snapshot import Dated
from cmsbot.wording import as_of, cite
from domain.dates import PartialDate
from domain.state import ItemState
from projections import queries as q
from projections import tables as views


class ReportSource(Protocol):
    """What a report reads: the views and the items' events (through the question engine's
    snapshot), the audit chain, and how far the views lag the log. It writes nothing."""

    engine: Engine
    readmodel: ReadModel
    chain: ChainKeeper

    def views_behind(self) -> int: ...


@dataclass(frozen=True)
class Happening:
    when: PartialDate
    text: str


@dataclass
class ItemParagraph:
    """One item: its status in words, what happened, what is next, and its sources."""

    number: int
    state: ItemState
    partners: list[str]
    status: str
    happened: list[Happening]
    next: str | None
    sources: str
    open: bool

    @property
    def title(self) -> str:
        return self.state.title


@dataclass
class ReportSection:
    key: str
    title: str
    items: list[ItemParagraph] = field(default_factory=list)


@dataclass(frozen=True)
class MeetingDate:
    """A meeting on the year's timeline."""

    title: str
    when: PartialDate
    status: str  # held, scheduled, rescheduled, planned
    venue: str | None
    tentative: bool


@dataclass
class Report:
    as_at: date
    known_at: datetime | None
    when: str  # "as at 1 September 2015"
    sections: list[ReportSection]
    actions: list[str]
    year: int
    meetings: list[MeetingDate]
    events: int
    head: Head
    written: datetime
    views_behind: int = 0  # events of the log the views had not applied

    @property
    def items(self) -> list[ItemParagraph]:
        return [item for section in self.sections for item in section.items]


def build_report(source: ReportSource, as_at: date, *, known_at: datetime | None = None,
                 ) -> Report:
    """The overview as at `as_at` (business time), from what was recorded by `known_at`
    (default: everything recorded), read from the store as it is."""
    behind = source.views_behind()
    placed: list[tuple[int, int, int, ItemState, list[Any]]] = []
    order = {section.key: number for number, section in enumerate(SECTIONS)}
    with source.engine.connect() as conn:
        snapshot = source.readmodel.snapshot(conn, as_at=as_at, known_at=known_at)
        categories = {row.key: row.category for row in q.partner_rows(conn)}
        registered = {row.item_id: row.position for row in conn.execute(
            select(views.activity.c.item_id, views.activity.c.position)
            .where(views.activity.c.version == 1))}
        for row in q.board(conn):
            events = snapshot.events_of(row.item_id)
            state = snapshot.state_from(events)
            if state is None:
                continue
            # The visible events, read as the engine reads them for "history of X".
            visible = snapshot.visible(events)
            section, paragraph = place(state, categories)
            placed.append((order[section], paragraph, registered.get(row.item_id, 0), state,
                           visible))
        names = snapshot.names
        when = as_of(snapshot.as_at, snapshot.known_at)
        year = as_at.year
        dated, _ = agenda.dated_rows(snapshot, Dated(
            first=date(year, 1, 1), last=date(year, 12, 31), kinds=frozenset({"meeting"})))
    placed.sort(key=lambda p: p[:3])
    sections = [ReportSection(s.key, s.title) for s in SECTIONS]
    for number, (index, _, _, state, visible) in enumerate(placed, 1):
        sections[index].items.append(_paragraph(number, state, visible, names, as_at, when))
    kept = [s for s in sections if s.items or s.key == ACTION]
    head = source.chain.head_now()
    return Report(as_at, known_at, when, kept, _actions(kept, as_at), year,
                  _meetings(dated, {p[3].id: p[3] for p in placed}), head.position, head,
                  datetime.now(UTC), behind)


def _paragraph(number: int, state: ItemState, visible: list[Any], names: dict[str, str],
               as_at: date, when: str) -> ItemParagraph:
    def name(key: str) -> str:
        return names.get(key, key)

    happened = [Happening(w, t) for w, t in prose.happenings(visible, name)]
    return ItemParagraph(
        number=number, state=state, partners=[name(p) for p in state.partners],
        status=prose.status_sentence(state, when, [h.text for h in happened]),
        happened=happened,
        next=prose.next_sentence(state, as_at), sources=cite(state.sources),
        open=prose.is_open(state))


def _actions(sections: list[ReportSection], as_at: date) -> list[str]:
    """What the Standing Committee is asked to do: what the report's own action items
    still have ahead of them, then every item still open."""
    actions: list[str] = []
    for section in sections:
        if section.key != ACTION:
            continue
        for item in section.items:
            for label, when in sorted(item.state.agenda, key=lambda e: e[1].sort_key):
                if when.end >= as_at and label != item.title:
                    actions.append(f"{label} ({when})")
    for item in (i for s in sections for i in s.items if i.open):
        actions.append(f"{prose.action(item.state)} (paragraph {item.number})")
    return actions


def _meetings(dated: list[DatedRow], states: dict[str, ItemState]) -> list[MeetingDate]:
    """The meetings' own dates in the year (held, or on their agenda then), from the agenda
    view; each meeting's status and venue from its state then."""
    found = []
    for row in dated:
        state = states.get(row.item_id)
        if state is None or row.when.is_by or row.label != state.title:
            continue
        tentative = "(tentative)" in (state.venue or "")
        found.append(MeetingDate(state.title, row.when, "held" if row.held else state.status,
                                 state.venue, tentative or row.when.tentative))
    return sorted(found, key=lambda m: (m.when.sort_key, m.when.end, m.title))

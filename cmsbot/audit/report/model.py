"""A document's report (or the overview of every item) as at a date, built from the log.

Each item's state is the read model's as-at reading (`ReadModel.snapshot`: the item's own
events, filtered to the date and folded with corrections and retractions), the one
`ask --as-at` answers from, so the report says what `ask --as-at` says. Rendering is
elsewhere (markdown, html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import select

from cmsbot.audit.chain import ChainKeeper, Head
from cmsbot.audit.report import prose
from cmsbot.audit.report.outline import Placer, recorded_outline
from cmsbot.audit.report.prose import Happening, capital
from cmsbot.readmodel import agenda
from cmsbot.readmodel.agenda import DatedRow
from cmsbot.readmodel.reader import ReadModel
from cmsbot.readmodel.snapshot import Dated
from cmsbot.readmodel.stale import held_for
from cmsbot.wording import as_of, cite, late_words
from domain.dates import PartialDate
from domain.overdue import Late, late_entries, settled_labels
from domain.provenance import Source
from domain.state import ItemState
from projections import queries as q
from projections import tables as views

OVERVIEW = "Overview of activities"  # the title of a report of no document


class ReportSource(Protocol):
    """What a report reads: the views, the items' events and the documents' outlines
    (through the read model, which also says how far the views lag the log), and the audit
    chain. It writes nothing."""

    readmodel: ReadModel
    chain: ChainKeeper


@dataclass
class ItemParagraph:
    """One item: its status in words, what happened, what is next, and its sources."""

    number: int
    state: ItemState
    partners: list[str]
    status: str
    happened: list[Happening]
    told: list[str]  # what happened, as the paragraph says it (each date once)
    next: str | None
    cited: list[Source]  # the sources of what the paragraph shows
    open: bool
    late: list[str] = field(default_factory=list)  # overdue dates and settled steps, in words

    @property
    def title(self) -> str:
        return self.state.title

    @property
    def sources(self) -> str:
        """"UNEP/CMS/StC44/18 ¶8": each document (or chat) with its paragraphs."""
        return cite(self.cited)


@dataclass
class ReportSection:
    key: str
    title: str
    items: list[ItemParagraph] = field(default_factory=list)
    actions: bool = False  # the section that lists what is requested, or still open


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
    title: str
    document: str | None
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


class NoSuchReportError(Exception):
    """No outline is recorded for the document and no item cites it."""


def build_report(source: ReportSource, as_at: date, *, known_at: datetime | None = None,
                 document: str | None = None) -> Report:
    """The report as at `as_at` (business time), from what was recorded by `known_at`
    (default: everything recorded), read from the store as it is: the report of
    `document` in its outline's sections, or of every item by kind and partner."""
    tracker = source.readmodel.tracker
    outline = None if document is None else recorded_outline(tracker, document, known_at)
    placed: list[tuple[int, tuple[object, ...], ItemParagraph]] = []
    with source.readmodel.reading() as conn:
        behind = source.readmodel.views_behind(conn)
        snapshot = source.readmodel.snapshot(conn, as_at=as_at, known_at=known_at)
        names = snapshot.names
        placer = Placer(outline, document, names)
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
            late = late_entries(state, as_at, held_for(snapshot, [state]))
            paragraph = _paragraph(state, visible, names, as_at, late)
            place = placer.place(state, paragraph.cited, registered.get(row.item_id, 0),
                                 recorded_from=document is not None
                                 and _recorded_from(visible, document))
            if place is not None:
                placed.append((*place, paragraph))
        when = as_of(snapshot.as_at, snapshot.known_at)
        year = as_at.year
        dated, _ = agenda.dated_rows(snapshot, Dated(
            first=date(year, 1, 1), last=date(year, 12, 31), kinds=frozenset({"meeting"})))
    if document is not None and outline is None and not placed:
        raise NoSuchReportError(f"no report outline is recorded for {document}, and no item "
                                f"{when} cites it")
    placed.sort(key=lambda p: (p[0], p[1]))
    sections = [ReportSection(s.key, s.title, actions=s.actions) for s in placer.sections]
    for number, (index, _, paragraph) in enumerate(placed, 1):
        paragraph.number = number
        sections[index].items.append(paragraph)
    kept = [s for s in sections if s.items or s.actions]
    head = source.chain.head_now()
    title = outline.title if outline is not None else document or OVERVIEW
    meetings = _meetings(dated, {p[2].state.id: p[2].state for p in placed})
    return Report(title, document, as_at, known_at, when, kept, _actions(kept, as_at), year,
                  meetings, head.position, head, datetime.now(UTC), behind)


def _recorded_from(events: list[Any], document: str) -> bool:
    """Whether a history file of `document` recorded any of these events (its refs are
    `document#item/id`)."""
    prefix = f"{document}#"
    return any((getattr(e, "ref", None) or "").startswith(prefix) for e in events)


def _paragraph(state: ItemState, visible: list[Any], names: dict[str, str], as_at: date,
               late: list[Late]) -> ItemParagraph:
    """The item's paragraph (numbered once the report's order is known), with what is late
    as at the report's date (domain.overdue's rules, as answers say them)."""
    happened = prose.happenings(visible, lambda key: names.get(key, key))
    told = prose.told(happened, as_at)
    status = prose.status_sentence(state, as_at, happened)
    return ItemParagraph(
        number=0, state=state, partners=[names.get(p, p) for p in state.partners],
        status=status, happened=happened, told=told,
        next=prose.next_sentence(state, as_at, [status, *told], skip=settled_labels(late)),
        cited=prose.cited(visible, happened), open=prose.is_open(state),
        late=[capital(late_words(state, entry, said_day=as_at)) + "." for entry in late])


def _actions(sections: list[ReportSection], as_at: date) -> list[str]:
    """What the meeting the report is for is asked to do: what the report's own action
    items still have ahead of them, then every item still open."""
    actions: list[str] = []
    for section in sections:
        if not section.actions:
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

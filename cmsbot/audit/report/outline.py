"""The report's sections, and which section each item goes in.

A document's report has the outline its history file declared (`report:`, recorded as the
document's `ReportOutline`), as the log knew it at the report's recorded time. A store
whose seed was imported before outlines were recorded has no outline event for the seed's
document; its report takes the outline written in the bundled seed file, so that the
StC44 report keeps its sections. Any other report (of no document, or of a document with no
outline) groups its items by kind, and within a kind by partner.

Every report ends with "Action requested": the outline's own section of that title when it
has one (items placed there are the document's action points), else one added at the end.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime

from cmsbot.eventstore.tracker import Tracker
from cmsbot.history import SEED
from cmsbot.history_outline import read_outline
from cmsbot.history_parsing import parse_yaml
from domain.outlines import Outline, outline_of
from domain.provenance import Source
from domain.state import ItemState, Kind

ACTION_TITLE = "Action requested"
OTHER_TITLE = "Other activities"
_BY_KIND = {Kind.AGREEMENT: "Agreements", Kind.POST: "Posts",
            Kind.MEETING: "Meetings and workshops", Kind.CONSULTATION: "Consultations",
            Kind.ENGAGEMENT: "Engagements"}


@dataclass
class Section:
    key: str  # for the HTML page's anchors
    title: str
    actions: bool = False  # the section that lists what is requested, or still open
    paragraphs: dict[str, int] = field(default_factory=dict)  # paragraph: its order


def recorded_outline(tracker: Tracker, document: str, known_at: datetime | None,
                     ) -> Outline | None:
    """The outline of the document's report as recorded by `known_at` (the last outline
    event says the whole outline); for the seed's document in a store that never recorded
    its outline, the bundled seed file's."""
    recorded = tracker.outline_events(document)
    known = [e for e in recorded if known_at is None or e.timestamp <= known_at]
    if known:
        return outline_of(document, known[-1])
    seed = seed_outline()
    if recorded or seed is None or seed.document != document:
        return None
    return seed


@functools.cache
def seed_outline() -> Outline | None:
    """The outline the bundled seed file declares (read once; reading records nothing)."""
    data = parse_yaml(SEED.read_text(encoding="utf-8"), str(SEED))
    problems: list[str] = []
    entry = read_outline(data, lambda _, reason: problems.append(reason))
    if entry is None or problems:
        return None
    return entry.outline(str(data["document"]))


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-") or "section"


class Placer:
    """Which items a report holds, in which section and order."""

    def __init__(self, outline: Outline | None, document: str | None,
                 names: dict[str, str]) -> None:
        self.outline, self.document, self.names = outline, document, names
        self.sections: list[Section] = []
        self.named: dict[str, tuple[int, int]] = {}  # item key: section, order
        if outline is not None:
            for number, declared in enumerate(outline.sections):
                self.sections.append(Section(
                    _slug(declared.title), declared.title,
                    actions=declared.title.casefold() == ACTION_TITLE.casefold(),
                    paragraphs={p.casefold(): n for n, p in enumerate(declared.paragraphs)}))
                for order, key in enumerate(declared.items):
                    self.named[key] = (number, order)
        else:
            self.sections += [Section(kind.value, title) for kind, title in _BY_KIND.items()]
        self.other = len(self.sections)
        self.sections.append(Section("other", OTHER_TITLE))
        if not any(s.actions for s in self.sections):
            self.sections.append(Section("action", ACTION_TITLE, actions=True))
        self.keys = {s.key for s in self.sections}

    def place(self, state: ItemState, cited: list[Source], registered: int, *,
              recorded_from: bool = False) -> tuple[int, tuple[object, ...]] | None:
        """(section, order in it) of an item whose shown events cite `cited`; None when the
        report does not hold it. A document's report holds the items its outline names,
        those its document is cited for, and those its history file recorded events of
        (`recorded_from`: a file compiled from several sources cites each event's own)."""
        if state.key in self.named:
            number, order = self.named[state.key]
            return number, (0, order, registered)
        if self.document is not None:
            own = [s.paragraph or "" for s in cited if s.document == self.document]
            if not own and not recorded_from:
                return None
            for paragraph in own:
                for number, section in enumerate(self.sections):
                    found = section.paragraphs.get(paragraph.strip().casefold())
                    if found is not None:
                        return number, (1, found, registered)
        if self.outline is not None:
            return self.other, self._by_partner(state, registered)
        return list(_BY_KIND).index(state.kind), self._by_partner(state, registered)

    def _by_partner(self, state: ItemState, registered: int) -> tuple[object, ...]:
        first = self.names.get(state.partners[0], state.partners[0]) if state.partners else ""
        return (2, first.casefold(), state.title.casefold(), registered)

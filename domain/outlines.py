"""A document's report outline: its title, and its sections with the items and paragraphs
each covers.

A history file may declare the outline of the report it records (`report:`), so that the
report can be written again from the log in that document's own sections. The outline is
an aggregate of its own, keyed by the document's symbol: importing the same outline again
records nothing, and a file that changes it records the change as a revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.errors import InvalidFieldError
from domain.events import InSequence
from domain.items import NAMESPACE
from domain.text import TextChecked


def outline_id(document: str) -> UUID:
    """The stable id of the outline of the report with this document symbol."""
    return uuid5(NAMESPACE, f"outline:{document}")


@dataclass(frozen=True)
class OutlineSection:
    """One section: its title, the items it names (in order) and the paragraphs of the
    document whose items it holds."""

    title: str
    items: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "items": list(self.items),
                "paragraphs": list(self.paragraphs)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutlineSection:
        return cls(str(data["title"]), tuple(map(str, data.get("items") or ())),
                   tuple(map(str, data.get("paragraphs") or ())))


@dataclass(frozen=True)
class Outline:
    """A report's outline: what a reader of the report sees as its headings."""

    document: str
    title: str
    sections: tuple[OutlineSection, ...]


class _Applied:
    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)


class ReportOutlined(_Applied, Aggregate.Created):
    """A document's report was given its outline."""

    TOPIC: ClassVar[str] = "cmsbot.ReportOutlined"
    document: str
    title: str
    sections: list[dict[str, Any]]
    actor: str
    ref: str | None


class ReportOutlineRevised(InSequence, _Applied, Aggregate.Event):
    """A later file gave the same document's report another outline."""

    TOPIC: ClassVar[str] = "cmsbot.ReportOutlineRevised"
    title: str
    sections: list[dict[str, Any]]
    actor: str
    ref: str | None


class ReportOutline(TextChecked):
    """The outline of one document's report."""

    TOPIC = "cmsbot.ReportOutline"
    if TYPE_CHECKING:  # set by `when`
        document: str
        outline: Outline

    @classmethod
    def declare(cls, outline: Outline, *, actor: str, ref: str | None = None,
                ) -> ReportOutline:
        _check(outline)
        return cls._create(ReportOutlined, id=outline_id(outline.document),
                           document=outline.document, title=outline.title,
                           sections=[s.to_dict() for s in outline.sections], actor=actor,
                           ref=ref)

    def when(self, event: Any) -> None:
        if isinstance(event, ReportOutlined):
            self.document = event.document
        if isinstance(event, ReportOutlined | ReportOutlineRevised):
            self.outline = outline_of(self.document, event)

    def audit_names(self) -> tuple[str, str]:
        """How errors name the outline, and the key that finds it."""
        return f"the report outline of {self.document}", self.document

    def revise(self, outline: Outline, *, actor: str, ref: str | None = None) -> bool:
        """Give the report this outline; False (and no event) when it has it already."""
        if outline.document != self.document:
            raise InvalidFieldError(f"the outline of {outline.document} is not that of "
                                    f"{self.document}")
        _check(outline)
        if outline == self.outline:
            return False
        self.trigger_event(ReportOutlineRevised, title=outline.title,
                           sections=[s.to_dict() for s in outline.sections], actor=actor,
                           ref=ref)
        return True


def outline_of(document: str, event: ReportOutlined | ReportOutlineRevised) -> Outline:
    """The outline an outline event gives the document's report."""
    return Outline(document, event.title,
                   tuple(OutlineSection.from_dict(s) for s in event.sections))


def _check(outline: Outline) -> None:
    if not outline.document.strip() or not outline.title.strip():
        raise InvalidFieldError("a report outline needs a document and a title")
    if not outline.sections:
        raise InvalidFieldError("a report outline needs at least one section")
    if any(not section.title.strip() for section in outline.sections):
        raise InvalidFieldError("every section of a report outline needs a title")


for _cls in (ReportOutlined, ReportOutlineRevised):
    register_topic(_cls.TOPIC, _cls)

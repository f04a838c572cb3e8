"""A document's report outline: declared once, kept while it is the same, revised when a
later file changes it."""

from __future__ import annotations

import pytest

from domain.errors import InvalidFieldError
from domain.outlines import (
    Outline,
    OutlineSection,
    ReportOutline,
    ReportOutlined,
    ReportOutlineRevised,
    outline_id,
)

OUTLINE = Outline("UNEP/CMS/StC45/Doc.14", "Synergies", (
    OutlineSection("Conventions", items=("iwc-jwp",), paragraphs=("3", "4")),
    OutlineSection("Action requested", paragraphs=("Action requested",))))


def test_is_declared_under_the_id_its_document_gives() -> None:
    outline = ReportOutline.declare(OUTLINE, actor="import:x", ref="x#report")
    [event] = outline.collect_events()
    assert isinstance(event, ReportOutlined) and event.TOPIC == "cmsbot.ReportOutlined"
    assert outline.id == outline_id("UNEP/CMS/StC45/Doc.14")
    assert event.sections[0] == {"title": "Conventions", "items": ["iwc-jwp"],
                                 "paragraphs": ["3", "4"]}
    assert outline.outline == OUTLINE


def test_the_same_outline_again_records_nothing_and_another_is_a_revision() -> None:
    outline = ReportOutline.declare(OUTLINE, actor="import:x")
    outline.collect_events()
    assert outline.revise(OUTLINE, actor="import:x") is False
    assert outline.collect_events() == []
    changed = Outline(OUTLINE.document, "Synergies and Partnerships", OUTLINE.sections[:1])
    assert outline.revise(changed, actor="import:y") is True
    [event] = outline.collect_events()
    assert isinstance(event, ReportOutlineRevised) and event.originator_version == 2
    assert outline.outline == changed


@pytest.mark.parametrize("outline", [
    Outline("D/1", " ", OUTLINE.sections),
    Outline("D/1", "T", ()),
    Outline("D/1", "T", (OutlineSection(""),)),
])
def test_an_outline_without_a_title_or_sections_is_refused(outline: Outline) -> None:
    with pytest.raises(InvalidFieldError):
        ReportOutline.declare(outline, actor="import:x")


def test_another_documents_outline_is_not_a_revision() -> None:
    outline = ReportOutline.declare(OUTLINE, actor="import:x")
    with pytest.raises(InvalidFieldError):
        outline.revise(Outline("D/2", "T", OUTLINE.sections), actor="import:x")

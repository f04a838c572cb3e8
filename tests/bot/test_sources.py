"""Where a fact came from, as the record form and the command line name it (one module,
`cmsbot.sources`, makes both)."""

from __future__ import annotations

import pytest

from cmsbot import sources
from domain.provenance import Source


@pytest.mark.parametrize(("typed", "source"), [
    ("UNEP/CMS/StC44/18 ¶8", Source("UNEP/CMS/StC44/18", "8")),
    ("  UNEP/CMS/StC44/18  ", Source("UNEP/CMS/StC44/18")),
    ("¶8", Source("¶8", "8")),  # no document before the mark: the words are the document
    ("https://example.org/minutes", Source(chat="https://example.org/minutes")),
    ("", None),
    (None, None),
])
def test_a_typed_source(typed: str | None, source: Source | None) -> None:
    assert sources.typed(typed) == source


def test_a_form_without_a_source_cites_the_message_it_was_opened_from_else_the_channel(
        ) -> None:
    assert sources.slack_form("UNEP/CMS/StC44/18 ¶8", team="T1", channel="C1",
                              message_ts="1.2") == Source("UNEP/CMS/StC44/18", "8")
    assert sources.slack_form(None, team="T1", channel="C1", message_ts="1.2") == Source(
        chat="T1/C1/1.2")
    assert sources.slack_form(" ", team="T1", channel="C1", message_ts=None) == Source(
        chat="T1/C1")
    assert sources.slack_form(None, team="", channel=None, message_ts=None) == Source(
        chat="slack")


def test_the_command_line_cites_its_document_else_itself() -> None:
    assert sources.command_line("ann", "UNEP/CMS/StC44/18", "8") == Source(
        "UNEP/CMS/StC44/18", "8")
    assert sources.command_line("ann", None, "8") == Source(chat="cli:ann")

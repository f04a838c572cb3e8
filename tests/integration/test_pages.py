"""Whole answers: the engine keeps every entry, and pages (the command line's `--page`
and `--all`, chat's and Slack's "Show more") show each entry once, in order."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cmsbot.bootstrap import Container
from cmsbot.questions.pages import page_of
from tests.conftest import new_store

from .support import cmsbot

AFTER = date(2016, 9, 1)
LONG = [("what was recorded since 1 January 2015", AFTER),
        ("what's coming up", date(2015, 9, 1)),
        ("what do we have with UNEP", None),
        ("history of the CITES joint work plan", None)]


@pytest.mark.parametrize(("question", "as_at"), LONG)
@pytest.mark.parametrize("size", [1, 7, 25])
def test_pages_show_every_entry_once_in_order(seeded: Container, question: str,
                                              as_at: date | None, size: int) -> None:
    answer = seeded.questions.answer(question, as_at=as_at)
    assert answer.lines
    shown = []
    number, pages = 1, None
    while True:
        page = page_of(answer, number, size)
        pages = page.pages
        assert page.number == number and page.total == len(answer.lines)
        bullets = [row for row in page.text.split("\n") if row.startswith("• ")]
        assert len(bullets) == len(page.lines) <= size
        assert page.text.split("\n")[0] == answer.text.split("\n")[0]
        rest = len(answer.lines) - page.first - len(page.lines)
        assert (f"\n… and {rest} more" in page.text) == page.has_more == (rest > 0)
        shown += page.lines
        if not page.has_more:
            break
        number += 1
    assert shown == answer.lines
    assert pages == -(-len(answer.lines) // size)
    assert page_of(answer, pages + 5, size) == page_of(answer, pages, size)
    assert page_of(answer, 1, None).text == answer.text


def test_the_json_holds_every_entry_and_the_total(seeded: Container) -> None:
    answer = seeded.questions.answer(LONG[0][0], as_at=AFTER)
    data = json.loads(json.dumps(answer.to_json()))
    assert data["total"] == len(answer.lines) == len(data["lines"]) > 25
    assert "more" not in data["text"]
    assert data["asked"]["intent"] == "changes" and data["asked"]["as_at"] == "2016-09-01"
    assert data["lines"][0]["sources"] == [
        {"document": s.document, "paragraph": s.paragraph} for s in answer.lines[0].sources]


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = new_store(f"sqlite:///{tmp_path_factory.mktemp('pages')}/cli.sqlite")
    cmsbot("import", "--seed", database=url)
    return url


class TestCommandLine:
    QUESTION = ("--as-at", "2016-09-01", "what was recorded since 1 January 2015")

    def test_a_long_answer_is_shown_a_page_at_a_time(self, cli_store: str) -> None:
        first = cmsbot("ask", *self.QUESTION, database=cli_store).stdout
        whole = cmsbot("ask", "--all", *self.QUESTION, database=cli_store).stdout
        second = cmsbot("ask", "--page", "2", *self.QUESTION, database=cli_store).stdout
        entries = [row for row in whole.split("\n") if row.startswith("• ")]
        assert len(entries) > 50 and "more" not in whole
        assert [r for r in first.split("\n") if r.startswith("• ")] == entries[:25]
        assert [r for r in second.split("\n") if r.startswith("• ")] == entries[25:50]
        assert f"… and {len(entries) - 25} more" in first
        assert f"entries 1–25 of {len(entries)}: --page 2 for the next" in first

    def test_a_page_in_json_holds_its_entries_and_the_total(self, cli_store: str) -> None:
        data = json.loads(cmsbot("ask", "--json", "--page", "3", *self.QUESTION,
                                 database=cli_store).stdout)
        whole = json.loads(cmsbot("ask", "--json", *self.QUESTION, database=cli_store).stdout)
        assert data["page"] == 3 and data["total"] == whole["total"]
        assert data["lines"] == whole["lines"][50:75]

    @pytest.mark.parametrize("words", [("--page", "0"), ("--page", "x"),
                                       ("--all", "--page", "2")])
    def test_a_bad_page_is_refused_as_bad_words(self, cli_store: str,
                                                words: tuple[str, ...]) -> None:
        result = cmsbot("ask", *words, "help", database=cli_store, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr

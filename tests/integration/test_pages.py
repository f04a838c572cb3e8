"""Pages: the command line's `--page` and `--all`, chat's and Slack's "Show more" show each
entry once, in order, whether the engine answered whole or (upcoming, overdue, changes)
read only the page asked for; those pages are the whole answer's."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.questions.pages import page_of
from tests.conftest import new_store

from .support import cmsbot, seed_and_later_files

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

    def test_a_page_of_a_list_read_by_the_page_is_the_whole_answers(self, cli_store: str,
                                                                     ) -> None:
        question = ("--as-at", "2015-09-01", "what's coming up")
        whole = cmsbot("ask", "--all", *question, database=cli_store).stdout
        second = cmsbot("ask", "--page", "2", *question, database=cli_store).stdout
        entries = [row for row in whole.split("\n") if row.startswith("• ")]
        assert len(entries) > 25 and "more" not in whole
        assert [r for r in second.split("\n") if r.startswith("• ")] == entries[25:50]
        assert f"entries 26–{min(50, len(entries))} of {len(entries)}" in second
        data = json.loads(cmsbot("ask", "--json", "--page", "2", *question,
                                 database=cli_store).stdout)
        every = json.loads(cmsbot("ask", "--json", *question, database=cli_store).stdout)
        assert (every["first"], every["total"], len(every["lines"])) == (0, len(entries),
                                                                         len(entries))
        assert (data["first"], data["total"]) == (25, len(entries))
        assert data["lines"] == every["lines"][25:50]

    @pytest.mark.parametrize("words", [("--page", "0"), ("--page", "x"),
                                       ("--all", "--page", "2")])
    def test_a_bad_page_is_refused_as_bad_words(self, cli_store: str,
                                                words: tuple[str, ...]) -> None:
        result = cmsbot("ask", *words, "help", database=cli_store, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr


# Answers that read only the page asked for ------------------------------------------------

PAGED = [("what's coming up", date(2015, 9, 1)), ("what's coming up", None),
         ("which meetings were held", None), ("which meetings were held", date(2017, 1, 1)),
         ("meetings in 2016", None), ("meetings in 2016", date(2016, 1, 1)),
         ("deadlines in 2016", None), ("what is overdue?", None),
         ("what is overdue?", date(2016, 9, 1)), ("what is overdue?", date(2015, 12, 1)),
         ("what is overdue with UNEP", date(2016, 9, 1)),
         ("what changed since 1 January 2014", None),
         ("what happened since StC44", date(2017, 7, 1)),
         ("what was recorded since 1 January 2015", date(2016, 9, 1)),
         ("what changed with UNEP since 2015", None)]
SYNTHETIC = [("which meetings were held", None), ("which meetings were held", date(2016, 1, 1)),
             ("what's coming up", date(2014, 1, 1)), ("upcoming workshops", date(2016, 1, 1)),
             ("what is overdue?", None), ("what is overdue?", date(2018, 1, 1)),
             ("what changed since 1 March 2016", None),
             ("what was recorded since 1 January 2000", date(2017, 1, 1))]


def assert_pages_are_the_whole(container: Container, questions: list[tuple[str, date | None]],
                               sizes: tuple[int, ...]) -> int:
    """For each question: its pages, asked of the engine one by one, hold the whole
    answer's lines in order, each page's text is the whole answer's page's, and its items
    are the whole answer's as they stand; returns how many entries were compared."""
    compared = 0
    for question, as_at in questions:
        whole = container.questions.answer(question, as_at=as_at)
        assert whole.intent in ("upcoming", "overdue", "changes"), (question, whole.intent)
        assert (whole.first, whole.entries) == (0, len(whole.lines))
        items = {m.id: m for m in whole.matches}
        for size in sizes:
            pages = max(1, -(-len(whole.lines) // size))
            shown = []
            for number in range(1, pages + 2):  # and one past the last: the last again
                answer = container.questions.answer(question, as_at=as_at, page=number,
                                                    size=size)
                expected = page_of(whole, number, size)
                assert answer.first == expected.first and answer.total == whole.total
                assert answer.lines == expected.lines, (question, as_at, size, number)
                assert page_of(answer, number, size) == expected
                assert all(items[m.id] == m for m in answer.matches)
                assert set(answer.sources) <= set(whole.sources)
                assert (answer.text.split("\n")[0] == whole.text.split("\n")[0])
                if number <= pages:
                    shown += answer.lines
            assert shown == whole.lines
        compared += len(whole.lines)
    return compared


def test_pages_read_one_by_one_are_the_whole_answer(container: Container) -> None:
    """Upcoming, overdue and changes read only the page asked for (on the seed and the
    later-history files, both stores)."""
    seed_and_later_files(container)
    assert assert_pages_are_the_whole(container, PAGED, (4, 20)) > 100


def test_pages_of_a_synthetic_history_are_the_whole_answer(container: Container,
                                                           tmp_path: Path) -> None:
    """The same on the benchmark's synthetic history (120 items): longer lists."""
    path = tmp_path / "history.json"
    write_history(Shape(items=120, partners=12, events=1_000, long_item_events=80), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    assert assert_pages_are_the_whole(container, SYNTHETIC, (20,)) > 100

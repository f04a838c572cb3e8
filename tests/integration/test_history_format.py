"""The history-file format for the next report, on both stores: sources per entry, items
extended by key alone, new events, slugs and categories, every problem in one run
(`import --check`), repeats and restated facts, and counts that say what they count."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.logbook import LogFilter, entries
from cmsbot.bootstrap import Container
from cmsbot.history import HistoryFileError, read_history, read_history_draft
from domain.catalogue import PARTNER_CATEGORIES
from projections import tables as t
from tests.integration.support import cmsbot

ROOT = Path(__file__).resolve().parents[2]


def worked_example() -> str:
    """The second report of docs/history-files.md, as the doc shows it."""
    doc = (ROOT / "docs" / "history-files.md").read_text()
    section = doc[doc.index("## A worked example"):]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def run(store: Container, text: str, name: str = "next.yaml") -> str:
    result = store.importer.run_draft(LOCAL_OPERATOR, read_history_draft(text, name))
    store.catch_up()
    return str(result)


def problems(store: Container, text: str, name: str = "bad.yaml") -> list[tuple[int, str]]:
    head = store.tracker.head()
    with pytest.raises(HistoryFileError) as raised:
        store.importer.run_draft(LOCAL_OPERATOR, read_history_draft(text, name))
    assert store.tracker.head() == head
    return raised.value.problems


class TestTheWorkedExample:
    def test_it_extends_the_stc44_items_and_says_what_it_recorded(
            self, seeded: Container) -> None:
        said = run(seeded, worked_example())
        assert said == ("Recorded 5 events and 1 restated fact (a source added) on 4 items "
                        "recorded before, and 1 new partner: 7 log entries, registrations "
                        "included.")
        assert run(seeded, worked_example()).startswith("Nothing new")

    def test_as_at_answers_see_the_plan_before_and_after_it_moved(
            self, seeded: Container) -> None:
        run(seeded, worked_example())
        before = seeded.questions.answer("status of MIKT", as_at=date_of("2016-01-01"))
        after = seeded.questions.answer("status of MIKT", as_at=date_of("2016-03-01"))
        assert "next date: early 2016" in before.text
        assert "next date: 12-15 July 2016" in after.text
        held = seeded.questions.answer("status of MIKT", as_at=date_of("2016-08-01"))
        assert "held (12-15 July 2016, Cairo)" in held.text

    def test_the_restated_draft_is_one_line_citing_both_documents(
            self, seeded: Container) -> None:
        run(seeded, worked_example())
        answer = seeded.questions.answer("history of the Ramsar JWP")
        drafted = [line for line in answer.lines if line.text.startswith("Draft text")]
        assert len(drafted) == 1
        assert [s.cite() for s in drafted[0].sources] == [
            "UNEP/CMS/StC44/18 ¶7", "UNEP/CMS/StC45/15 ¶7"]

    def test_noted_progress_keeps_the_iwc_plan_under_negotiation(
            self, seeded: Container) -> None:
        run(seeded, worked_example())
        [match] = seeded.questions.answer("status of the IWC JWP").matches
        assert match.status == "in negotiation"

    def test_a_source_of_its_own_and_its_url_are_kept_and_no_paragraph_is_null(
            self, seeded: Container) -> None:
        run(seeded, worked_example())
        with seeded.engine.connect() as conn:
            sources = [row.source for row in conn.execute(select(t.activity))]
        assert {"document": "UNEP/CMS/MIKT1/Report", "paragraph": None, "chat": None,
                "url": "https://www.cms.int/"} in sources
        answer = seeded.questions.answer("status of MIKT")
        assert {"document": "UNEP/CMS/MIKT1/Report", "url": "https://www.cms.int/"} in (
            answer.to_json()["sources"])
        assert all(None not in s.values() for s in answer.to_json()["sources"])


def date_of(text: str) -> date:
    return date.fromisoformat(text)


EXTEND = """\
document: TEST/2
as_at: 2016-09-01
items:
  - key: iwc-jwp
{fields}    events:
      - type: noted
        note: still negotiating
"""


class TestExtendingByKey:
    def test_a_kind_or_title_unlike_the_stored_one_names_both(
            self, seeded: Container) -> None:
        found = problems(seeded, EXTEND.format(fields="    kind: meeting\n    title: IWC\n"))
        assert found == [
            (4, "'iwc-jwp' is already tracked as an agreement, not a meeting"),
            (4, "'iwc-jwp' is already tracked as “IWC–CMS Joint Work Plan”, not “IWC”; "
                "leave the title out to extend it (a `corrected` event changes it)")]

    def test_a_key_alone_needs_a_recorded_item(self, container: Container) -> None:
        found = problems(container, EXTEND.format(fields=""))
        assert [reason.split(":")[0] for _, reason in found] == ["'kind' is required",
                                                                 "'title' is required"]

    def test_the_check_against_the_store_writes_nothing(
            self, seeded: Container, tmp_path: Path) -> None:
        path = tmp_path / "extend.yaml"
        path.write_text(EXTEND.format(fields=""))
        head = seeded.tracker.head()
        result = seeded.importer.check_file(path)
        assert (result.events, result.extended, result.checked) == (1, 1, True)
        assert seeded.tracker.head() == head


# One file with a problem of every kind; each line below is one problem.
EVERY_PROBLEM = """\
document: TEST/3
as_at: 2016-09-01
partners:
  - {key: Bad Key, name: Somebody}
  - {key: iwc2, name: Whalers, category: convenshun}
items:
  - key: IWC_JWP2
    kind: agreement
    title: A JWP
    partners: [nobody]
    source: {document: X/1, url: ftp://x}
    events:
      - type: endorsed
        occurred: 2016-02-30
        body: IWC
        meeting: IWC66
      - type: endorsed
        occurred: 2016-03-01
        body: IWC
        meeting: IWC66
      - type: endorsed
        occurred: 2016-03-01
        body: IWC
        meeting: IWC66
      - type: endorsed
        occurred: 2016-10-01
        body: IWC
        meeting: IWC67
      - type: blessed
      - type: noted
  - key: mikt-1
    events:
      - type: postponed
        date: 2017
        step: COP12
"""


class TestEveryProblemInOneRun:
    # In the order listed: by line, then by reason.
    EXPECTED: ClassVar[list[tuple[int, str]]] = [
        (4, "the partner key 'Bad Key' is not a lower-case slug"),  # syntax and values
        (5, "unknown partner category 'convenshun'; it must be one of "
            + ", ".join(PARTNER_CATEGORIES)),
        (7, "no partner has the key 'nobody'"),  # a reference
        (7, "source.url 'ftp://x' is not a web address"),
        (7, "the item key 'IWC_JWP2' is not a lower-case slug"),
        (13, "occurred: no such day"),  # a date
        (21, "repeats the entry on line 17"),  # a repeat
        (25, "IWC has endorsed A JWP already"),  # a state rule, met by the commands
        (29, "an agreement has no event 'blessed'"),
        (30, "'noted' needs the field 'note'"),
        (33, "First meeting of the Intergovernmental Task Force"),  # a step it has not
    ]

    def assert_expected(self, found: list[tuple[int, str]]) -> None:
        assert len(found) == 11, found
        for (line, reason), (want_line, want) in zip(found, self.EXPECTED, strict=True):
            assert (line, reason[:len(want)]) == (want_line, want)

    def test_an_import_refuses_the_file_listing_them_all(self, seeded: Container) -> None:
        self.assert_expected(problems(seeded, EVERY_PROBLEM))

    def test_check_lists_them_all_and_exits_2(self, tmp_path: Path) -> None:
        from tests.conftest import new_store

        url = new_store(f"sqlite:///{tmp_path}/check.sqlite")
        cmsbot("import", "--seed", database=url)
        path = tmp_path / "bad.yaml"
        path.write_text(EVERY_PROBLEM)
        result = cmsbot("import", "--check", str(path), database=url, check=False)
        assert result.returncode == 2
        listed = re.findall(rf"{re.escape(str(path))}:(\d+): (.*)", result.stderr)
        self.assert_expected([(int(line), reason) for line, reason in listed])
        clean = tmp_path / "clean.yaml"
        clean.write_text(worked_example())
        checked = cmsbot("import", "--check", str(clean), database=url)
        assert checked.stdout.startswith("No problems. Would record 5 events")
        verified = cmsbot("audit", "verify", database=url).stdout
        assert "The log verifies: 130 log entries" in verified


REPEAT = """\
document: TEST/4
as_at: 2016-09-01
items:
  - key: sbi-1
    kind: meeting
    title: SBI-1
    events:
      - type: scheduled
        dates: 2-6 May 2016
      - type: scheduled
        dates: 2016-05-02..2016-05-06
"""


class TestRepeats:
    def test_an_exact_repeat_in_a_file_names_both_lines(self, container: Container) -> None:
        assert problems(container, REPEAT) == [
            (10, "repeats the entry on line 8 (the same 'scheduled', date and fields); "
                 "write it once")]

    def test_an_entry_of_another_type_between_makes_it_a_fact_of_its_own(
            self, container: Container) -> None:
        text = REPEAT.replace("      - type: scheduled\n        dates: 2016-05-02",
                              "      - type: noted\n        note: moved\n"
                              "      - type: scheduled\n        dates: 2016-05-02")
        assert run(container, text).startswith("Recorded 3 events on 1 new item")

    def test_a_later_document_restating_a_fact_adds_its_source(
            self, container: Container) -> None:
        first = REPEAT[:REPEAT.rindex("      - type: scheduled")]
        run(container, first, "first.yaml")
        later = first.replace("TEST/4", "TEST/5").replace("    kind: meeting\n    title: "
                                                          "SBI-1\n", "")
        assert "1 restated fact" in run(container, later, "later.yaml")
        assert run(container, later, "later.yaml").startswith("Nothing new")
        answer = container.questions.answer("history of SBI-1")
        assert [[s.cite() for s in line.sources] for line in answer.lines] == [
            ["TEST/4", "TEST/5"]]

    def test_a_restatement_from_the_same_document_is_recorded_before(
            self, container: Container) -> None:
        first = REPEAT[:REPEAT.rindex("      - type: scheduled")]
        run(container, first, "first.yaml")
        again = first.replace("      - type: scheduled", "      - id: again\n"
                                                          "        type: scheduled")
        assert run(container, again, "again.yaml").startswith("Nothing new")


def test_a_checked_history_without_a_store_still_needs_kind_and_title() -> None:
    with pytest.raises(HistoryFileError, match="'kind' is required"):
        read_history(EXTEND.format(fields=""), "x.yaml")


def test_the_audit_log_cites_no_null_paragraph(seeded: Container) -> None:
    run(seeded, worked_example())
    shown = [record["source"] for record in entries(seeded.engine, seeded.tracker, LogFilter())]
    assert {"document": "UNEP/CMS/MIKT1/Report", "url": "https://www.cms.int/"} in shown
    assert all(None not in source.values() for source in shown if source)

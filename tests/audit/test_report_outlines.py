"""A report per document: the outline a history file declares is recorded, and `cmsbot
report --document` writes that document's report in it; with no outline, by kind and
partner. The prose says each date once and no sentence twice; sources are real and only
those of what the report shows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.report.model import Report, build_report
from cmsbot.audit.report.outline import OTHER_TITLE
from cmsbot.audit.report.render import markdown
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, HistoryFileError, read_history, read_history_file
from cmsbot.wording import day
from tests.audit.helpers import SEED_SECTIONS, cli

STC45 = Path(__file__).parents[1] / "data" / "report-outline-stc45.yaml"
STC45_DOCUMENT = "UNEP/CMS/StC45/Doc.14"
SEED_DOCUMENT = "UNEP/CMS/StC44/18"


def imported(container: Container, text: str, name: str = "file.yaml") -> None:
    container.importer.run(LOCAL_OPERATOR, read_history(text, name))
    container.catch_up()


@pytest.fixture
def both(seeded: Container) -> Container:
    """The seed, and the StC45 test report after it."""
    container = seeded
    container.importer.run(LOCAL_OPERATOR, read_history_file(STC45))
    container.catch_up()
    return container


def keys_by_section(report: Report) -> list[tuple[str, list[str]]]:
    return [(s.title, [i.state.key for i in s.items]) for s in report.sections]


class TestASecondDocumentsOutline:
    def test_its_report_is_in_its_own_sections(self, both: Container) -> None:
        report = build_report(both, date(2016, 9, 1), document=STC45_DOCUMENT)
        assert report.title == "Synergies and Partnerships, StC45"
        assert keys_by_section(report) == [
            # named by key first, then by paragraph
            ("Cooperation with other conventions", ["iwc-jwp", "cites-cop17-cooperation"]),
            ("Meetings attended", ["unea-2", "mikt-cairo"]),
            (OTHER_TITLE, ["sharks-mos2"]),  # paragraph 9 is under no heading
            ("Action requested", [])]
        text = markdown(report)
        assert text.startswith("# Synergies and Partnerships, StC45\n")
        assert f"prepared from the log for {STC45_DOCUMENT}" in text

    def test_the_seeds_report_keeps_its_own(self, both: Container) -> None:
        report = build_report(both, date(2016, 9, 1), document=SEED_DOCUMENT)
        assert [s.title for s in report.sections] == SEED_SECTIONS
        keys = {item.state.key for item in report.items}
        assert {"iwc-jwp", "sharks-mos2"} <= keys and not keys & {"unea-2", "mikt-cairo"}

    def test_before_its_date_only_what_had_happened(self, both: Container) -> None:
        report = build_report(both, date(2016, 6, 1), document=STC45_DOCUMENT)
        assert keys_by_section(report) == [
            ("Cooperation with other conventions", ["iwc-jwp", "cites-cop17-cooperation"]),
            ("Meetings attended", ["unea-2"]),
            (OTHER_TITLE, ["sharks-mos2"]),
            ("Action requested", [])]

    def test_importing_it_again_records_nothing(self, both: Container) -> None:
        head = both.tracker.head()
        both.importer.run(LOCAL_OPERATOR, read_history_file(STC45))
        assert both.tracker.head() == head

    def test_a_changed_outline_is_a_revision_read_as_known_then(self, both: Container) -> None:
        first = datetime.now(UTC)
        text = STC45.read_text(encoding="utf-8").replace("Meetings attended", "Meetings held")
        head = both.tracker.head()
        imported(both, text, "revised.yaml")
        assert both.tracker.head() == head + 1  # the revision alone
        now = build_report(both, date(2016, 9, 1), document=STC45_DOCUMENT)
        assert "Meetings held" in [s.title for s in now.sections]
        then = build_report(both, date(2016, 9, 1), document=STC45_DOCUMENT, known_at=first)
        assert "Meetings attended" in [s.title for s in then.sections]

    def test_the_log_with_outlines_verifies(self, both: Container,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(both.settings.database.url, "audit", "verify", monkeypatch=monkeypatch,
                  capsys=capsys)
        assert run.code == 0, run.out + run.err


class TestWithNoOutline:
    FILE = """
document: UNEP/CMS/Inf.9
as_at: 2016-09-01
partners:
  - {key: zeta, name: Zeta Commission}
  - {key: alpha, name: Alpha Convention}
items:
  - {key: zeta-talks, kind: engagement, title: Talks with Zeta, partners: [zeta],
     paragraph: 1, events: [{type: started}]}
  - {key: alpha-talks, kind: engagement, title: Talks with Alpha, partners: [alpha],
     paragraph: 2, events: [{type: started}]}
  - {key: zeta-meeting, kind: meeting, title: A meeting with Zeta, partners: [zeta],
     paragraph: 3, events: [{type: held, occurred: 3 March 2016, dates: 3 March 2016}]}
"""

    def test_a_documents_items_go_by_kind_then_partner(self, seeded: Container) -> None:
        imported(seeded, self.FILE)
        report = build_report(seeded, date(2016, 9, 1), document="UNEP/CMS/Inf.9")
        assert report.title == "UNEP/CMS/Inf.9"
        assert keys_by_section(report) == [
            ("Meetings and workshops", ["zeta-meeting"]),
            ("Engagements", ["alpha-talks", "zeta-talks"]),  # Alpha before Zeta
            ("Action requested", [])]

    def test_the_overview_holds_every_item_by_kind_then_partner(self, seeded: Container,
                                                                ) -> None:
        report = build_report(seeded, date(2015, 9, 1))
        assert report.title == "Overview of activities" and len(report.items) == 43
        assert [s.title for s in report.sections] == [
            "Agreements", "Posts", "Meetings and workshops", "Consultations", "Engagements",
            "Action requested"]
        for section in report.sections:
            firsts = [item.partners[0].casefold() if item.partners else ""
                      for item in section.items]
            assert firsts == sorted(firsts), section.title

    def test_a_store_imported_before_outlines_reports_the_seed_in_its_sections(
            self, container: Container) -> None:
        text = SEED.read_text(encoding="utf-8")
        without = re.sub(r"\nreport:\n(  .*\n)+", "\n", text)
        assert "report:" not in without
        imported(container, without, str(SEED))
        report = build_report(container, date(2015, 9, 1), document=SEED_DOCUMENT)
        assert [s.title for s in report.sections] == SEED_SECTIONS
        assert report.title == "Synergies and Partnerships"
        # importing the seed again records its outline, and says so
        head = container.tracker.head()
        result = container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        assert str(result) == ("Recorded the report's outline; nothing else was new (all 129 "
                               "entries were recorded before).")
        assert container.tracker.head() == head + 1
        assert len(container.tracker.outline_events(SEED_DOCUMENT)) == 1


def paragraphs(report: Report) -> list[str]:
    """Each item's paragraph as the Markdown says it, after its title."""
    text = markdown(report)
    return [line.split("** ", 1)[1] if "** " in line else line
            for line in text.splitlines() if re.match(r"\*\*\d+\. ", line)]


def sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.”])\s+(?=[A-Z“])", paragraph) if s]


LEAD = re.compile(r"(?:^|\. )((?:By|In|On|At|Between|Before) [^.:]{1,60}): ")


@pytest.mark.parametrize(("as_at", "document"), [
    (date(2015, 9, 1), SEED_DOCUMENT), (date(2016, 9, 1), SEED_DOCUMENT),
    (date(2016, 9, 1), STC45_DOCUMENT), (date(2017, 1, 1), None)])
def test_the_prose_says_each_date_once_and_no_sentence_twice(
        both: Container, as_at: date, document: str | None) -> None:
    report = build_report(both, as_at, document=document)
    said = paragraphs(report)
    assert len(said) == len(report.items) > 0
    for paragraph in said:
        assert "so by" not in paragraph and "(since" not in paragraph, paragraph
        assert "as at" not in paragraph.casefold(), paragraph
        assert day(as_at) not in paragraph, paragraph  # the report's date: said at its head
        told = sentences(paragraph)
        assert len(told) == len(set(told)), paragraph
        leads = LEAD.findall(paragraph)
        assert len(leads) == len(set(leads)), paragraph
    text = markdown(report)
    assert text.count(day(as_at)) == 1  # in the subtitle, once


def test_facts_the_source_did_not_date_are_said_as_of_its_date_once_in_a_later_report(
        seeded: Container) -> None:
    report = build_report(seeded, date(2016, 9, 1), document=SEED_DOCUMENT)
    bern = next(i for i in report.items if i.state.key == "bern-cooperation")
    assert bern.told[0].startswith("By 1 September 2015: Engagement under way")
    assert len(bern.told) == 1  # both of that date's facts follow the one date
    assert bern.status == "It was ongoing."


class TestSources:
    def test_every_paragraph_cites_a_real_source(self, both: Container) -> None:
        for document in (SEED_DOCUMENT, STC45_DOCUMENT, None):
            report = build_report(both, date(2016, 9, 1), document=document)
            for item in report.items:
                assert item.cited, item.title
                assert all(s.document or s.chat for s in item.cited)
                assert item.sources and "None" not in item.sources
                assert "null" not in item.sources

    def test_an_as_at_report_cites_only_what_it_shows(self, both: Container) -> None:
        def iwc(as_at: date, known_at: datetime | None = None) -> str:
            report = build_report(both, as_at, known_at=known_at)
            return next(i for i in report.items if i.state.key == "iwc-jwp").sources

        assert iwc(date(2015, 9, 1)) == "UNEP/CMS/StC44/18 ¶10"  # its June 2016 news not yet
        assert iwc(date(2016, 9, 1)) == "UNEP/CMS/StC44/18 ¶10; UNEP/CMS/StC45/Doc.14 ¶3"
        imported_at = max(e.timestamp for e in both.tracker.item_events(
            both.tracker.item("iwc-jwp").id)[:-1])
        assert iwc(date(2016, 9, 1), known_at=imported_at) == "UNEP/CMS/StC44/18 ¶10"


class TestABadOutline:
    HEAD = "document: D/1\nas_at: 2016-09-01\nitems:\n  - {key: a, kind: engagement, " \
           "title: A}\n"

    @pytest.mark.parametrize(("report", "line", "reason"), [
        # a value that is no mapping has no line of its own: the file's first is given
        ("report: [one, two]\n", 2, "'report' must be a mapping with 'title' and 'sections'"),
        ("report:\n  title: T\n", 7, "'report' needs 'sections'"),
        ("report:\n  title: T\n  sections:\n    - paragraphs: [1]\n", 9,
         "a report section needs a 'title'"),
        ("report:\n  title: T\n  sections:\n    - title: S\n      pages: [1]\n", 9,
         "a report section has no field 'pages'"),
        ("report:\n  title: T\n  sections:\n    - title: S\n      paragraphs: {a: 1}\n", 9,
         "'paragraphs' must be a list"),
        ("report:\n  sections:\n    - title: S\n", 7, "'report' needs a 'title'"),
        ("report:\n  title: T\n  sections:\n    - {title: S, items: [a]}\n"
         "    - {title: U, items: [a]}\n", 10,
         "the item 'a' is in two sections of the report (also line 9)"),
        ("report:\n  title: T\n  sections:\n    - {title: S, paragraphs: [1]}\n"
         "    - {title: s, paragraphs: [2]}\n", 10,
         "the section title 's' is in two sections of the report (also line 9)"),
    ])
    def test_is_refused_with_its_line(self, report: str, line: int, reason: str) -> None:
        with pytest.raises(HistoryFileError) as raised:
            read_history("\n" + self.HEAD + report, "f.yaml")
        assert f"f.yaml:{line}: {reason}" in str(raised.value)

    def test_naming_an_item_never_recorded_refuses_the_whole_file(self, seeded: Container,
                                                                  ) -> None:
        head = seeded.tracker.head()
        text = (self.HEAD + "report:\n  title: T\n  sections:\n"
                "    - {title: S, items: [a, iwc-jwp, nowhere]}\n")
        with pytest.raises(HistoryFileError) as raised:
            seeded.importer.run(LOCAL_OPERATOR, read_history(text, "f.yaml"))
        assert str(raised.value).endswith(
            "f.yaml:8: the report section 'S' names the item 'nowhere', which is neither "
            "in this file nor recorded")
        assert seeded.tracker.head() == head

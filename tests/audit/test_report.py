"""`cmsbot report`: the Synergies and Partnerships overview, written from the log."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from cmsbot.audit.report.model import NoSuchReportError, Report, build_report
from cmsbot.audit.report.render import html, markdown
from cmsbot.bootstrap import Container
from cmsbot.history import SEED
from tests.audit.helpers import SEED_SECTIONS, cli, correct_and_retract

REPORT_DATE = date(2015, 9, 1)
SEED_DATA = yaml.safe_load(SEED.read_text(encoding="utf-8"))
SEED_DOCUMENT = SEED_DATA["document"]


@pytest.fixture
def report(seeded: Container) -> Report:
    return build_report(seeded, REPORT_DATE, document=SEED_DOCUMENT)


def paragraph(text: str, title: str) -> str:
    """The markdown paragraph of the item with this title."""
    match = re.search(rf"\*\*\d+\. {re.escape(title)}\*\*.*", text)
    assert match, f"no paragraph for {title}"
    return match.group(0)


class TestAsAtTheSourceReportsDate:
    def test_every_item_and_partner_of_the_source_report_is_in_it(self, report: Report, ) -> None:
        text = markdown(report)
        for item in SEED_DATA["items"]:
            assert f". {item['title']}**" in text, item["key"]
        for partner in SEED_DATA["partners"]:
            assert partner["acronym"] in text, partner["key"]
        assert len(report.items) == len(SEED_DATA["items"])

    def test_sections_are_the_source_reports(self, report: Report) -> None:
        assert [s.title for s in report.sections] == SEED_SECTIONS
        regional = next(s for s in report.sections
                        if s.title == "Strengthening regional collaboration and presence of CMS")
        assert regional.items[0].title == \
            "Regional coordinators in Africa, the Pacific and Latin America"

    SAYS: ClassVar[list[tuple[str, str]]] = [
        ("CITES–CMS Joint Work Plan 2015–2020",
         "It had been endorsed by CITES Standing Committee (SC65) and CMS Standing Committee "
         "(StC42). In 2014: Endorsed by CITES Standing Committee at SC65. Endorsed by CMS "
         "Standing Committee at StC42."),
        ("Joint CITES/CMS Programme Officer", "The post was filled: began work 1 July 2015."),
        ("Joint CITES/CMS Programme Officer", "By 1 July 2015: Funded by Germany. An officer "
                                              "recruited, starting 1 July 2015"),
        ("IWC–CMS Joint Work Plan", "It was under negotiation."),
        ("IWC–CMS Joint Work Plan", "ship strikes, marine debris, ecotourism"),
        ("IOTC–CMS Memorandum of Cooperation", "It was awaiting endorsement"),
        ("IOTC–CMS Memorandum of Cooperation", "UNEP/CMS/StC44/18.2"),
        ("Workshop to promote the accession of Latin American countries to CMS",
         "Scheduled for 22-24 September 2015 in Panama"),
        ("Workshop to promote the accession of South-east Asian countries to CMS",
         "Scheduled for 27-29 October 2015 in Philippines"),
        ("Workshop to promote the accession of Pacific Islands States to CMS",
         "Planned for 2016, most probably in Samoa"),
        ("Biodiversity Liaison Group (BLG) video-conference",
         "It had been held. Held 23 January 2015 in video-conference"),
        ("Consultation on the relationship between the CMS Family and civil society",
         "Submission received from Wild Migration: “The Firebird Project"),
        ("Consultation on the relationship between the CMS Family and civil society",
         "It was open for submissions: 1 submission received. Notification of 16 June 2015 "
         "issued"),
        ("Regional coordinators in Africa, the Pacific and Latin America", "It had stalled."),
        ("Meeting of the CMS African-Eurasian Landbirds Working Group",
         "Planned for late November 2015, Abidjan"),
        ("CBD–CMS Joint Work Plan 2016–2018", "It was awaiting endorsement: submitted to CMS "
                                              "Standing Committee (StC44). Draft text"),
        ("Elements of advice to the Global Environment Facility (GEF)",
         "Next step planned: Final discussion at the Standing Committee (StC44)"),
        ("First meeting of the CBD Subsidiary Body on Implementation (SBI-1)", "2-6 May 2016"),
        ("First meeting of the Intergovernmental Task Force on Illegal Killing, Taking and "
         "Trade of Migratory Birds in the Mediterranean (MIKT)", "Planned for early 2016"),
        ("UNEP Task Team on administrative arrangements and programmatic cooperation",
         "Next step planned: Recommendations submitted to the second UN Environment Assembly "
         "(UNEA-2) (June 2016). Sources:"),
    ]

    def test_statuses_and_dates_as_the_source_gave_them(self, report: Report) -> None:
        text = markdown(report)
        missing = [(title, says) for title, says in self.SAYS
                   if says not in paragraph(text, title)]
        assert missing == []

    def test_each_paragraph_cites_its_sources(self, report: Report) -> None:
        text = markdown(report)
        assert "Sources: UNEP/CMS/StC44/18 ¶8." in paragraph(text, "Joint CITES/CMS Programme "
                                                                   "Officer")
        for item in report.items:
            assert item.sources.startswith("UNEP/CMS/StC44/18")

    def test_what_is_still_open_is_action_requested(self, report: Report) -> None:
        actions = "\n".join(report.actions)
        for document in ("UNEP/CMS/StC44/18.1", "UNEP/CMS/StC44/18.2", "UNEP/CMS/StC44/18.3"):
            assert re.search(rf"Consider .*\({re.escape(document)}\), submitted for "
                             "endorsement by CMS Standing Committee at StC44", actions)
        assert "Take note of IWC–CMS Joint Work Plan: in negotiation" in actions
        assert "Regional coordinators in Africa, the Pacific and Latin America: stalled" \
            in actions
        assert "StC44 considers UNEP/CMS/StC44/18.1, 18.2 and 18.3 and takes action " \
               "(14-15 October 2015)" in actions
        assert "CITES–CMS Joint Work Plan" not in actions  # endorsed: nothing to do
        assert "The following are requested, or still open:" in markdown(report)

    def test_agrees_with_ask_as_at_for_every_item(self, seeded: Container, report: Report) -> None:
        for item in report.items:
            answer = seeded.questions.answer(f"status of {item.state.key}", as_at=REPORT_DATE)
            # A near tie ("clarify") lists the candidates, each with its status then.
            [match] = [m for m in answer.matches if m.key == item.state.key]
            assert match.status == item.state.status

    def test_names_the_chain_head_it_was_written_from(self, seeded: Container,
                                                      report: Report) -> None:
        assert f"cmsbot audit verify --head {seeded.chain.head()}" in markdown(report)


class TestTheHtmlPage:
    def test_is_standalone_print_friendly_and_has_no_scripts(self, report: Report) -> None:
        page = html(report)
        assert page.startswith("<!DOCTYPE html>")
        assert "<script" not in page.lower() and "javascript:" not in page.lower()
        assert not re.search(r"""(src|href)=["']?https?:""", page)
        assert "@media print" in page and "@page" in page
        for item in SEED_DATA["items"]:
            assert item["title"].replace("'", "&#x27;") in page
        _WellFormed().feed(page)

    def test_pictures_the_years_meetings_in_an_inline_svg(self, report: Report) -> None:
        page = html(report)
        svg = page[page.index("<svg"):page.index("</svg>")]
        assert "<title id=\"timeline-title\">Meetings in 2015</title>" in svg
        titles = [m.title for m in report.meetings]
        assert titles == [
            "Third session of the IPBES Plenary (IPBES-3)",
            "Biodiversity Liaison Group (BLG) video-conference",
            "Fifth meeting of the IPBES Multidisciplinary Expert Panel (MEP)",
            "Bern Convention Ad Hoc Select Group of Experts on Biodiversity and Climate Change",
            "Biodiversity Liaison Group (BLG) physical meeting",
            "Workshop to promote the accession of Latin American countries to CMS",
            "44th Meeting of the CMS Standing Committee (StC44)",
            "Workshop to promote the accession of South-east Asian countries to CMS",
            "Meeting of the CMS African-Eurasian Landbirds Working Group"]
        assert [m.status for m in report.meetings][:4] == ["held"] * 4
        assert svg.count('<rect x="') == len(titles) + 4  # a bar each, and the legend
        assert "as at 1 September 2015" in svg


class _WellFormed(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (self.open[-3:], tag)
        self.open.pop()

    def close(self) -> None:
        super().close()
        assert not self.open


class TestOtherDates:
    def test_at_the_start_of_2015_only_what_had_happened(self, seeded: Container) -> None:
        report = build_report(seeded, date(2015, 1, 1), document=SEED_DOCUMENT)
        assert [item.title for item in report.items] == ["CITES–CMS Joint Work Plan 2015–2020"]
        assert report.meetings == []

    def test_from_what_was_known_before_anything_was_recorded(self, seeded: Container, ) -> None:
        from datetime import UTC, datetime

        before = datetime(2015, 1, 1, tzinfo=UTC)
        report = build_report(seeded, REPORT_DATE, known_at=before)
        assert report.items == [] and "Nothing is open." in markdown(report)
        with pytest.raises(NoSuchReportError, match="no report outline is recorded for "
                                                    "UNEP/CMS/StC44/18"):
            build_report(seeded, REPORT_DATE, document=SEED_DOCUMENT, known_at=before)


class TestCorrectionsAndRetractions:
    def test_are_applied_in_the_report(self, seeded: Container) -> None:
        correct_and_retract(seeded)
        text = markdown(build_report(seeded, REPORT_DATE, document=SEED_DOCUMENT))
        panama = paragraph(text, "Workshop to promote the accession of Latin American "
                                 "countries to CMS")
        assert "Scheduled for 23-25 September 2015 in Panama" in panama
        assert "[as corrected: the dates moved by a day]" in panama
        assert "22-24 September" not in text
        assert "UNEP/CMS/StC44/Inf.1 ¶3" in panama
        civil = paragraph(text, "Consultation on the relationship between the CMS Family and "
                                "civil society")
        assert "Firebird" not in civil
        assert "| 23-25 September 2015 | Workshop to promote the accession of Latin American" \
            in text


def test_the_command_writes_markdown_or_html(seeded: Container, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = seeded.settings.database.url
    run = cli(url, "report", "--as-at", "2015-09-01", "--document", SEED_DOCUMENT,
              monkeypatch=monkeypatch, capsys=capsys)
    assert run.code == 0 and run.out.startswith("# Synergies and Partnerships\n")
    run = cli(url, "report", "--as-at", "2015-09-01", monkeypatch=monkeypatch, capsys=capsys)
    assert run.code == 0 and run.out.startswith("# Overview of activities\n")
    run = cli(url, "report", "--as-at", "2015-09-01", "--document", "UNEP/CMS/StC99/1",
              monkeypatch=monkeypatch, capsys=capsys)
    assert run.code == 1 and run.out == ""
    assert "no report outline is recorded for UNEP/CMS/StC99/1" in run.err
    page = tmp_path / "report.html"
    run = cli(url, "report", "--as-at", "2015-09-01", "--format", "html", "--output",
              str(page), "--document", SEED_DOCUMENT, monkeypatch=monkeypatch, capsys=capsys)
    assert f"(43 items) to {page}" in run.out
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

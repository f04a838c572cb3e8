"""One question grammar: the times inside a question, change questions, yes/no questions and
whole answers, on the seed and a later history recorded over it, through the engine."""

from __future__ import annotations

from datetime import date

import pytest

from cmsbot.audit.report.model import build_report
from cmsbot.bootstrap import Container
from cmsbot.questions.engine import QuestionEngine
from cmsbot.questions.times import day_end
from cmsbot.readmodel.reader import ReadModel
from tests.integration.support import CORRECTION, STC44_REPORT, STC45_DOC, later_history


@pytest.fixture
def later(seeded: Container) -> Container:
    later_history(seeded)
    return seeded


def engine_on(container: Container, today: date) -> QuestionEngine:
    """The store's question engine with its own "today" (for "last week", "this month")."""
    return QuestionEngine(ReadModel(container.engine, container.tracker, today=lambda: today))


class TestTimesInWords:
    @pytest.mark.parametrize(("words", "plain", "as_at"), [
        ("status of the Ramsar JWP as at 1 September 2015", "status of the Ramsar JWP",
         date(2015, 9, 1)),
        ("status of the Ramsar JWP as of 2015-09-01", "status of the Ramsar JWP",
         date(2015, 9, 1)),
        ("what was the status of the Ramsar JWP on 1 September 2015?",
         "what was the status of the Ramsar JWP?", date(2015, 9, 1)),
        ("where did the Ramsar JWP stand at the end of 2015", "where did the Ramsar JWP stand",
         date(2015, 12, 31)),
        ("status of the Ramsar JWP in October 2015", "status of the Ramsar JWP",
         date(2015, 10, 31)),
        ("what do we have with Ramsar as at 1 September 2015", "what do we have with Ramsar",
         date(2015, 9, 1)),
    ])
    def test_a_date_in_words_is_the_as_at_date(self, later: Container, words: str,
                                               plain: str, as_at: date) -> None:
        said = later.questions.answer(words)
        flagged = later.questions.answer(plain, as_at=as_at)
        assert said.intent == flagged.intent != "upcoming"
        assert said.as_at == as_at.isoformat()
        assert said.text == flagged.text and said.sources == flagged.sources

    def test_the_status_on_a_day_is_where_it_stood_then(self, later: Container) -> None:
        answer = later.questions.answer(
            "what was the status of the Ramsar JWP on 1 September 2015?")
        assert answer.intent == "status"
        assert answer.matches[0].status == "awaiting endorsement"
        assert "(as at 1 September 2015)" in answer.text

    def test_known_at_in_words_is_the_recorded_time(self, seeded: Container) -> None:
        between = later_history(seeded)
        stamp = between.isoformat().replace("+00:00", "Z")
        said = seeded.questions.answer(f"status of the Ramsar JWP known at {stamp}")
        assert said.matches[0].status == "awaiting endorsement"
        assert said.text == seeded.questions.answer("status of the Ramsar JWP",
                                                    known_at=between).text
        by_day = seeded.questions.answer("status of the Ramsar JWP recorded by 1 January 2016")
        assert by_day.known_at == day_end(date(2016, 1, 1)).isoformat()

    def test_a_year_in_a_name_is_no_date(self, later: Container) -> None:
        answer = later.questions.answer("status of the CITES JWP for 2015-2020")
        assert answer.intent == "status" and answer.as_at is None

    def test_a_yes_no_question_in_a_month(self, later: Container) -> None:
        answer = later.questions.answer("was the Panama workshop held in September 2015?")
        assert answer.intent == "yesno" and answer.as_at == "2015-09-30"
        assert answer.text.startswith("Yes (as at 30 September 2015):")

    def test_options_win_over_words(self, later: Container) -> None:
        answer = later.questions.answer("status of the Ramsar JWP as at 1 September 2015",
                                        as_at=date(2015, 12, 31))
        assert answer.as_at == "2015-12-31" and answer.matches[0].status == "endorsed"

    @pytest.mark.parametrize(("question", "named"), [
        ("status of IWC JWP as at 31 February 2015", "31 February 2015"),
        ("status of IWC JWP --as-at 2015-13-45", "2015-13-45"),
        ("what changed since 2015-13-45", "2015-13-45"),
        ("status of IWC JWP known at 2015-02-30", "2015-02-30"),
    ])
    def test_a_date_it_cannot_read_is_named(self, later: Container, question: str,
                                           named: str) -> None:
        answer = later.questions.answer(question)
        assert answer.intent == "unread" and f"“{named}”" in answer.text
        assert not answer.matches

    def test_last_week_and_this_month_count_from_today(self, later: Container) -> None:
        engine = engine_on(later, date(2015, 10, 20))
        changes = engine.answer("what happened last week")
        assert changes.intent == "changes"
        assert [line.item for line in changes.lines] == ["Ramsar–CMS Joint Work Plan 2016–2018"]
        coming = engine_on(later, date(2015, 9, 10)).answer("what's coming up this month")
        assert coming.intent == "upcoming"
        assert "between 1 September 2015 and 30 September 2015" in coming.text
        assert "Workshop to promote the accession of Latin American countries to CMS" in \
            coming.text


class TestChanges:
    def test_what_happened_since_a_day_leaves_out_what_stood_by_then(
            self, later: Container) -> None:
        answer = later.questions.answer("what happened since 1 September 2015",
                                        as_at=date(2016, 9, 1))
        assert answer.intent == "changes"
        assert [(line.when, line.item) for line in answer.lines] == [
            ("24 September 2015", "Workshop to promote the accession of Latin American "
                                  "countries to CMS"),
            ("1 November 2015", "Workshop to promote the accession of Latin American "
                                "countries to CMS"),
            ("15 October 2015", "Ramsar–CMS Joint Work Plan 2016–2018")]
        assert "by 1 September 2015" not in answer.text
        assert answer.text.startswith("Changes since 1 September 2015 (as at 1 September "
                                      "2016): 3 events on 2 items")
        assert "UNEP/CMS/StC44/Report ¶30" in answer.text

    def test_since_a_meeting_counts_from_its_date_in_the_log(self, later: Container) -> None:
        answer = later.questions.answer("what changed since StC44?")
        assert "since 44th Meeting of the CMS Standing Committee (StC44) (14-15 October " \
               "2015)" in answer.text
        assert {line.item for line in answer.lines} == {
            "Ramsar–CMS Joint Work Plan 2016–2018",
            "Workshop to promote the accession of Latin American countries to CMS"}
        assert all("Held" not in line.text for line in answer.lines)  # September: before

    def test_since_the_last_report_counts_from_its_date(self, later: Container) -> None:
        answer = later.questions.answer("what has changed since the last report?")
        assert "since the last report (UNEP/CMS/StC44/18, as at 1 September 2015)" in \
            answer.text
        assert len(answer.lines) == 3

    def test_an_unknown_meeting_is_named(self, later: Container) -> None:
        answer = later.questions.answer("what changed since the Atlantis summit")
        assert answer.intent == "unread" and "“Atlantis summit”" in answer.text

    def test_what_was_recorded_includes_back_dated_events(self, seeded: Container) -> None:
        between = later_history(seeded)
        recorded = seeded.questions.answer(f"what was recorded since {between.date()}")
        assert recorded.intent == "changes"
        assert "when recorded, whenever they happened" in recorded.text
        back_dated = [line for line in recorded.lines if "dated August 2015" in line.text]
        blg = "Biodiversity Liaison Group (BLG) physical meeting"
        assert back_dated and back_dated[0].item == blg
        happened = seeded.questions.answer("what happened since 1 September 2015")
        assert all(line.item != blg for line in happened.lines)

    def test_the_json_holds_every_entry_and_the_total(self, later: Container) -> None:
        answer = later.questions.answer("what was recorded since 2000-01-01")
        data = answer.to_json()
        assert data["total"] == len(data["lines"]) == len(answer.lines) > 25
        assert "… and" not in answer.text
        assert all(line.text.split(": ", 1)[-1] in answer.text for line in answer.lines)


class TestYesNo:
    def test_yes_cites_the_deciding_event(self, later: Container) -> None:
        answer = later.questions.answer("did StC44 endorse the Ramsar JWP?")
        assert answer.intent == "yesno" and answer.text.startswith("Yes:")
        assert answer.sources == [STC44_REPORT]
        assert answer.lines[0].when == "15 October 2015"

    def test_no_as_at_a_date_before_it(self, later: Container) -> None:
        answer = later.questions.answer("did StC44 endorse the Ramsar JWP as at 1 September "
                                        "2015?")
        assert answer.text.startswith("No (as at 1 September 2015):")
        assert "Submitted for endorsement" in answer.text

    def test_a_named_body_narrows_it(self, later: Container) -> None:
        answer = later.questions.answer("was the Ramsar JWP endorsed by StC45?")
        assert answer.text.startswith("Not recorded:")

    def test_a_held_meeting_cites_its_correction_beside_the_original(
            self, later: Container) -> None:
        answer = later.questions.answer("has the Panama workshop been held?")
        assert answer.text.startswith("Yes:") and "Panama City, Panama" in answer.text
        assert answer.sources == [STC45_DOC, CORRECTION]

    def test_not_recorded(self, later: Container) -> None:
        answer = later.questions.answer("is the IOTC MoC signed?")
        assert answer.intent == "yesno" and answer.text.startswith("Not recorded:")
        assert answer.lines  # the latest event there is, with its source


class TestHonestSources:
    def test_an_as_at_answer_cites_only_what_it_shows(self, later: Container) -> None:
        answer = later.questions.answer("status of the Panama workshop",
                                        as_at=date(2015, 9, 10))
        assert STC45_DOC not in answer.sources and CORRECTION not in answer.sources
        assert later.questions.answer("status of the Panama workshop").sources[-2:] == [
            STC45_DOC, CORRECTION]

    def test_the_report_as_at_a_date_cites_only_what_it_shows(self, later: Container) -> None:
        def cited(as_at: date) -> str:
            report = build_report(later, as_at)
            return next(item.sources for section in report.sections for item in section.items
                        if item.title.startswith("Workshop to promote the accession of Latin"))

        assert cited(date(2015, 9, 10)) == "UNEP/CMS/StC44/18 ¶21"
        assert cited(date(2015, 12, 31)) == ("UNEP/CMS/StC44/18 ¶21; UNEP/CMS/StC45/Doc.14 ¶5; "
                                             "UNEP/CMS/StC45/Inf.2 ¶1")

    def test_history_cites_each_correction_beside_the_original(self, later: Container) -> None:
        answer = later.questions.answer("history of the Panama workshop")
        held = [line for line in answer.lines if line.text.startswith("Held")]
        assert held and held[0].sources == (STC45_DOC, CORRECTION)

"""Questions about the seed history, phrased as staff would, on SQLite and PostgreSQL.

The phrasings differ on purpose from the issue's examples: the engine is judged on
questions it has not seen.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from cmsbot.bootstrap import Container

REPORT_DATE = date(2015, 9, 1)

STATUS = [
    ("how is the whaling commission joint work plan doing?", "iwc-jwp", "in negotiation"),
    ("I.W.C. J.W.P.", "iwc-jwp", "in negotiation"),
    ("where do things stand on the CITES work plan", "cites-jwp", "endorsed"),
    ("cites/cms program officer", "cites-cms-programme-officer", "filled"),
    ("is the joint programme officer in post?", "cites-cms-programme-officer", "filled"),
    ("IOTC MoC", "iotc-moc", "awaiting endorsement"),
    ("memorandum of cooperation with the tuna commission", "iotc-moc", "awaiting endorsement"),
    ("Panama workshop", "latin-america-accession-workshop", "scheduled"),
    ("abidjan landbirds meeting", "landbirds-working-group-abidjan", "planned"),
    ("mikt", "mikt-1", "planned"),
    ("any news on the regional coordinators?", "regional-coordinators", "stalled"),
    ("ramsar joint workplan", "ramsar-jwp", "awaiting endorsement"),
    ("wetlands convention JWP", "ramsar-jwp", "awaiting endorsement"),
    ("the BLG video conference", "blg-video-conference-2015", "held"),
    ("GEF notification", "gef-advice-notification", "announced"),
    ("Task team on administrative arrangements", "unep-task-team", "ongoing"),
]


@pytest.mark.parametrize(("question", "key", "status"), STATUS)
def test_status_of_an_item(seeded: Container, question: str, key: str, status: str) -> None:
    answer = seeded.questions.answer(question, as_at=REPORT_DATE)
    assert answer.intent == "status", answer.text
    assert [m.key for m in answer.matches] == [key]
    assert answer.matches[0].status == status
    assert answer.sources and all(s.document == "UNEP/CMS/StC44/18" for s in answer.sources)
    assert status in answer.text


class TestStatusDetails:
    def test_the_officer_started_on_1_july_2015(self, seeded: Container) -> None:
        [match] = seeded.questions.answer("CITES officer", as_at=REPORT_DATE).matches
        assert match.status_since == "1 July 2015"
        assert set(match.partners) == {"CITES", "Germany"}

    def test_next_date_keeps_the_sources_words(self, seeded: Container) -> None:
        [match] = seeded.questions.answer("Abidjan meeting", as_at=REPORT_DATE).matches
        assert match.next_date == "late November 2015"
        [match] = seeded.questions.answer("CBD JWP", as_at=REPORT_DATE).matches
        assert match.next_date == "14-15 October 2015"

    def test_a_tentative_venue_is_said_to_be_tentative(self, seeded: Container) -> None:
        answer = seeded.questions.answer("workshop in Samoa", as_at=REPORT_DATE)
        assert "Samoa (tentative)" in answer.text

    def test_answers_cite_paragraphs(self, seeded: Container) -> None:
        answer = seeded.questions.answer("IWC JWP", as_at=REPORT_DATE)
        assert [(s.document, s.paragraph) for s in answer.sources] == [
            ("UNEP/CMS/StC44/18", "10")]
        assert "UNEP/CMS/StC44/18 ¶10" in answer.text


class TestHistory:
    def test_lists_both_endorsements_with_their_meetings(self, seeded: Container) -> None:
        answer = seeded.questions.answer("timeline of the cites joint work plan",
                                         as_at=REPORT_DATE)
        assert answer.intent == "history"
        assert "SC65" in answer.text and "StC42" in answer.text
        assert [line.when for line in answer.lines] == ["2014", "2014"]

    def test_for_a_post(self, seeded: Container) -> None:
        answer = seeded.questions.answer("what has happened with the programme officer post?")
        assert answer.intent == "history"
        assert "Funded by Germany" in answer.text and "1 July 2015" in answer.text


class TestUpcoming:
    def test_a_month(self, seeded: Container) -> None:
        answer = seeded.questions.answer("anything planned for October 2015?",
                                         as_at=REPORT_DATE)
        assert answer.intent == "upcoming"
        keys = {m.key for m in answer.matches}
        assert {"stc44", "southeast-asia-accession-workshop"} <= keys
        assert "latin-america-accession-workshop" not in keys  # that one is in September

    def test_workshops_only(self, seeded: Container) -> None:
        answer = seeded.questions.answer("which workshops are coming up?", as_at=REPORT_DATE)
        keys = [m.key for m in answer.matches]
        assert keys[:2] == ["latin-america-accession-workshop",
                            "southeast-asia-accession-workshop"]
        assert "stc44" not in keys and "mikt-1" not in keys

    def test_a_year_keeps_vague_dates_as_given(self, seeded: Container) -> None:
        answer = seeded.questions.answer("what's on the calendar for 2016",
                                         as_at=REPORT_DATE)
        assert "cbd-sbi-1" in {m.key for m in answer.matches}
        assert "early 2016" in answer.text and "2-6 May 2016" in answer.text

    def test_nothing_after_the_last_date(self, seeded: Container) -> None:
        answer = seeded.questions.answer("upcoming meetings", as_at=date(2030, 1, 1))
        assert answer.intent == "upcoming" and answer.matches == []


class TestPartners:
    def test_everything_with_a_partner(self, seeded: Container) -> None:
        answer = seeded.questions.answer("anything with the CBD?", as_at=REPORT_DATE)
        assert answer.intent == "partner"
        assert {"cbd-jwp", "sdgs", "cbd-sbi-1"} <= {m.key for m in answer.matches}

    def test_by_an_alias(self, seeded: Container) -> None:
        answer = seeded.questions.answer("what are we doing with UN Environment?")
        assert answer.intent == "partner"
        assert "unep-task-team" in {m.key for m in answer.matches}


class TestSubmissions:
    @pytest.mark.parametrize("question", [
        "has anyone contributed to the civil society consultation?",
        "submissions received on the Res. 11.11 notification",
        "who responded on civil society",
    ])
    def test_the_firebird_project(self, seeded: Container, question: str) -> None:
        answer = seeded.questions.answer(question, as_at=REPORT_DATE)
        assert answer.intent == "submissions"
        assert "Wild Migration" in answer.text and "Firebird" in answer.text
        assert ("UNEP/CMS/StC44/18", "14") in [(s.document, s.paragraph)
                                               for s in answer.sources]


class TestChanges:
    def test_since_a_date(self, seeded: Container) -> None:
        answer = seeded.questions.answer("what's new since 15 June 2015?", as_at=REPORT_DATE)
        assert answer.intent == "changes"
        assert "Notification of 16 June 2015 issued" in answer.text
        assert "SC65" not in answer.text  # endorsed in 2014


class TestResolution:
    def test_a_near_tie_lists_the_candidates(self, seeded: Container) -> None:
        answer = seeded.questions.answer("status of the joint work plan")
        assert answer.intent == "clarify"
        assert {m.key for m in answer.candidates} == {"cbd-jwp", "cites-jwp", "iwc-jwp",
                                                      "ramsar-jwp"}

    def test_nothing_found_suggests(self, seeded: Container) -> None:
        answer = seeded.questions.answer("status of the antarctic treaty")
        assert answer.intent == "not_found"
        assert "couldn't find" in answer.text

    @pytest.mark.parametrize("question", ["", "   ", "?", "help", "<@U123> help"])
    def test_help(self, seeded: Container, question: str) -> None:
        assert seeded.questions.answer(question).intent == "help"

    @pytest.mark.parametrize("question", [
        "'; DROP TABLE board; --", "<@U0123ABC> <!channel> status", "\x00\x1b[31m",
        "\u202e JWP \u202d", "x" * 100_000, "🐋🐋 whaling 🐋", "status of 2015-13-45",
        "since 99 Foo 2015", "history of", "meetings in 0000",
    ])
    def test_nasty_input_gets_an_answer(self, seeded: Container, question: str) -> None:
        answer = seeded.questions.answer(question)
        assert answer.text
        json.dumps(answer.to_json())


def test_the_json_shape(seeded: Container) -> None:
    data = seeded.questions.answer("status of IWC JWP", as_at=REPORT_DATE).to_json()
    assert set(data) >= {"intent", "text", "matches", "sources"}
    [match] = data["matches"]
    assert set(match) >= {"id", "kind", "title", "status", "status_since", "partners",
                          "next_date"}
    assert match["kind"] == "agreement" and match["partners"] == ["IWC"]
    assert data["sources"] == [{"document": "UNEP/CMS/StC44/18", "paragraph": "10"}]


class TestListsAndCalendars:
    def test_a_list_filtered_by_status(self, seeded: Container) -> None:
        answer = seeded.questions.answer("which agreements are awaiting endorsement?",
                                         as_at=REPORT_DATE)
        assert answer.intent == "list"
        assert {m.key for m in answer.matches} == {"cbd-jwp", "ramsar-jwp", "iotc-moc"}

    def test_meetings_already_held(self, seeded: Container) -> None:
        answer = seeded.questions.answer("which meetings took place?", as_at=REPORT_DATE)
        assert {m.key for m in answer.matches} == {
            "ipbes-3", "ipbes-mep-5", "blg-video-conference-2015", "bern-climate-experts-2015"}

    def test_one_named_meeting_is_answered_about_itself(self, seeded: Container) -> None:
        answer = seeded.questions.answer("when is the Philippines workshop?",
                                         as_at=REPORT_DATE)
        assert answer.intent == "status"
        assert answer.matches[0].next_date == "27-29 October 2015"


class TestWordsThatLookLikeOtherQuestions:
    def test_a_year_in_a_title_is_part_of_the_name(self, seeded: Container) -> None:
        answer = seeded.questions.answer("status of CBD–CMS Joint Work Plan 2016–2018",
                                         as_at=REPORT_DATE)
        assert (answer.intent, answer.matches[0].key) == ("status", "cbd-jwp")

    def test_climate_change_is_a_topic_not_a_question_about_changes(
            self, seeded: Container) -> None:
        answer = seeded.questions.answer("Bern climate change experts", as_at=REPORT_DATE)
        assert answer.intent == "status"
        assert answer.matches[0].key == "bern-climate-experts-2015"

    def test_a_window_between_two_dates(self, seeded: Container) -> None:
        answer = seeded.questions.answer("workshops between June 2016 and December 2016",
                                         as_at=REPORT_DATE)
        assert answer.intent == "upcoming"
        assert {m.key for m in answer.matches} == {"caribbean-accession-workshop",
                                                   "pacific-accession-workshop"}


class TestLateInOtherWords:
    """What is late, asked without the word "overdue"; and "late" in a date stays a date."""

    @pytest.mark.parametrize("question", [
        "which deadlines have passed?", "what dates have lapsed", "what is running late?",
        "what's late?", "is anything past its deadline?", "which milestones have gone by?",
        "what did we miss?"])
    def test_is_the_overdue_list(self, seeded: Container, question: str) -> None:
        answer = seeded.questions.answer(question, as_at=date(2016, 9, 1))
        given = seeded.questions.answer("what is overdue?", as_at=date(2016, 9, 1))
        assert answer.intent == "overdue"
        assert answer.lines == given.lines

    @pytest.mark.parametrize("question", ["meetings in late November 2015",
                                          "what is planned for late 2016?"])
    def test_late_in_a_date_is_a_date(self, seeded: Container, question: str) -> None:
        assert seeded.questions.answer(question, as_at=REPORT_DATE).intent == "upcoming"


def test_a_title_given_in_full_wins_over_titles_that_contain_it(container: Container) -> None:
    """Synthetic titles differ by a number: "… 85" must not tie with "… 8065"."""
    from cmsbot.app.auth import LOCAL_OPERATOR
    from cmsbot.history import read_history

    items = "".join(
        f"  - key: w-{n}\n    kind: meeting\n    title: Marine workshop on energy {n}\n"
        f"    events:\n      - type: planned\n        when: {2016 + i}\n"
        for i, n in enumerate((85, 8065, 851)))
    text = f"document: TEST/9\nas_at: 2015-09-01\nitems:\n{items}"
    container.importer.run(LOCAL_OPERATOR, read_history(text, "numbers.yaml"))
    container.catch_up()
    for n in (85, 8065, 851):
        answer = container.questions.answer(f"status of Marine workshop on energy {n}")
        assert answer.text.startswith(f"Marine workshop on energy {n}:"), answer.text
    vague = container.questions.answer("status of the marine workshop on energy")
    assert vague.text.startswith("Did you mean")

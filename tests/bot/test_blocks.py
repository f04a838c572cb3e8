"""Answers as Block Kit within Slack's limits, always with a plain-text fallback."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from cmsbot.questions.answer import Answer, Line, Match
from cmsbot.slack import blocks
from domain.provenance import Source

from .support import within_limits

TODAY = date(2026, 3, 3)
SOURCE = Source("UNEP/CMS/StC44/18", "8")


def match(title: str = "CITES–CMS Joint Work Plan 2015–2020", key: str = "cites-jwp",
          **changes: Any) -> Match:
    values: dict[str, Any] = {
        "id": "1", "key": key, "kind": "agreement", "title": title, "status": "endorsed",
        "status_since": "2014", "partners": ["CITES"], "next_date": None, **changes}
    return Match(**values)


def all_text(message: blocks.Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


class TestStatus:
    def test_what_is_late_is_a_field_of_its_own(self) -> None:
        late = ("endorsement at StC44: outcome not recorded (StC44 was held 14-15 October "
                "2015)",)
        answer = Answer("status", "…", matches=[match(status="awaiting endorsement",
                                                      late=late)])
        message = blocks.answer_message(answer, today=TODAY)
        within_limits(message)
        [fields] = [b["fields"] for b in message.blocks if "fields" in b]
        assert fields[-1]["text"] == f"*Late*\n{late[0]}"
        on_time = blocks.answer_message(Answer("status", "…", matches=[match()]),
                                        today=TODAY)
        assert "*Late*" not in all_text(on_time)

    def test_header_fields_and_a_context_line_with_sources_and_as_at(self) -> None:
        answer = Answer("status", "CITES–CMS Joint Work Plan 2015–2020: endorsed",
                        matches=[match(next_date="2017", next_label="Review")],
                        sources=[SOURCE], as_at="2015-09-01")
        message = blocks.answer_message(answer, today=TODAY)
        within_limits(message)
        kinds = [b["type"] for b in message.blocks]
        assert kinds == ["header", "section", "context"]
        assert message.blocks[0]["text"]["text"] == "CITES–CMS Joint Work Plan 2015–2020"
        assert [f["text"] for f in message.blocks[1]["fields"]] == [
            "*Status*\nendorsed", "*Since*\n2014", "*Partners*\nCITES",
            "*Next date*\nReview: 2017"]
        assert message.blocks[2]["elements"][0]["text"] == (
            "Sources: UNEP/CMS/StC44/18 ¶8 · as at 1 September 2015")
        assert message.text == answer.text

    def test_without_a_date_it_is_as_at_today(self) -> None:
        answer = Answer("status", "x", matches=[match()], sources=[SOURCE])
        assert "as at 3 March 2026" in all_text(blocks.answer_message(answer, today=TODAY))

    def test_a_recorded_time_is_in_utc_in_the_one_date_style(self) -> None:
        answer = Answer("status", "x", matches=[match()], as_at="2015-09-01",
                        known_at="2030-01-01T10:00:00+01:00")
        [context] = [b for b in blocks.answer_message(answer, today=TODAY).blocks
                     if b["type"] == "context"]
        assert context["elements"][0]["text"] == (
            "as known on 1 January 2030 09:00 UTC · as at 1 September 2015")

    def test_typed_text_cannot_mention_or_link(self) -> None:
        answer = Answer("not_found", "I couldn't find “<!channel> & <http://x|y>”.")
        text = all_text(blocks.answer_message(answer, today=TODAY))
        assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text

    def test_a_long_title_is_cut_to_the_header_limit(self) -> None:
        answer = Answer("status", "x", matches=[match(title="T" * 400)])
        message = blocks.answer_message(answer, today=TODAY)
        within_limits(message)
        assert message.blocks[0]["text"]["text"].endswith("…")


class TestNearTie:
    def test_one_button_per_candidate_each_asking_again(self) -> None:
        candidates = [match(f"Joint Work Plan {n}", key=f"jwp-{n}") for n in range(3)]
        answer = Answer("clarify", "Did you mean:\n• a\n• b\n• c", matches=candidates,
                        candidates=candidates)
        message = blocks.answer_message(answer, today=TODAY,
                                        ask_again=lambda m: f"status of {m.key}")
        within_limits(message)
        [actions] = [b for b in message.blocks if b["type"] == "actions"]
        assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
            (f"Joint Work Plan {n}", f"status of jwp-{n}") for n in range(3)]
        assert message.text == answer.text  # the fallback lists them too

    def test_many_candidates_keep_to_the_button_limit(self) -> None:
        candidates = [match("W" * 200, key=f"k{n}") for n in range(40)]
        answer = Answer("clarify", "Did you mean:", candidates=candidates)
        message = blocks.answer_message(answer, today=TODAY, ask_again=lambda m: "v" * 5000)
        within_limits(message)


class TestLongLists:
    @pytest.mark.parametrize("count", [1, 39, 40, 41, 500])
    def test_a_long_list_keeps_to_the_limits_and_counts_what_is_left(self,
                                                                     count: int) -> None:
        lines = [Line(f"{n} May 2016", f"Meeting number {n} " + "x" * 150, "m",
                      (SOURCE,)) for n in range(count)]
        answer = Answer("upcoming", "Meetings in 2016:\n…", lines=lines, sources=[SOURCE])
        message = blocks.answer_message(answer, today=TODAY)
        within_limits(message)
        assert message.blocks[0] == blocks.header("Meetings in 2016")
        text = all_text(message)
        shown = text.count("Meeting number")
        assert shown == min(count, blocks.PAGE_SIZE)
        if count > shown:
            assert f"… and {count - shown} more" in text
        else:
            assert "more" not in text

    def test_huge_lines_are_cut_and_the_count_still_fits(self) -> None:
        lines = [Line("2016", "y" * 5000, "m", (SOURCE,)) for _ in range(200)]
        message = blocks.answer_message(Answer("changes", "Changes:", lines=lines),
                                        today=TODAY)
        within_limits(message)
        assert "more" in all_text(message)

    def test_share_button_comes_last(self) -> None:
        lines = [Line("2016", "z", "m") for _ in range(100)]
        message = blocks.answer_message(Answer("list", "Agreements: 100", lines=lines),
                                        today=TODAY, share='{"q": "agreements"}')
        within_limits(message)
        assert message.blocks[-1]["elements"][0]["text"]["text"] == "Share in channel"


def test_help_says_how_to_use_the_bot_in_slack() -> None:
    message = blocks.answer_message(Answer("help", "Ask me about…"), today=TODAY)
    within_limits(message)
    assert "/cms record" in all_text(message)

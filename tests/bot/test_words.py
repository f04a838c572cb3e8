"""What a person typed in Slack, as the question engine takes it."""

from __future__ import annotations

from cmsbot.slack import words


def test_mentions_links_and_entities_are_plain_words() -> None:
    assert words.plain("<@U123> status of <https://x.org|IWC JWP> &amp; more") == (
        "status of IWC JWP & more")


def test_the_times_stay_words_of_the_question_for_the_engine_to_read() -> None:
    asked = words.question("<@UBOT> status of IWC JWP --as-at 2015-09-01 as at 1 May 2015")
    assert asked == words.Question("status of IWC JWP --as-at 2015-09-01 as at 1 May 2015")

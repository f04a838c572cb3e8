"""What a person typed in Slack, as the question engine takes it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cmsbot.slack import words


def test_mentions_links_and_entities_are_plain_words() -> None:
    assert words.plain("<@U123> status of <https://x.org|IWC JWP> &amp; more") == (
        "status of IWC JWP & more")


def test_the_two_times_are_taken_out_of_the_question() -> None:
    asked = words.question("<@UBOT> status of IWC JWP --as-at 2015-09-01 "
                           "--known-at 2026-03-03T12:00Z")
    assert asked == words.Question("status of IWC JWP", date(2015, 9, 1),
                                   datetime(2026, 3, 3, 12, tzinfo=UTC))
    assert words.question("what's coming up as at 1 September 2015").as_at == date(2015, 9, 1)


def test_an_unreadable_time_is_a_named_error() -> None:
    with pytest.raises(words.OptionError, match="2015-13-45"):
        words.question("status of IWC JWP --as-at 2015-13-45")

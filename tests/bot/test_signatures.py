"""Every request's signature is checked: Slack's own example, then real HTTP requests that
are unsigned, wrongly signed or stale, which get 401 and change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from cmsbot.bootstrap import Container
from cmsbot.settings import Settings
from cmsbot.slack.app import build_app
from cmsbot.slack.deliveries import deliveries

from .fakes import FakeSlack, sign
from .harness import EDITOR, SECRET, BotServer, event_envelope, mention, serving

# From Slack's "Verifying requests from Slack". (The body's token is the page's
# xyzz0WbapA4vBCDEFasx0q6G; a copy with another token cannot give the page's signature.)
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = 1531420618
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700"
    "885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c"
    "447fce8b6703c")
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class _At:
    def __init__(self, now: float) -> None:
        self.moment = now

    def now(self) -> float:
        return self.moment


class TestSlacksExample:
    def test_the_documented_signature_is_what_the_secret_gives(self) -> None:
        assert sign(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE
        verifier = SignatureVerifier(DOC_SECRET, clock=_At(DOC_TIMESTAMP))  # type: ignore[arg-type]
        assert verifier.is_valid(DOC_BODY, str(DOC_TIMESTAMP), DOC_SIGNATURE)
        assert not verifier.is_valid(DOC_BODY + "x", str(DOC_TIMESTAMP), DOC_SIGNATURE)

    @pytest.mark.parametrize(("seconds_later", "verified"), [(0, True), (299, True),
                                                             (301, False)])
    def test_the_app_accepts_it_within_five_minutes_only(
            self, store: Container, fake: FakeSlack, seconds_later: int,
            verified: bool) -> None:
        settings = Settings(database=store.settings.database, slack_bot_token="xoxb-t",
                            slack_signing_secret=DOC_SECRET, slack_api_url=fake.api_url)
        app = build_app(store, settings)
        headers: dict[str, str | Sequence[str]] = {
                   "content-type": ["application/x-www-form-urlencoded"],
                   "x-slack-request-timestamp": [str(DOC_TIMESTAMP)],
                   "x-slack-signature": [DOC_SIGNATURE]}
        with time_machine.travel(DOC_TIMESTAMP + seconds_later, tick=False):
            response = app.dispatch(BoltRequest(body=DOC_BODY, headers=headers))
        # Verified, it reaches the listeners (none is for /webhook-collect: 404).
        assert (response.status != 401) is verified


def _nothing_happened(bot: BotServer, fake: FakeSlack, head: int) -> None:
    bot.drain()
    assert fake.calls == []
    assert bot.container.tracker.head() == head
    with bot.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0


def _bad(how: str) -> dict[str, Any]:
    """The request options for each kind of bad request, made when the request is sent:
    a timestamp taken at collection would drift toward the window while the suite runs."""
    now = int(time.time())
    options: dict[str, dict[str, Any]] = {
        "unsigned": {"signed": False},
        "wrongly signed": {"signature": sign("not-the-secret", now, "x")},
        "signed for another body": {"signature": sign(SECRET, now, "text=hello")},
        "six minutes old": {"timestamp": now - 360},
        "from the future": {"timestamp": now + 360},
        "with a timestamp that is not a number": {
            "signed": False, "headers": {"X-Slack-Request-Timestamp": "soon",
                                         "X-Slack-Signature": "v0=00"}},
    }
    return options[how]


BAD = ("unsigned", "wrongly signed", "signed for another body", "six minutes old",
       "from the future", "with a timestamp that is not a number")


@pytest.mark.parametrize("how", list(BAD))
class TestBadRequests:
    def test_a_bad_slash_command_gets_401_and_nothing_is_posted(
            self, store: Container, fake: FakeSlack, how: str) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            reply = bot.command("status of IWC JWP", **_options(how))
            assert reply.status == 401
            _nothing_happened(bot, fake, head)

    def test_a_bad_event_gets_401_and_is_not_remembered(
            self, store: Container, fake: FakeSlack, how: str) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            body = json.dumps(event_envelope(mention("status of IWC JWP"), "EvBAD"))
            reply = bot.post(body, "application/json", **_options(how))
            assert reply.status == 401
            _nothing_happened(bot, fake, head)

    def test_a_bad_modal_submission_gets_401_and_records_nothing(
            self, store: Container, fake: FakeSlack, how: str) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            payload = {"type": "view_submission", "user": {"id": EDITOR},
                       "team": {"id": "T0CMS"}, "view": {"id": "V1", "callback_id":
                                                          "record_update", "state": {}}}
            reply = bot.post(urlencode({"payload": json.dumps(payload)}),
                             "application/x-www-form-urlencoded", **_options(how))
            assert reply.status == 401
            _nothing_happened(bot, fake, head)


def _options(how: str) -> dict[str, Any]:
    return _bad(how)

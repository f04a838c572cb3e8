"""Requests Slack would never send, correctly signed, over real HTTP on loopback: to the
Bolt app behind a WSGI server (the harness) and to `cmsbot serve` (gunicorn), as production
runs it. Each gets a 4xx, or a 200 with a polite reply; never a 500 or a traceback; nothing
changes in the store; and the server answers the next question. Unsigned, each gets 401
(413 when over 1 MiB)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, read_history_file
from cmsbot.slack.bot import Bot
from cmsbot.slack.guard import DRAIN_LIMIT, MAX_BODY, MAX_DEPTH
from tests.conftest import make_container

from .fakes import TEAM, FakeSlack, signature
from .harness import (
    CHANNEL,
    EDITOR,
    SECRET,
    Reply,
    block_action,
    cmsbot_serve,
    command_form,
    mention,
    serving,
    view_submission,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


# Sending raw bytes -------------------------------------------------------------------------

def send(url: str, body: bytes, content_type: str | None, *, method: str = "POST",
         signed: bool = True, headers: dict[str, str] | None = None,
         path: str = "/slack/events") -> Reply:
    sent: dict[str, str] = {"Content-Type": content_type} if content_type else {}
    if signed:
        stamp = str(int(time.time()))
        sent["X-Slack-Request-Timestamp"] = stamp
        sent["X-Slack-Signature"] = signature(SECRET, stamp, body)
    sent.update(headers or {})
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, response.read().decode("utf-8", "replace"),
                     time.monotonic() - started)
    finally:
        connection.close()


def form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def payload(value: dict[str, Any] | str) -> bytes:
    return form({"payload": value if isinstance(value, str) else json.dumps(value)})


def without(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in names}


# The table ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    """One request: its body (made with a response_url on the fake), content type and
    method, and the status it must get; `says` is in a polite reply's body."""

    name: str
    body: Callable[[str], bytes]
    content_type: str | None
    status: int
    method: str = "POST"
    says: str = ""


def _command(text: str = "status of IWC JWP", **changes: Any) -> Callable[[str], bytes]:
    def make(response_url: str) -> bytes:
        fields = command_form(text, user=EDITOR, response_url=response_url)
        fields.update(changes)
        return form({k: v for k, v in fields.items() if v is not None})
    return make


def _action(**changes: Any) -> Callable[[str], bytes]:
    def make(response_url: str) -> bytes:
        action = {"type": "button", "action_id": "choose:0", "block_id": "b",
                  "value": "status of IWC JWP"}
        body = block_action(action, response_url=response_url)
        body.update(changes)
        return payload({k: v for k, v in body.items() if v is not None})
    return make


MODAL = {"id": "V0FORM", "type": "modal", "callback_id": "record_update", "hash": "h1",
         "state": {"values": {}}, "private_metadata": "{}"}


def _submission(**changes: Any) -> Callable[[str], bytes]:
    def make(_: str) -> bytes:
        body = view_submission(MODAL, user=EDITOR)
        body.update(changes)
        return payload({k: v for k, v in body.items() if v is not None})
    return make


def _shortcut(kind: str, **changes: Any) -> Callable[[str], bytes]:
    def make(response_url: str) -> bytes:
        body: dict[str, Any] = {
            "type": kind, "callback_id": "record_update", "token": "legacy",
            "team": {"id": TEAM, "domain": "cms"}, "user": {"id": EDITOR, "team_id": TEAM},
            "trigger_id": "1.2.trigger", "response_url": response_url}
        if kind == "message_action":
            body.update(channel={"id": CHANNEL}, message_ts="1.1",
                        message={"type": "message", "text": "hello", "ts": "1.1"})
        body.update(changes)
        return payload({k: v for k, v in body.items() if v is not None})
    return make


def _event(**changes: Any) -> Callable[[str], bytes]:
    def make(_: str) -> bytes:
        body: dict[str, Any] = {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A0CMSBOT",
            "type": "event_callback", "event_id": f"EvBAD{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {"type": "app_mention", "user": EDITOR, "text": "<@UBOT> hi",
                      "ts": "1.2", "channel": CHANNEL}}
        body.update(changes)
        return json.dumps({k: v for k, v in body.items() if v is not None}).encode()
    return make


def _raw(data: bytes) -> Callable[[str], bytes]:
    return lambda _: data


def _with(value: str, kind: str = "action") -> Callable[[str], bytes]:
    """A block_actions payload (or an event) with one more field, written out as the JSON
    `value` (json.dumps could not write some of these, and recurses)."""
    def make(response_url: str) -> bytes:
        if kind == "event":
            return _event()(response_url)[:-1] + f', "extra": {value}}}'.encode()
        fields = dict(parse_qsl(_action()(response_url).decode()))
        return form({"payload": fields["payload"][:-1] + f', "extra": {value}}}'})
    return make


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


MULTIPART = (b'--xyz\r\nContent-Disposition: form-data; name="command"\r\n\r\n/cms\r\n'
             b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhelp\r\n--xyz--\r\n')

CASES = [
    # Malformed
    Bad("interactivity payload= that is not JSON", _raw(payload("{'type': block_actions")),
        FORM, 400),
    Bad("interactivity payload= that is a JSON list", _raw(payload("[1, 2]")), FORM, 400),
    Bad("interactivity payload= that is JSON null", _raw(payload("null")), FORM, 400),
    Bad("event body that is not JSON", _raw(b'{"type": "event_callback", '), JSON, 400),
    Bad("event body that is a JSON list", _raw(b"[]"), JSON, 400),
    Bad("event whose authorizations is a string", _event(authorizations="U1"), JSON, 400),
    # Required fields missing
    Bad("payload without a type", _action(type=None), FORM, 400),
    Bad("block_actions without a user", _action(user=None), FORM, 400),
    Bad("block_actions without actions", _action(actions=None), FORM, 400),
    Bad("block_actions with an empty list of actions", _action(actions=[]), FORM, 400),
    Bad("view_submission without a user", _submission(user=None), FORM, 400),
    Bad("view_submission without a view", _submission(view=None), FORM, 400),
    Bad("view_submission whose view has no type",
        _submission(view=without(MODAL, "type")), FORM, 400),
    Bad("message shortcut without a user", _shortcut("message_action", user=None), FORM, 400),
    Bad("event_callback without its event", _event(event=None), JSON, 400),
    Bad("slash command without user_id", _command(user_id=None), FORM, 400),
    # Unknown names: acknowledged and ignored (a 404 would be retried by Slack)
    Bad("unknown action id", _action(actions=[{"type": "button", "action_id": "nope",
                                               "block_id": "b", "value": "x"}]), FORM, 200),
    Bad("view submission with an unknown callback id",
        _submission(view={**MODAL, "callback_id": "nope"}), FORM, 200),
    Bad("global shortcut with an unknown callback id", _shortcut("shortcut",
                                                                callback_id="nope"), FORM, 200),
    Bad("message shortcut with an unknown callback id",
        _shortcut("message_action", callback_id="nope"), FORM, 200),
    Bad("unknown slash command", _command(command="/cmsbot"), FORM, 200,
        says="I answer /cms only"),
    # Depth, and other odd JSON (a payload is an object: one level more than its field)
    Bad("block_actions nested 1,000 deep", _with(nested(1_000)), FORM, 400),
    Bad("block_actions nested 100,000 deep", _with(nested(100_000)), FORM, 400),
    Bad("an event nested 1,000 deep", _with(nested(1_000), "event"), JSON, 400),
    Bad("block_actions nested one level too deep", _with(nested(MAX_DEPTH)), FORM, 400),
    Bad("block_actions nested as deep as may be", _with(nested(MAX_DEPTH - 1)), FORM, 200),
    Bad("brackets in strings, 1,000 deep", _with(json.dumps(nested(1_000))), FORM, 200),
    Bad("a number of 5,000 digits", _with("1" * 5_000), FORM, 400),
    Bad("NaN, Infinity and 1e999", _with("[NaN, Infinity, -Infinity, 1e999]"), FORM, 200),
    Bad("a lone surrogate", _with('"\\ud800"'), FORM, 200),
    # Size
    Bad("100 KB of slash-command text", _command("status of " + "IWC JWP " * 12_500), FORM,
        200),
    Bad("a body one byte over 1 MiB", _command("x" * MAX_BODY), FORM, 413),
    # Content types and bytes
    Bad("a slash command sent as text/plain", _command(), "text/plain", 415),
    Bad("XML", _raw(b"<command>/cms</command>"), "application/xml", 415),
    Bad("multipart/form-data", _raw(MULTIPART), "multipart/form-data; boundary=xyz", 415),
    Bad("no content type", _command(), None, 415),
    Bad("an empty body", _raw(b""), FORM, 400),
    Bad("an empty JSON body", _raw(b""), JSON, 400),
    Bad("bytes that are not UTF-8", _raw(b"command=%2Fcms&text=\xff\xfe\xc3("), FORM, 400),
    Bad("JSON with bytes that are not UTF-8", _raw(b'{"type": "\xff"}'), JSON, 400),
    # Methods
    Bad("GET on the events path", _raw(b""), None, 405, method="GET"),
    Bad("PUT on the events path", _command(), FORM, 405, method="PUT"),
    Bad("DELETE on the events path", _raw(b""), None, 405, method="DELETE"),
]


# The servers -------------------------------------------------------------------------------

@dataclass
class Target:
    """A running bot to send requests to, with the store and the fake Slack it uses."""

    url: str
    store: Container
    fake: FakeSlack

    def events(self) -> tuple[int, int]:
        with self.store.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM stored_events")).scalar_one()
        return int(count), self.store.tracker.head()

    def still_answers(self) -> None:
        """A good question, signed, is answered: the server keeps serving."""
        name = f"after-{time.monotonic_ns()}"
        reply = send(self.url, _command()(self.fake.response_url(name)), FORM)
        assert reply.status == 200, reply
        [answer] = self.fake.wait_for(f"response:{name}", timeout=15)
        assert answer.params["text"].startswith("IWC–CMS Joint Work Plan: in negotiation")


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    path = tmp_path_factory.mktemp("bad-payloads") / "cmsbot.sqlite"
    container = make_container(f"sqlite:///{path}")
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    yield container
    container.close()


@pytest.fixture(scope="module")
def module_fake() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture(scope="module")
def harness_target(module_store: Container, module_fake: FakeSlack) -> Iterator[Target]:
    with serving(module_store, module_fake) as bot:
        yield Target(bot.url, module_store, module_fake)


@pytest.fixture(scope="module")
def serve_target(module_store: Container, module_fake: FakeSlack,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """`cmsbot serve` (gunicorn) in its own process, on the same store and fake."""
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with cmsbot_serve(module_store.settings.database.url, module_fake, log) as url:
        yield Target(url, module_store, module_fake)
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(params=["harness", "cmsbot serve"])
def target(request: pytest.FixtureRequest) -> Target:
    name = "harness_target" if request.param == "harness" else "serve_target"
    found: Target = request.getfixturevalue(name)
    return found


# The tests ---------------------------------------------------------------------------------

def _not_a_crash(reply: Reply) -> None:
    assert reply.status < 500, reply
    assert "Traceback" not in reply.body and 'File "' not in reply.body, reply.body


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_signed_bad_request_gets_4xx_or_a_polite_200_and_changes_nothing(
        target: Target, case: Bad) -> None:
    before = target.events()
    name = f"bad-{case.name}-{time.monotonic_ns()}"
    reply = send(target.url, case.body(target.fake.response_url(name)), case.content_type,
                 method=case.method)
    _not_a_crash(reply)
    assert reply.status == case.status, reply
    assert case.says in reply.body
    target.still_answers()
    assert target.events() == before
    assert target.fake.of(f"response:{name}") == [] or case.status == 200


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_same_request_unsigned_gets_401(target: Target, case: Bad) -> None:
    name = f"unsigned-{time.monotonic_ns()}"
    before = target.events()
    reply = send(target.url, case.body(target.fake.response_url(name)), case.content_type,
                 method=case.method, signed=False)
    # A body over 1 MiB is refused on its size first: its signature would need it read.
    assert reply.status == (413 if case.status == 413 else 401), reply
    _not_a_crash(reply)
    time.sleep(0.05)
    assert target.fake.of(f"response:{name}") == []
    assert target.events() == before


SIGNATURE_HEADERS = {
    "a timestamp in superscript digits": {"X-Slack-Request-Timestamp": "\u00b9\u00b2\u00b3",
                                          "X-Slack-Signature": "v0=00"},
    "a signature that is not ASCII": {"X-Slack-Request-Timestamp": "SET",
                                      "X-Slack-Signature": "v0=\u00e9\u00e9"},
    "a timestamp but no signature": {"X-Slack-Request-Timestamp": "SET"},
    "a signature of another secret": {"X-Slack-Request-Timestamp": "SET",
                                      "X-Slack-Signature": "OTHER"},
}


@pytest.mark.parametrize("how", list(SIGNATURE_HEADERS))
def test_odd_signature_headers_get_401(target: Target, how: str) -> None:
    body = _command()(target.fake.response_url("odd"))
    stamp = str(int(time.time()))
    headers = {name: value.replace("SET", stamp) for name, value in
               SIGNATURE_HEADERS[how].items()}
    if headers.get("X-Slack-Signature") == "OTHER":
        headers["X-Slack-Signature"] = signature("not-the-secret", stamp, body)
    reply = send(target.url, body, FORM, signed=False, headers=headers)
    assert reply.status == 401, reply
    _not_a_crash(reply)


def test_a_declared_length_over_the_drain_limit_is_refused_unread(target: Target) -> None:
    """413 on the headers alone: the body is never sent, nor waited for."""
    parts = urlsplit(target.url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        for name, value in (("Content-Type", FORM), ("Content-Length", str(DRAIN_LIMIT + 1)),
                            ("X-Slack-Request-Timestamp", str(int(time.time()))),
                            ("X-Slack-Signature", "v0=" + "0" * 64)):
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert b"Traceback" not in response.read()
    finally:
        connection.close()
    target.still_answers()


def test_a_100_kb_question_gets_a_polite_answer(target: Target) -> None:
    name = f"long-{time.monotonic_ns()}"
    body = _command("status of " + "IWC JWP " * 12_500)(target.fake.response_url(name))
    assert len(body) > 100_000
    reply = send(target.url, body, FORM)
    assert reply.status == 200
    assert reply.seconds < 3  # acknowledged within Slack's 3 seconds
    [answer] = target.fake.wait_for(f"response:{name}", timeout=30)
    assert answer.params.get("response_type") == "ephemeral"
    assert answer.params["text"]
    assert "Traceback" not in json.dumps(answer.params)


def test_the_health_check_and_other_paths(target: Target) -> None:
    assert send(target.url, b"", None, method="GET", signed=False,
                path="/healthz").status == 200
    assert send(target.url, b"", None, method="GET", signed=False,
                path="/slack/other").status == 404
    assert send(target.url, _command()("x"), FORM, path="/").status == 404


def test_slacks_ssl_check_is_answered_200_unsigned_as_bolt_always_did(target: Target) -> None:
    before = target.events()
    reply = send(target.url, form({"ssl_check": "1", "token": "legacy"}), FORM, signed=False)
    assert (reply.status, reply.body) == (200, "")
    assert target.events() == before
    bigger = form({"ssl_check": "1", "text": "x" * 2000})
    assert send(target.url, bigger, FORM, signed=False).status == 401


# What passes the guard but then fails in a listener ----------------------------------------

def _boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("boom at /secret/place")


def _store_down(*_: Any, **__: Any) -> Any:
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


class TestAListenerThatFails:
    """A bug, Slack refusing a call, or the store going away inside a listener: a polite
    200 (a 503 for an event the store could not take, so that Slack sends it again),
    never a 500 or the error's text."""

    def test_a_form_submission_that_fails_is_replaced_by_a_sorry(
            self, store: Container, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(Bot, "submit", _boom)
        with serving(store, fake) as bot:
            reply = bot.interact(view_submission(MODAL, user=EDITOR))
        _not_a_crash(reply)
        assert reply.status == 200
        assert reply.json()["response_action"] == "update"
        assert "Sorry, something went wrong on my side" in reply.body
        assert "boom" not in reply.body

    def test_item_options_when_the_store_is_down_are_an_empty_list(
            self, store: Container, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(Bot, "options", _store_down)
        with serving(store, fake) as bot:
            reply = bot.interact({"type": "block_suggestion", "user": {"id": EDITOR},
                                  "team": {"id": TEAM}, "action_id": "item",
                                  "block_id": "item", "value": "iwc", "view": MODAL})
        assert (reply.status, reply.json()) == (200, {"options": []})

    def test_an_event_the_store_cannot_take_gets_503_so_that_slack_sends_it_again(
            self, store: Container, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(Bot, "first_delivery", _store_down)
        with serving(store, fake) as bot:
            reply = bot.event(mention("status of IWC JWP"))
            bot.drain()
        assert reply.status == 503
        assert fake.posts == []

    def test_a_failure_after_the_acknowledgement_keeps_it(
            self, store: Container, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(Bot, "grown_form", _boom)  # the form is grown after ack()
        action = {"type": "static_select", "action_id": "item", "block_id": "item",
                  "selected_option": {"value": "iwc-jwp"}}
        with serving(store, fake) as bot:
            reply = bot.interact(block_action(action, user=EDITOR, response_url="",
                                              view=MODAL))
            bot.drain()
        assert (reply.status, reply.body) == (200, "")
        assert fake.of("views.update") == []

"""No secret is ever written out: a full run at DEBUG, every byte of its output searched.

Known, distinctive values stand for the bot token, the app token, the signing secret and
the database password (the test PostgreSQL server trusts local connections, so the
password is ignored, but it is in CMSBOT_DATABASE_URL). The command line imports, asks,
catches up and previews a digest; `cmsbot serve` answers questions, opens the record form
and records, refuses a bad signature, meets Slack answering `invalid_auth` and a store that
does not answer; `cmsbot socket` is refused its connection. Every process's stdout and
stderr (where the logging goes) and the in-process log records are searched."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import make_url

from cmsbot import redaction
from cmsbot.bootstrap import Container
from cmsbot.settings import Database, Settings

from .fakes import Call, FakeSlack, signature
from .forms import endorsed_by_iwc66, fill
from .harness import (
    CHANNEL,
    CMSBOT,
    EDITOR,
    READER,
    block_action,
    command_form,
    event_envelope,
    free_port,
    http,
    mention,
    serving,
    view_submission,
)

BOT_TOKEN = "xoxb-4242-1717-cmsbotTESTsecretBOT"
APP_TOKEN = "xapp-1-A0CMS-9999-cmsbotTESTsecretAPP"
SIGNING_SECRET = "cmsbotTESTsigning0123456789abcd"
PASSWORD = "s3cr3t-pw-cmsbot"
# A password that must be quoted in a URL; its pieces must not show either.
ODD_PASSWORD = "s3cr3t@pw/cmsbot:x"
PIECES = ("s3cr3t", "cmsbotTESTsecret", "cmsbotTESTsigning", "pw/cmsbot", "pw%2Fcmsbot")


def leaks(text: str) -> list[str]:
    secrets = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, PASSWORD, ODD_PASSWORD,
               quote(ODD_PASSWORD, safe=""), *PIECES)
    return [s for s in secrets if s in text]


@dataclass
class RefusingSlack(FakeSlack):
    """The fake, answering `invalid_auth` to the methods in `refuse`."""

    refuse: set[str] = field(default_factory=set)

    def reply(self, call: Call) -> dict[str, Any]:
        if call.method in self.refuse:
            return {"ok": False, "error": "invalid_auth"}
        return super().reply(call)


@pytest.fixture
def slack() -> Iterator[RefusingSlack]:
    fake = RefusingSlack()
    fake.start()
    yield fake
    fake.stop()


def with_password(url: str, password: str) -> str:
    """The server's URL with `password` in it (quoted), unless it has one already."""
    parts = urlsplit(url)
    if parts.password:
        return url
    netloc = f"{parts.username or 'postgres'}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class Run:
    """The environment of the run, and everything its processes wrote."""

    def __init__(self, database_url: str, slack: FakeSlack, out: Path) -> None:
        self.env = {**os.environ, "CMSBOT_DATABASE_URL": database_url,
                    "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
                    "CMSBOT_EDITORS": EDITOR}
        self.out = out
        self.out.mkdir(exist_ok=True)
        self.outputs: list[Path] = []

    def cli(self, *args: str, expect: int = 0, **env: str) -> str:
        result = subprocess.run([CMSBOT, "-vv", *args], env={**self.env, **env},
                                capture_output=True, text=True, timeout=120, check=False)
        written = f"$ cmsbot {' '.join(args)}\n{result.stdout}\n{result.stderr}"
        self.keep(written)
        assert result.returncode == expect, written
        return written

    def keep(self, text: str) -> None:
        path = self.out / f"{len(self.outputs):02d}.txt"
        path.write_text(text)
        self.outputs.append(path)

    def everything(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.outputs)

    def serve(self, **env: str) -> Served:
        path = self.out / f"{len(self.outputs):02d}-serve.txt"
        self.outputs.append(path)
        return Served(path, {**self.env, **env})


class Served:
    """`cmsbot -vv serve` in its own process, its output going to `log`. One worker: the
    run refuses auth.test once the answer process has asked it, to see what Slack's
    refusals log; another worker's answer process would ask it first, and be refused
    before it posts what the run waits for."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.log, self.port = log, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [CMSBOT, "-vv", "serve", "--port", str(self.port), "--workers", "1"],
                env=env, stdout=output, stderr=subprocess.STDOUT)

    def __enter__(self) -> Served:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http("GET", self.url + "healthz").status in (200, 503):
                    return self
            except ConnectionError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "cmsbot serve did not come up"
            time.sleep(0.1)

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def post(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET) -> int:
        stamp = str(int(time.time()))
        return http("POST", self.url + "slack/events", body, {
            "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret, stamp, body.encode())}).status

    def command(self, text: str, response_url: str, **options: Any) -> int:
        return self.post(urlencode(command_form(text, user=EDITOR, response_url=response_url)),
                         "application/x-www-form-urlencoded", **options)

    def interact(self, payload: dict[str, Any]) -> int:
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], event_id: str) -> int:
        return self.post(json.dumps(event_envelope(event, event_id)), "application/json")


def record_endorsement(served: Served, slack: FakeSlack) -> None:
    """/cms record, the item and the event chosen, the form submitted."""
    assert served.command("record", slack.response_url("record")) == 200
    view = slack.wait_for("views.open", timeout=15)[0].params["view"]
    filled: dict[str, Any] = {}
    for count, (block, value) in enumerate((("item", "iwc-jwp"), ("what", "endorsed")), 1):
        filled[block] = value
        action = {"type": "static_select", "action_id": block, "block_id": block,
                  "selected_option": {"value": value}}
        assert served.interact(block_action(action, user=EDITOR, response_url="",
                                            view=fill(view, filled))) == 200
        view = slack.wait_for("views.update", count, timeout=15)[-1].params["view"]
    assert served.interact(view_submission(endorsed_by_iwc66(view), user=EDITOR)) == 200
    confirmation = slack.wait_for("chat.postMessage", timeout=15)[0]
    assert "Recorded on IWC–CMS Joint Work Plan" in confirmation.params["text"]


@pytest.mark.postgres
def test_a_full_run_writes_no_secret(postgres_url: str, slack: RefusingSlack,
                                     tmp_path: Path) -> None:
    run = Run(with_password(postgres_url, PASSWORD), slack, tmp_path / "out")

    # The command line, as an operator runs it.
    assert "***" in run.cli("db", "init")
    run.cli("import", "--seed")
    assert "in negotiation" in run.cli("ask", "status of IWC JWP")
    run.cli("projector", "--once")
    run.cli("digest", "preview", "--channel", CHANNEL, "--as-at", "2015-09-01")

    # The bot, answering, recording, refusing, and meeting Slack's refusal.
    with run.serve() as served:
        assert http("GET", served.url + "healthz").status == 200
        assert served.command("status of IWC JWP", slack.response_url("answer")) == 200
        assert slack.wait_for("response:answer", timeout=15)[0].params["text"]
        record_endorsement(served, slack)
        assert served.event(mention("status of IWC JWP", user=READER), "EvOK") == 200
        slack.wait_for("chat.postMessage", 2, timeout=15)
        assert served.command("status of IWC JWP", slack.response_url("forged"),
                              secret="not-the-secret") == 401
        slack.refuse.update({"chat.postMessage", "views.open", "auth.test"})
        assert served.event(mention("history of IWC JWP", ts="1700000009.000100"),
                            "EvREFUSED") == 200
        slack.wait_for("chat.postMessage", 3, timeout=15)
        assert served.command("record", slack.response_url("refused")) == 200
        slack.wait_for("views.open", 2, timeout=15)
        time.sleep(0.5)  # the failures are logged after Slack's answer arrives
    used = {c.token for c in slack.calls if not c.method.startswith("response:")}
    assert used == {BOT_TOKEN}  # the secret was in use, so its absence below means something

    # Socket Mode: the app token is sent, and refused.
    slack.refuse.add("apps.connections.open")
    run.cli("socket", expect=1)
    assert slack.of("apps.connections.open")[-1].token == APP_TOKEN

    # The store does not answer: the command line and the bot say so, without the password.
    dead = with_password(f"postgresql://postgres@127.0.0.1:{free_port()}/test", PASSWORD)
    assert "***" in run.cli("ask", "status of IWC JWP", expect=1, CMSBOT_DATABASE_URL=dead)
    run.cli("db", "init", expect=1, CMSBOT_DATABASE_URL=dead)
    slack.refuse.clear()
    with run.serve(CMSBOT_DATABASE_URL=dead) as served:
        assert http("GET", served.url + "healthz").status == 503
        assert served.command("status of IWC JWP", slack.response_url("down")) == 200
        assert "can't reach" in slack.wait_for("response:down", timeout=30)[0].params["text"]

    # A password that has to be quoted in the URL works, and does not show either.
    odd = with_password(postgres_url, ODD_PASSWORD)
    if urlsplit(postgres_url).password is None:
        assert "IWC–CMS Joint Work Plan: endorsed" in run.cli(
            "ask", "status of IWC JWP", CMSBOT_DATABASE_URL=odd)
    run.cli("ask", "status", expect=1, CMSBOT_DATABASE_URL=with_password(
        f"postgresql://postgres@127.0.0.1:{free_port()}/test", ODD_PASSWORD))

    everything = run.everything()
    assert "DEBUG" in everything and "Sending a request" in everything  # it was DEBUG
    assert "invalid_auth" in everything
    assert leaks(everything) == [], [(p.name, leaks(p.read_text())) for p in run.outputs]


@pytest.fixture
def no_net() -> Iterator[None]:
    """Without the redaction net (a test running `cli.main` here may have installed it)."""
    redaction.uninstall()
    yield
    redaction.uninstall()


@pytest.mark.usefixtures("no_net")
def test_the_bot_in_process_logs_no_secret(store: Container, slack: RefusingSlack,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """The same, for the log records of the Bolt app in this process, without the net
    that the command line installs: the app itself writes no secret."""
    caplog.set_level("DEBUG")
    with serving(store, slack, slack_bot_token=BOT_TOKEN) as bot:
        assert bot.command("status of IWC JWP").status == 200
        assert bot.event(mention("status of IWC JWP")).status == 200
        slack.wait_for("chat.postMessage")
        slack.refuse.add("chat.postMessage")
        assert bot.event(mention("history of IWC JWP", ts="1700000009.000100"),
                         event_id="Ev2").status == 200
        slack.wait_for("chat.postMessage", 2)
        bot.drain()
    assert slack.of("chat.postMessage")[0].token == BOT_TOKEN
    text = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    assert "invalid_auth" in text
    assert leaks(text) == []


def test_settings_show_no_secret_and_a_quoted_password_reaches_the_driver_whole() -> None:
    url = with_password("postgresql://postgres@127.0.0.1:5432/test?schema=s", ODD_PASSWORD)
    settings = Settings(database=Database(url), slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN)
    assert leaks(repr(settings)) == []
    assert settings.database.redacted == "postgresql://postgres:***@127.0.0.1:5432/test?schema=s"
    engine_url = make_url(settings.database.sqlalchemy_url())
    assert (engine_url.password, engine_url.host, engine_url.port, engine_url.database) == (
        ODD_PASSWORD, "127.0.0.1", 5432, "test")
    assert leaks(repr(engine_url)) == []


@pytest.mark.usefixtures("no_net")
def test_the_net_hides_a_secret_that_reaches_a_log_line_or_a_traceback() -> None:
    url = with_password("postgresql://postgres@127.0.0.1:5432/test", ODD_PASSWORD)
    settings = Settings(database=Database(url), slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN)
    written, uncaught = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(written)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    redaction.install(settings)
    try:
        logger.debug("token %s, secret %s, url %s", BOT_TOKEN, SIGNING_SECRET, url)
        logger.info("someone else's: xoxp-1234-5678-abcdef, postgresql://u:hunter22@h/db")
        logger.info({"password": ODD_PASSWORD})
        try:
            raise RuntimeError(f"refused {APP_TOKEN}")
        except RuntimeError:
            logger.exception("it failed with %d", 42)
        with redirect_stderr(uncaught):
            sys.excepthook(RuntimeError, RuntimeError(f"at {url}"), None)
    finally:
        redaction.uninstall()
        logger.removeHandler(handler)
    text = written.getvalue() + uncaught.getvalue()
    assert leaks(text) == [], text
    assert "hunter22" not in text and "xoxp-1234" not in text
    assert "it failed with 42" in text and "RuntimeError: refused ***" in text
    assert "postgresql://postgres:***@127.0.0.1:5432/test" in text

"""The commands as a new user runs them: `cmsbot serve` behind gunicorn, /healthz, and
`cmsbot chat` answering the same questions with no Slack."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from cmsbot import cli
from cmsbot.bootstrap import Container
from cmsbot.settings import Database, Settings
from cmsbot.slack import server
from cmsbot.slack.app import LazyContainer, health

from .fakes import FakeSlack, sign
from .harness import CMSBOT, EDITOR, SECRET, cmsbot_serve, command_form, free_port, http


@pytest.fixture
def served(store: Container, fake: FakeSlack, tmp_path: Path) -> Iterator[str]:
    """`cmsbot serve` in its own process, on a free port, until it says it is healthy."""
    with cmsbot_serve(store.settings.database.url, fake, tmp_path / "serve.log",
                      timeout=20) as url:
        yield url


def test_serve_answers_a_signed_slash_command_and_rejects_a_bad_one(
        served: str, fake: FakeSlack, tmp_path: Path) -> None:
    assert http("GET", served + "healthz").json()["store"] == "answers"
    # No gunicorn control socket, whose one path per user every serve would share.
    assert "Control socket listening" not in (tmp_path / "serve.log").read_text()
    body = urlencode(command_form("status of IWC JWP", user=EDITOR,
                                  response_url=fake.response_url("served")))
    stamp = int(time.time())
    for signature, expected in ((sign(SECRET, stamp, body), 200),
                                (sign("wrong", stamp, body), 401)):
        reply = http("POST", served + "slack/events", body, {
            "X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == expected
    [answer] = fake.wait_for("response:served", timeout=10)
    assert answer.params["text"].startswith("IWC–CMS Joint Work Plan: in negotiation")
    assert "UNEP/CMS/StC44/18 ¶10" in json.dumps(answer.params["blocks"], ensure_ascii=False)


def test_serve_runs_a_worker_for_each_cpu_unless_told(served: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    told = os.environ.get("WEB_CONCURRENCY")
    expected = int(told) if told else len(os.sched_getaffinity(0))
    log = tmp_path / "serve.log"
    deadline = time.monotonic() + 20
    while log.read_text().count("Booting worker") < expected:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    time.sleep(0.5)  # none more
    assert log.read_text().count("Booting worker") == expected
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert server.default_workers() is None  # gunicorn reads it
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert server.default_workers() == len(os.sched_getaffinity(0))


def test_healthz_says_when_the_store_does_not_answer() -> None:
    down = Settings(database=Database(f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    ok, detail = health(LazyContainer(down))
    assert not ok
    assert detail["store"] == "does not answer"


def test_serve_refuses_to_start_without_the_signing_secret(store: Container) -> None:
    env = {**os.environ, "CMSBOT_DATABASE_URL": store.settings.database.url,
           "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_SIGNING_SECRET": ""}
    result = subprocess.run([CMSBOT, "serve"], env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 2  # a setting is missing, as argparse exits for bad words
    assert "SLACK_SIGNING_SECRET" in result.stderr


class TestChat:
    def test_answers_the_same_questions_as_slack(self, store: Container,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("CMSBOT_DATABASE_URL", store.settings.database.url)
        assert cli.main(["chat", "status", "of", "IWC", "JWP"]) == 0
        assert cli.main(["chat", "--as-at", "2015-09-01", "@cmsbot",
                         "where are we with the CITES JWP?"]) == 0
        out = capsys.readouterr().out
        assert "== IWC–CMS Joint Work Plan ==" in out
        assert "Status: in negotiation" in out
        assert "== CITES–CMS Joint Work Plan 2015–2020 ==" in out
        assert "Sources: UNEP/CMS/StC44/18 ¶8 · as at 1 September 2015" in out

    def test_a_conversation_clicks_a_button_by_its_number(self, store: Container) -> None:
        env = {**os.environ, "CMSBOT_DATABASE_URL": store.settings.database.url}
        result = subprocess.run([CMSBOT, "chat"], input="JWP\n2\n", env=env,
                                capture_output=True, text=True, timeout=30, check=True)
        assert "[2] IWC–CMS Joint Work Plan" in result.stdout
        assert "== IWC–CMS Joint Work Plan ==" in result.stdout

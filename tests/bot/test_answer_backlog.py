"""Under overload, `cmsbot serve` does not queue answers without bound: past a backlog, a
question is told at once, through its response_url, to come back in a minute."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from cmsbot.settings import Settings
from cmsbot.slack import answering
from cmsbot.slack.answering import ProcessLazyListenerRunner

from .fakes import FakeSlack
from .harness import EDITOR, command_form


class Backlog:
    """The answer process's queue, holding `waiting` answers already."""

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        self.put_jobs: list[Any] = []

    def qsize(self) -> int:
        return self.waiting

    def put(self, job: Any) -> None:
        self.put_jobs.append(job)


def ask(runner: ProcessLazyListenerRunner, response_url: str) -> None:
    body = urlencode(command_form("status of IWC JWP", user=EDITOR,
                                  response_url=response_url))
    runner.start(lambda: None, BoltRequest(body=body, headers={
        "content-type": ["application/x-www-form-urlencoded"]}))


def runner_with(waiting: int) -> tuple[ProcessLazyListenerRunner, Backlog]:
    """A runner whose answer process has `waiting` answers queued already."""
    runner = ProcessLazyListenerRunner(Settings())
    runner._jobs = backlog = Backlog(waiting)  # type: ignore[assignment]
    return runner, backlog


@pytest.mark.parametrize("waiting", [0, answering.MAX_WAITING - 1])
def test_a_question_within_the_backlog_is_queued(fake: FakeSlack, waiting: int) -> None:
    runner, backlog = runner_with(waiting)
    ask(runner, fake.response_url("queued"))
    assert len(backlog.put_jobs) == 1
    assert fake.of("response:queued") == []


def test_a_question_past_the_backlog_is_told_to_come_back(fake: FakeSlack) -> None:
    runner, backlog = runner_with(answering.MAX_WAITING)
    ask(runner, fake.response_url("busy"))
    assert backlog.put_jobs == []
    [told] = fake.wait_for("response:busy")
    assert "ask again in a minute" in told.params["text"]
    assert told.params["response_type"] == "ephemeral"


class HeldResponseUrl:
    """A response_url that takes each post and holds its reply until released."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()
        self.posts = 0
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                held.posts += 1
                held.arrived.set()
                held.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/held"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def held() -> Iterator[HeldResponseUrl]:
    url = HeldResponseUrl()
    yield url
    url.close()


def test_telling_an_asker_to_come_back_does_not_hold_the_acknowledgement(
        held: HeldResponseUrl, caplog: pytest.LogCaptureFixture) -> None:
    """Bolt starts the listener on the thread that then acknowledges: the notice is sent
    from another, so that a slow Slack does not delay the acknowledgement. Here the
    response_url holds its reply until the runner has returned; told on the
    acknowledging thread, the notice would time out first (3 s) and be logged as lost."""
    runner, _ = runner_with(answering.MAX_WAITING)
    with caplog.at_level(logging.WARNING, logger=answering.__name__):
        ask(runner, held.url)
        held.release.set()  # only now may the notice's post be answered
        assert held.arrived.wait(10)
        runner._notices.shutdown(wait=True)
    assert [r.getMessage() for r in caplog.records
            if "could not tell" in r.getMessage()] == []


def test_notices_that_cannot_be_posted_do_not_pile_up(
        held: HeldResponseUrl, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """While Slack does not answer, notices past `MAX_NOTICES` are dropped and logged, not
    kept."""
    monkeypatch.setattr(answering, "MAX_NOTICES", 1)
    runner, _ = runner_with(answering.MAX_WAITING)
    with caplog.at_level(logging.WARNING, logger=answering.__name__):
        for _ in range(3):
            ask(runner, held.url)
        held.release.set()
        runner._notices.shutdown(wait=True)
    assert held.posts == 1
    assert sum("nor its asker told" in r.getMessage() for r in caplog.records) == 2

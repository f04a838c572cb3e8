"""Under overload, `cmsbot serve` does not queue answers without bound: past a backlog, a
question is told at once, through its response_url, to come back in a minute."""

from __future__ import annotations

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


def ask(runner: ProcessLazyListenerRunner, fake: FakeSlack, name: str) -> None:
    body = urlencode(command_form("status of IWC JWP", user=EDITOR,
                                  response_url=fake.response_url(name)))
    runner.start(lambda: None, BoltRequest(body=body, headers={
        "content-type": ["application/x-www-form-urlencoded"]}))


@pytest.mark.parametrize("waiting", [0, answering.MAX_WAITING - 1])
def test_a_question_within_the_backlog_is_queued(fake: FakeSlack, waiting: int) -> None:
    runner = ProcessLazyListenerRunner(Settings())
    runner._jobs = backlog = Backlog(waiting)  # type: ignore[assignment]
    ask(runner, fake, "queued")
    assert len(backlog.put_jobs) == 1
    assert fake.of("response:queued") == []


def test_a_question_past_the_backlog_is_told_to_come_back(fake: FakeSlack) -> None:
    runner = ProcessLazyListenerRunner(Settings())
    runner._jobs = backlog = Backlog(answering.MAX_WAITING)  # type: ignore[assignment]
    ask(runner, fake, "busy")
    assert backlog.put_jobs == []
    [told] = fake.wait_for("response:busy")
    assert "ask again in a minute" in told.params["text"]
    assert told.params["response_type"] == "ephemeral"

"""`cmsbot serve` told to stop (SIGTERM to gunicorn's arbiter, as a platform stops it)
while editors' record forms are in flight, Slack's API takes 2 seconds to answer each
confirmation, and idle clients hold connections open.

Every submission it accepted either gets its real answer (the form closes; the record is
stored once and its "Recorded on …" DM sent) or an honest refusal (an error status: not
stored, and the editor submits it again); none is stored without its confirmation. The
bot stops by itself, before gunicorn's graceful timeout would have it killed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest

from tests.bot.fakes import Call, FakeSlack
from tests.bot.harness import Reply

from .support import (
    Served,
    assert_whole,
    idle_clients,
    progress_form,
    seeded,
    serving,
    told_recorded,
)

pytestmark = pytest.mark.postgres

SUBMISSIONS = 20
SLACK_TAKES = 2.0  # seconds for Slack's API to answer a chat.postMessage


class SlowSlack(FakeSlack):
    """Slack's Web API, slow to answer a message posted (the call itself arrives at once)."""

    def reply(self, call: Call) -> dict[str, Any]:
        if call.method == "chat.postMessage":
            time.sleep(SLACK_TAKES)
        return super().reply(call)


def send(bot: Served, view: dict[str, Any]) -> Reply | None:
    """The form's submission; None when the server refused the connection, or closed it
    without an answer."""
    try:
        return bot.submit(view)
    except (OSError, HTTPException):
        return None


def test_a_stopped_bot_answers_or_refuses_every_form_in_flight_and_confirms_each_record(
        postgres_url: str, tmp_path: Path) -> None:
    keys = seeded(postgres_url, 8)
    forms = {f"stopped {n}": progress_form(keys[n % len(keys)], f"stopped {n}",
                                           view_id=f"VS{n}") for n in range(SUBMISSIONS)}
    fake = SlowSlack().start()
    try:
        with serving(postgres_url, fake, tmp_path / "serve.log") as bot, \
                ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
            bot.wait_healthy()
            with idle_clients(bot.port, 3):
                sent = {summary: pool.submit(send, bot, view)
                        for summary, view in forms.items()}
                fake.wait_for("chat.postMessage", timeout=30)  # records are being made
                status = bot.stop()
                replies = {summary: future.result(timeout=30)
                           for summary, future in sent.items()}
            log = bot.output()
        assert status == 0, log
        assert "Traceback" not in log and "SIGKILL" not in log, log

        counts = assert_whole(postgres_url)
        confirmed = told_recorded(fake)
        closed = {s for s, r in replies.items() if r is not None and (r.status, r.body) == (
            200, "")}
        for summary, reply in replies.items():
            if summary in closed:  # the editor takes it as recorded: it is, and confirmed
                assert counts[summary] == 1, (summary, reply, log)
                assert confirmed.count(summary) == 1, (summary, confirmed)
            else:  # refused: not recorded, and said so
                assert reply is None or reply.status >= 400, (summary, reply)
                assert counts[summary] == 0, (summary, reply, log)
                assert summary not in confirmed, (summary, reply)
        assert closed, "the stop came before any form was answered"

        # Started again, every refused form submitted again is recorded, each once.
        with serving(postgres_url, fake, tmp_path / "serve-again.log") as bot:
            bot.wait_healthy()
            for summary in sorted(set(forms) - closed):
                reply = bot.submit(forms[summary])
                assert (reply.status, reply.body) == (200, ""), (summary, reply)
        counts = assert_whole(postgres_url)
        assert all(counts[s] == 1 for s in forms), counts
    finally:
        fake.stop()

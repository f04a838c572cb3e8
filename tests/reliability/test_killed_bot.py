"""`cmsbot serve` SIGKILLed while editors' records are in flight (issue #7).

Many signed submissions of the "Record update" form (the bot's one write path: `/cms
record` and the message shortcut only open the form) are sent at once; the whole gunicorn
process group is SIGKILLed at a random moment among them. What the fake Slack and the
HTTP answers told each editor is then held against the store."""

from __future__ import annotations

import http.client
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from domain.state import Kind
from tests.bot.fakes import FakeSlack
from tests.bot.harness import Reply
from tests.conftest import make_container

from .support import (
    IWC_ANSWER,
    Served,
    ask,
    assert_whole,
    progress_form,
    serving,
    told_recorded,
)

pytestmark = pytest.mark.postgres

SUBMISSIONS = 48


def send(bot: Served, view: dict[str, object]) -> Reply | None:
    """The form's submission; None when the connection died with the bot."""
    try:
        return bot.submit(view)
    except (OSError, http.client.HTTPException):
        return None


def test_a_bot_killed_mid_record_never_confirms_what_it_did_not_keep(
        postgres_url: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("CMSBOT_FAULT_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    history = read_history_file(SEED)
    keys = [entry.key for entry in history.items if entry.kind is Kind.ENGAGEMENT][:8]
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, history)
        container.catch_up()
    finally:
        container.close()
    fake = FakeSlack().start()
    try:
        forms = {f"killed {n}": progress_form(keys[n % len(keys)], f"killed {n}",
                                              view_id=f"VK{n}")
                 for n in range(SUBMISSIONS)}
        confirmations_before_kill = rng.randint(2, 12)
        with serving(postgres_url, fake, tmp_path / "serve.log") as bot, \
                ThreadPoolExecutor(max_workers=12) as pool:
            bot.wait_healthy()
            sent = {summary: pool.submit(send, bot, view) for summary, view in forms.items()}
            fake.wait_for("chat.postMessage", confirmations_before_kill, timeout=30)
            bot.kill()
            replies = {summary: future.result(timeout=30) for summary, future in sent.items()}
            log = bot.output()
        context = f"seed {seed}, killed after {confirmations_before_kill} confirmations"
        acked = {s for s, r in replies.items() if r is not None and r.status == 200
                 and r.body == ""}  # the form closed: the editor takes it as recorded
        confirmed = set(told_recorded(fake))
        unanswered = {s for s, r in replies.items() if r is None}
        assert unanswered, f"the kill came after every record: {context}"
        assert len(confirmed) >= confirmations_before_kill, context
        assert "Traceback" not in log, log

        # What the store holds: each told-recorded record once, nothing twice, all whole.
        counts = assert_whole(postgres_url)
        for summary in acked | confirmed:
            assert counts[summary] == 1, (summary, counts[summary], context)
        assert all(counts[s] <= 1 for s in forms), context

        # Restarted, it answers; each editor whose form gave an error submits it again.
        with serving(postgres_url, fake, tmp_path / "serve-again.log") as bot:
            bot.wait_healthy()
            assert ask(bot, "status of IWC JWP", "after-kill").startswith(IWC_ANSWER)
            for summary in sorted(set(forms) - acked):
                reply = bot.submit(forms[summary])
                assert reply.status == 200 and reply.body == "", (summary, reply, context)
            log = bot.output()
        assert "Traceback" not in log, log
        counts = assert_whole(postgres_url)
        assert all(counts[s] == 1 for s in forms), (counts, context)
    finally:
        fake.stop()

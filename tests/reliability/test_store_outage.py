"""PostgreSQL stopped and started again under a running `cmsbot serve` (issue #7).

The database is a private cluster of this test's own (the shared server is used by other
tests at the same time, so it is never stopped): its postmaster and backends are SIGKILLed,
as in a crash, while `cmsbot serve` runs in its own process with a fake Slack."""

from __future__ import annotations

from pathlib import Path

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from cmsbot.slack.bot import STORE_DOWN, STORE_DOWN_RECORDING
from domain.items import item_id
from tests.bot.fakes import FakeSlack
from tests.conftest import make_container

from .support import (
    ACK_WITHIN,
    IWC_ANSWER,
    ask,
    private_postgres,
    progress_form,
    serving,
    told_recorded,
    wait_until,
)


def test_a_database_outage_is_said_politely_and_serve_recovers_without_a_restart(
        tmp_path: Path) -> None:
    fake = FakeSlack().start()
    with private_postgres() as pg:
        container = make_container(pg.url)
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        container.catch_up()
        container.close()
        try:
            with serving(pg.url, fake, tmp_path / "serve.log") as bot:
                bot.wait_healthy()
                pid = bot.process.pid
                # Up: pooled connections exist, and will be dead after the crash.
                assert ask(bot, "status of IWC JWP", "up").startswith(IWC_ANSWER)
                assert bot.submit(progress_form("sdgs", "before the outage",
                                                view_id="V0")).body == ""

                pg.kill()
                assert ask(bot, "status of IWC JWP", "down") == STORE_DOWN
                assert ask(bot, "record", "record-down") == STORE_DOWN_RECORDING
                assert fake.of("views.open") == []
                for view_id, summary in (("V1", "during the outage"),
                                         ("V2", "given up during the outage")):
                    refused = bot.submit(progress_form("sdgs", summary, view_id=view_id))
                    assert refused.status == 200 and refused.seconds < ACK_WITHIN, refused
                    assert refused.json() == {"response_action": "errors", "errors": {
                        "what": f"Not recorded. {STORE_DOWN_RECORDING}"}}
                health = bot.health()
                assert health is not None and health.status == 503, health
                assert health.json()["store"] == "does not answer"
                assert health.seconds < ACK_WITHIN

                pg.start()  # crash recovery; `cmsbot serve` is not restarted
                recovered = wait_until(lambda: (h := bot.health()) is not None
                                       and h.status == 200, 15, "/healthz to say 200")
                assert recovered < 5
                assert ask(bot, "status of IWC JWP", "again").startswith(IWC_ANSWER)
                assert bot.command("record", response="record-again").status == 200
                fake.wait_for("views.open", timeout=15)
                # The person tries again with the form that was refused, and goes on.
                for view_id, summary in (("V1", "during the outage"),
                                         ("V3", "after the outage")):
                    reply = bot.submit(progress_form("sdgs", summary, view_id=view_id))
                    assert reply.status == 200 and reply.body == "", reply
                fake.wait_for("chat.postMessage", 3, timeout=15)
                assert bot.process.poll() is None and bot.process.pid == pid
                log = bot.output()
        finally:
            fake.stop()

        assert "Traceback" not in log, log
        confirmed = told_recorded(fake)
        assert sorted(confirmed) == ["after the outage", "before the outage",
                                     "during the outage"]
        store = make_container(pg.url)
        try:
            summaries = [getattr(e, "summary", None)
                         for e in store.tracker.item_events(item_id("sdgs"))]
        finally:
            store.close()
    for summary in confirmed:
        assert summaries.count(summary) == 1, (summary, summaries)
    assert "given up during the outage" not in summaries  # told "not recorded": it is not

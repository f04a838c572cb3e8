"""The command line records as the OS user who ran it: `--actor` adds whom it was on behalf
of and never replaces that user; its source is well formed; old stores still cite sensibly."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import read_history
from domain import events as ev
from domain.dates import PartialDate
from domain.items import item_id
from domain.provenance import Source, acting_for, recorder_of
from tests.conftest import make_container, new_store
from tests.reliability.support import store_unchecked

ROOT = Path(__file__).resolve().parents[2]
USER = pwd.getpwuid(os.getuid()).pw_name


def cmsbot(*args: str, database: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmsbot.cli", *args],
                          env={**os.environ, "CMSBOT_DATABASE_URL": database, **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = new_store(f"sqlite:///{tmp_path}/cli.sqlite")
    assert "Recorded" in cmsbot("import", "--seed", database=url).stdout
    return url


def recorded_here(database: str, *args: str) -> list[dict[str, Any]]:
    """The events `audit log` lists that the seed's import did not record."""
    out = cmsbot("audit", "log", "--json", *args, database=database).stdout
    events = [json.loads(line) for line in out.splitlines()]
    return [e for e in events if not e["actor"].startswith("import:")]


def progress(database: str, *args: str, **env: str) -> None:
    cmsbot("record", "unep-mts", "progress noted", "--occurred", "2016-03",
           "--field", "summary=call with the focal point", *args, database=database, **env)


class TestTheActor:
    def test_is_the_os_user_not_what_the_environment_says(self, database: str) -> None:
        progress(database, USER="mallory", LOGNAME="mallory")
        [event] = recorded_here(database)
        assert event["actor"] == f"cli:{USER}"
        assert event["source"] == {"chat": f"cli:{USER}"}
        assert event["cite"] == f"command line (cli:{USER})"

    def test_another_actor_is_recorded_as_on_behalf_of(self, database: str) -> None:
        progress(database, "--actor", "slack:U024BE7LH")
        [event] = recorded_here(database)
        assert event["actor"] == f"cli:{USER} on behalf of slack:U024BE7LH"
        assert event["cite"] == f"command line (cli:{USER})"
        # Listed under whoever ran the command, not under whom it claimed to be for.
        assert "No events match." in cmsbot("audit", "log", "--actor", "slack:U024BE7LH",
                                            database=database).stdout
        progress(database, "--on-behalf-of", "ingest script")
        mine = recorded_here(database, "--actor", f"cli:{USER}")
        assert [e["actor"] for e in mine] == [f"cli:{USER} on behalf of slack:U024BE7LH",
                                              f"cli:{USER} on behalf of ingest script"]

    def test_acting_for_never_drops_the_recorder(self) -> None:
        assert acting_for("cli:ann", None) == acting_for("cli:ann", " ") == "cli:ann"
        assert acting_for("cli:ann", "cli:ann") == "cli:ann"
        claimed = acting_for("cli:ann", "slack:U1")
        assert claimed == "cli:ann on behalf of slack:U1"
        assert recorder_of(claimed) == recorder_of("cli:ann") == "cli:ann"


class TestSources:
    def test_cite_well_formed(self) -> None:
        assert Source.command_line("ann").cite() == "command line (cli:ann)"
        assert Source(chat="T1/C1/1733.42").cite() == "chat T1/C1/1733.42"
        assert Source("UNEP/CMS/StC44/18", "10").cite() == "UNEP/CMS/StC44/18 ¶10"

    @pytest.mark.parametrize(("chat", "cited"), [
        ("cli:cli:root 2026-12-06T04:50:56Z", "command line (cli:root, 2026-12-06T04:50:56Z)"),
        ("cli:slack:U024BE7LH 2026-12-06T04:50:56Z",
         "command line (slack:U024BE7LH, 2026-12-06T04:50:56Z)"),
        ("cli:Jane Doe 2026-12-06T04:50:56Z", "command line (Jane Doe, 2026-12-06T04:50:56Z)"),
    ])
    def test_an_older_stores_command_line_source_still_cites_sensibly(
            self, database_url: str, chat: str, cited: str) -> None:
        """As `cmsbot record` wrote them before: "cli:<actor> <time>"."""
        container: Container = make_container(database_url)
        try:
            container.importer.run(LOCAL_OPERATOR, read_history(
                "document: DOC\nas_at: 2016-09-01\nitems:\n  - key: unep-mts\n"
                "    kind: engagement\n    title: UNEP MTS\n", "h.yaml"))
            old: dict[str, Any] = {
                "originator_id": item_id("unep-mts"), "originator_version": 2,
                "timestamp": ev.ItemEvent.create_timestamp(),
                "occurred": PartialDate.parse("2016-03"), "actor": "cli:root",
                "source": Source(chat=chat), "note": None, "ref": None,
                "summary": "call with the focal point"}
            store_unchecked(container, ev.EngagementProgressNoted(**old))
            container.catch_up()
            event = container.tracker.item("unep-mts").history[-1]
            assert event.source.cite() == cited
            answer = container.questions.answer("history of unep-mts").text
            assert cited in answer
        finally:
            container.close()

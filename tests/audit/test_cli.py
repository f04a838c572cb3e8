"""The audit commands as a new user runs them: real processes on real SQLite files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import new_store

ROOT = Path(__file__).resolve().parents[2]


def cmsbot(*args: str, database: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMSBOT_DATABASE_URL": database}
    return subprocess.run([sys.executable, "-m", "cmsbot.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=check)


def test_verify_export_import_replay_and_report(tmp_path: Path) -> None:
    first, second = (new_store(f"sqlite:///{tmp_path}/{name}.sqlite") for name in "ab")
    cmsbot("import", "--seed", database=first)
    verified = cmsbot("audit", "verify", database=first).stdout
    head = re.search(r"Chain head: ([0-9a-f]{64}@\d+)", verified)
    assert head, verified
    export = tmp_path / "log.jsonl"
    cmsbot("audit", "export", "--format", "jsonl", "--output", str(export), database=first)
    assert f"chain head {head.group(1)}, as in the export" in cmsbot(
        "import", str(export), database=second).stdout
    assert f"It still extends {head.group(1)}." in cmsbot(
        "audit", "verify", "--head", head.group(1), database=second).stdout
    assert cmsbot("ask", "--as-at", "2015-09-01", "status of IWC JWP", database=first).stdout \
        == cmsbot("ask", "--as-at", "2015-09-01", "status of IWC JWP", database=second).stdout
    replayed = cmsbot("audit", "replay", "--until", "2015-01-01", "--diff",
                      database=second).stdout
    assert "Changes since 1 January 2015 (business time), item by item" in replayed
    page = tmp_path / "report.html"
    cmsbot("report", "--as-at", "2015-09-01", "--format", "html", "--output", str(page),
           database=second)
    assert "<svg" in page.read_text(encoding="utf-8")


def test_a_tampered_store_exits_non_zero_naming_the_position(tmp_path: Path) -> None:
    import sqlite3

    database = new_store(f"sqlite:///{tmp_path}/a.sqlite")
    cmsbot("import", "--seed", database=database)
    with sqlite3.connect(tmp_path / "a.sqlite") as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 42")
    result = cmsbot("audit", "verify", database=database, check=False)
    assert result.returncode == 1
    assert "position 42: the event chained here is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_log_can_be_piped_into_a_reader_that_stops_early(tmp_path: Path) -> None:
    database = new_store(f"sqlite:///{tmp_path}/a.sqlite")
    cmsbot("import", "--seed", database=database)
    env = {**os.environ, "CMSBOT_DATABASE_URL": database}
    log = subprocess.Popen([sys.executable, "-m", "cmsbot.cli", "audit", "log", "--json"],
                           env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert log.stdout is not None and log.stderr is not None
    first = log.stdout.readline()
    log.stdout.close()  # the reader goes away, as `| head -n 1` does
    errors = log.stderr.read().decode()
    assert log.wait(timeout=120) == 0
    assert first.startswith(b'{"position": 1')
    assert "Traceback" not in errors and "BrokenPipe" not in errors

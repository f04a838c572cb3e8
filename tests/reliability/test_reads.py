"""Reads never write: a question, a digest preview, a report and an export read the views
and the log as they are, change no byte of the store, work on a store that cannot be
written, and say how far the views lag the log instead of catching them up.

Each read runs as `cmsbot …` in a process of its own, as a person runs it. A store that
cannot be written is made so for real: its file and folder made immutable (`chattr +i`)
as root, whom modes do not bind, and made read-only (`chmod a-w`) otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.cli import main
from cmsbot.db import make_engine
from cmsbot.history import SEED, read_history_file
from cmsbot.settings import Database
from domain.provenance import Source
from projections import tables as views
from tests.conftest import make_container

from .support import CMSBOT, IWC_ANSWER, ROOT

LAG = "The views are 2 events behind the log; is the projector running?"
# Each read: its words, and where it says that the views lag.
READS: dict[str, tuple[list[str], str]] = {
    "ask": (["ask", "status of IWC JWP"], "stdout"),
    "ask --json": (["ask", "--json", "status of IWC JWP"], "json"),
    "digest preview": (["digest", "preview", "--channel", "C1", "--as-at", "2015-09-01"],
                       "stdout"),
    "digest preview --json": (["digest", "preview", "--channel", "C1", "--json"], "json"),
    "report": (["report", "--as-at", "2015-09-01"], "stdout"),
    "report --format html": (["report", "--as-at", "2015-09-01", "--format", "html"],
                             "stdout"),
    "report --document": (["report", "--as-at", "2015-09-01", "--document",
                           "UNEP/CMS/StC44/18"], "stdout"),
    "export": (["audit", "export"], "stderr"),
    "export --format csv": (["audit", "export", "--format", "csv"], "stderr"),
}


def record(container: Container, summary: str) -> None:
    """A write whose catch-up did not happen (as when the writer died right after it)."""
    container.recorder.record(LOCAL_OPERATOR, key="sdgs", what="progress noted",
                              fields={"summary": summary}, occurred="2016",
                              source=Source("UNEP/CMS/StC45/18", "3"))


def lagging_store(folder: Path) -> str:
    """A SQLite store of the seed whose views lag its log by two events, closed (so that
    no write-ahead log is left)."""
    url = f"sqlite:///{folder}/cmsbot.sqlite"
    store = make_container(url)
    try:
        store.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        store.catch_up()
        record(store, "Recorded while nothing caught up")
        record(store, "Recorded while nothing caught up, again")
    finally:
        store.close()
    return url


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in the store's folder, by name, with the SHA-256 of its bytes."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.iterdir())}


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """The files and folders cannot be written, by anyone: immutable as root, a-w else."""
    if os.geteuid() == 0:
        flagged = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True,
                                 text=True, timeout=30, check=False)
        if flagged.returncode != 0:
            subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True,
                           timeout=30, check=False)
            pytest.skip(f"chattr +i does not work here: {flagged.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True, timeout=30)
        return
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        path.chmod(modes[path] & ~0o222)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMSBOT_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([CMSBOT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def said_lag(result: subprocess.CompletedProcess[str], where: str) -> bool:
    if where == "json":
        return bool(json.loads(result.stdout)["views_behind"] == 2)
    text = result.stdout if where == "stdout" else result.stderr
    return LAG in text


@pytest.mark.parametrize("writable", [True, False], ids=["writable", "read-only"])
@pytest.mark.parametrize("read", list(READS))
def test_a_read_changes_no_byte_of_the_store_and_says_the_views_lag(
        read: str, writable: bool, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    url = lagging_store(folder)
    before = fingerprint(folder)
    assert list(before) == ["cmsbot.sqlite"]  # a writer that closes leaves no log behind
    args, where = READS[read]
    with nullcontext() if writable else read_only(folder / "cmsbot.sqlite", folder):
        result = run(url, *args)
    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr, result.stderr
    assert said_lag(result, where), result
    assert fingerprint(folder) == before
    if read == "ask":
        assert result.stdout.startswith(IWC_ANSWER)
        assert result.stdout.endswith(f"\n\n{LAG}\n")


def test_views_that_are_current_are_not_said_to_lag(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    url = lagging_store(folder)
    assert run(url, "projector", "--once").returncode == 0  # the projector's work, not a read
    before = fingerprint(folder)
    with read_only(folder / "cmsbot.sqlite", folder):
        results = {read: run(url, *args) for read, (args, _) in READS.items()}
    assert fingerprint(folder) == before
    for read, result in results.items():
        assert result.returncode == 0, result
        assert "behind the log" not in result.stdout + result.stderr, (read, result)
    assert json.loads(results["ask --json"].stdout)["views_behind"] == 0


WRITER = """
import sys
from cmsbot.bootstrap import bootstrap
from cmsbot.app.auth import LOCAL_OPERATOR
from domain.provenance import Source

store = bootstrap()
store.recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="endorsed", fields={
    "body": "CMS Standing Committee", "meeting": "StC44"}, occurred="15 October 2015",
    source=Source("UNEP/CMS/StC45/18", "4"))
print("recorded", flush=True)
sys.stdin.read()  # holds the store open, its write-ahead log not folded in, until told
store.close()
"""


def test_a_store_whose_writer_is_still_running_is_read_with_what_its_log_holds(
        tmp_path: Path) -> None:
    # The writer keeps the store open: what it recorded is in the write-ahead log (-wal,
    # indexed by -shm), not yet in the file. A reader opens the store read-only with its
    # log, so it answers with that write too, and says the views have not applied it.
    folder = tmp_path / "store"
    folder.mkdir()
    url = lagging_store(folder)
    assert run(url, "projector", "--once").returncode == 0
    env = {**os.environ, "CMSBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER], env=env, cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "recorded\n"
        files = sorted(folder.iterdir())
        assert [f.name for f in files] == ["cmsbot.sqlite", "cmsbot.sqlite-shm",
                                          "cmsbot.sqlite-wal"]
        before = fingerprint(folder)
        with read_only(*files, folder):
            logged = run(url, "audit", "log", "--item", "iwc-jwp")
            asked = run(url, "ask", "--json", "status of IWC JWP")
        assert fingerprint(folder) == before
    finally:
        writer.communicate("", timeout=60)
    assert logged.returncode == 0 and asked.returncode == 0, (logged, asked)
    # The log, read with what its write-ahead log holds, has the write; the views, which
    # nobody caught up, have not applied it, and the answer says so.
    assert "AgreementEndorsed" in logged.stdout, logged.stdout
    answer = json.loads(asked.stdout)
    assert answer["views_behind"] == 1
    assert answer["matches"][0]["status"] == "in negotiation"


def test_a_question_on_any_store_writes_nothing_and_says_the_views_lag(
        database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = make_container(database_url)
    try:
        store.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        store.catch_up()
        record(store, "Recorded while nothing caught up")
        record(store, "Recorded while nothing caught up, again")
        chain, position = store.chain.head(), store.projector.position()
        monkeypatch.setenv("CMSBOT_DATABASE_URL", database_url)
        assert main(["ask", "--json", "what changed since 2016"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["views_behind"] == 2
        assert "Recorded while nothing caught up" not in answer["text"]  # not applied yet
        assert (store.chain.head(), store.projector.position()) == (chain, position)
        with store.engine.connect() as conn:
            assert conn.execute(select(views.positions.c.position).where(
                views.positions.c.name == "board")).scalar() == position
        store.catch_up()  # a writer's or the projector's work
        assert main(["ask", "--json", "what changed since 2016"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["views_behind"] == 0
        assert "Recorded while nothing caught up" in answer["text"]
    finally:
        store.close()


def test_views_of_an_older_version_are_not_upgraded_by_a_read_but_said(
        tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    url = lagging_store(folder)
    store = make_container(url)
    try:
        with store.engine.begin() as conn:  # as a store written by an older cmsbot reads
            conn.execute(update(views.schema_info).where(
                views.schema_info.c.name == "views_version").values(value="0"))
    finally:
        store.close()
    before = fingerprint(folder)
    asked = run(url, "ask", "status of IWC JWP")
    assert asked.returncode == 1 and asked.stdout == "", asked
    assert asked.stderr == (f"cmsbot: the views of {url} are of an older version of cmsbot; "
                            "`cmsbot projector --once` brings them up to date\n")
    assert fingerprint(folder) == before
    assert run(url, "projector", "--once").returncode == 0  # a writer upgrades and rebuilds
    asked = run(url, "ask", "status of IWC JWP")
    assert asked.returncode == 0 and asked.stdout.startswith(IWC_ANSWER), asked
    assert "behind the log" not in asked.stdout


@pytest.mark.postgres
def test_views_of_an_older_version_on_postgresql_wait_for_db_init(postgres_url: str) -> None:
    """On PostgreSQL no process makes tables at start, so no process may read or write
    views of another version's shape: each says to run `cmsbot db init`, which makes them
    anew; the projector then rebuilds them from the log."""
    store = make_container(postgres_url)
    try:
        store.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        store.catch_up()
        with store.engine.begin() as conn:  # as a store written by an older cmsbot reads
            conn.execute(update(views.schema_info).where(
                views.schema_info.c.name == "views_version").values(value="0"))
        with store.engine.connect() as conn:
            before = sorted(conn.execute(select(views.positions)).tuples())
    finally:
        store.close()
    said = (f"cmsbot: the views of {postgres_url} are of an older version of cmsbot; run "
            "`cmsbot db init` to make them anew, and the projector rebuilds them from the "
            "log\n")
    for words in (["ask", "status of IWC JWP"], ["projector", "--once"]):
        refused = run(postgres_url, *words)
        assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", said), words
    engine = make_engine(Database(postgres_url))
    try:
        with engine.connect() as conn:  # nothing was written
            assert sorted(conn.execute(select(views.positions)).tuples()) == before
    finally:
        engine.dispose()
    assert run(postgres_url, "db", "init").returncode == 0
    assert run(postgres_url, "projector", "--once").returncode == 0
    asked = run(postgres_url, "ask", "status of IWC JWP")
    assert asked.returncode == 0 and asked.stdout.startswith(IWC_ANSWER), asked
    assert "behind the log" not in asked.stdout

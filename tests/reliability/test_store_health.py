"""A SQLite store that is missing, moved, replaced, read-only or damaged is never reported
healthy, and nothing written to it is confirmed; a store is made by `cmsbot db init` alone
(and, on first use, the default one where its folder exists); a database URL that cannot
be read is one line and exit status 2 (issue #14).

Real SQLite files throughout; a real `cmsbot serve` where the store goes away under it, and
real `cmsbot` processes where a person would see what the command line prints."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import OperationalError

from cmsbot import cli
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.app.recording import Recorded
from cmsbot.bootstrap import Container
from cmsbot.db import make_engine
from cmsbot.eventstore.tracker import Tracker
from cmsbot.settings import Database, Settings
from cmsbot.slack.app import LazyContainer, health
from cmsbot.slack.bot import STORE_DOWN, STORE_DOWN_RECORDING
from cmsbot.storefile import StoreFile, StoreUnhealthyError
from domain.provenance import Source
from tests.bot.fakes import FakeSlack
from tests.conftest import make_container

from .support import (
    ACK_WITHIN,
    CMSBOT,
    IWC_ANSWER,
    ask,
    next_report,
    one_line,
    progress_form,
    run,
    seed,
    serving,
    snapshot,
    told_recorded,
    unwritable,
    unwritable_file,
    wait_until,
)

MISSING = ("cmsbot: the store {url} does not exist: check CMSBOT_DATABASE_URL, or make a "
           "new, empty store there with `cmsbot db init`")


def seeded(folder: Path) -> tuple[str, Path]:
    """A store holding the StC44 report (130 events) in `folder`, closed."""
    path = folder / "cmsbot.sqlite"
    url = f"sqlite:///{path}"
    seed(url)
    return url, path


def record(container: Container, summary: str) -> Recorded:
    return container.recorder.record(
        LOCAL_OPERATOR, key="sdgs", what="progress noted", fields={"summary": summary},
        occurred="2016", source=Source("TEST/1", "1"))


def copy_of(path: Path, to: Path) -> Path:
    """A consistent copy of a store that may be in use (SQLite's backup API)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source, \
            closing(sqlite3.connect(to)) as target:
        source.backup(target)
    return to


def damage(path: Path, pages: int = 3) -> list[int]:
    """Overwrite some leaf pages of the board view with noise, as a bad disk or a stray
    write would: the file opens, the log reads, and SQLite's quick_check finds it."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        leaves = [int(row[0]) for row in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'board' AND pagetype = 'leaf' "
            "ORDER BY pageno")]
    chosen = leaves[1:1 + pages]
    assert len(chosen) == pages, leaves
    with path.open("r+b") as out:
        for page in chosen:
            out.seek((page - 1) * size)
            out.write(bytes(range(256)) * (size // 256))
    return chosen


@contextmanager
def unwritable_folder(folder: Path) -> Iterator[None]:
    with unwritable(folder, mode=0o555, restored=0o755):
        yield


class TestAStoreThatGoesAway:
    def test_under_a_running_server_it_is_unhealthy_takes_nothing_and_is_not_made_again(
            self, tmp_path: Path) -> None:
        folder = tmp_path / "store"
        url, path = seeded(folder)
        fake = FakeSlack().start()
        try:
            with serving(url, fake, tmp_path / "serve.log") as bot:
                bot.wait_healthy()
                assert ask(bot, "status of IWC JWP", "up").startswith(IWC_ANSWER)
                kept = bot.submit(progress_form("sdgs", "before the folder went",
                                                view_id="V1"))
                assert kept.status == 200 and kept.body == "", kept
                fake.wait_for("chat.postMessage", timeout=15)
                backup = copy_of(path, tmp_path / "backup.sqlite")

                shutil.rmtree(folder)
                gone = bot.health()
                assert gone is not None and gone.status == 503, gone
                assert gone.json() == {"ok": False, "store": "missing",
                                       "error": "StoreMissingError"}
                refused = bot.submit(progress_form("sdgs", "after the folder went",
                                                   view_id="V2"))
                assert refused.status == 200 and refused.seconds < ACK_WITHIN, refused
                assert refused.json() == {"response_action": "errors", "errors": {
                    "what": f"Not recorded. {STORE_DOWN_RECORDING}"}}
                assert ask(bot, "status of IWC JWP", "gone") == STORE_DOWN
                assert not folder.exists()
                log = bot.output()

            # Started again on the missing store: unhealthy, and no empty store is made.
            with serving(url, fake, tmp_path / "again.log") as bot:
                wait_until(lambda: bot.health() is not None, 30, "serve to answer /healthz")
                again = bot.health()
                assert again is not None and again.status == 503, again
                assert again.json()["store"] == "missing"
                assert not folder.exists()
                # The store put back: healthy again, without a restart, with what was
                # confirmed and nothing else.
                folder.mkdir()
                shutil.copy(backup, path)
                wait_until(lambda: (h := bot.health()) is not None and h.status == 200, 15,
                           "/healthz to say 200 once the store is back")
                back = bot.health()
                assert back is not None and back.json()["events"] == 131, back
        finally:
            fake.stop()
        assert "Traceback" not in log, log
        assert told_recorded(fake) == ["before the folder went"]

    def test_a_container_whose_folder_is_deleted_refuses_writes(self, tmp_path: Path) -> None:
        folder = tmp_path / "store"
        url, _ = seeded(folder)
        container = make_container(url)
        try:
            record(container, "before")
            shutil.rmtree(folder)
            with pytest.raises(StoreUnhealthyError, match=r"^is missing: its file was "
                               r"deleted or moved after it was opened; nothing was recorded$"):
                record(container, "after")
            assert health(lambda: container) == (False, {
                "ok": False, "store": "missing",
                "problem": "its file was deleted or moved after it was opened"})
        finally:
            container.close()
        assert not folder.exists()

    def test_a_container_whose_file_is_replaced_refuses_writes(self, tmp_path: Path) -> None:
        url, path = seeded(tmp_path / "store")
        container = make_container(url)
        try:
            os.replace(copy_of(path, tmp_path / "copy.sqlite"), path)
            with pytest.raises(StoreUnhealthyError, match=r"^is replaced: "):
                record(container, "into the file that was replaced")
            ok, detail = health(lambda: container)
            assert not ok and detail["store"] == "replaced", detail
        finally:
            container.close()
        events, _, _ = snapshot(url)
        assert len(events) == 130  # the file now at the path took nothing

    def test_a_write_into_a_file_deleted_while_it_is_written_is_not_confirmed(
            self, tmp_path: Path) -> None:
        folder = tmp_path / "store"
        url, path = seeded(folder)

        class DeletedDuringTheWrite(StoreFile):
            def refuse_writes(self) -> None:
                super().refuse_writes()
                shutil.rmtree(folder)  # between the check and the commit

        container = make_container(url)
        try:
            container.tracker.recorder.store_file = DeletedDuringTheWrite(  # type: ignore[attr-defined]
                path)
            with pytest.raises(StoreUnhealthyError, match=r"the write went to the file that "
                               r"was opened, which is no longer the store, so it is not "
                               r"recorded$"):
                record(container, "written into the deleted file")
        finally:
            container.close()


class TestADamagedStore:
    def test_is_unhealthy_and_record_and_import_are_refused_in_one_line(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        url, path = seeded(tmp_path / "store")
        damage(path)
        before = path.read_bytes()
        report, _ = next_report(tmp_path)
        recorded = run(url, "record", "sdgs", "progress noted", "--occurred", "2016",
                       "--field", "summary=Written into a damaged file")
        imported = run(url, "import", str(report))
        for result in (recorded, imported):
            assert result.returncode == 1 and result.stdout == "", result
            assert re.fullmatch(
                rf"cmsbot: the store {re.escape(url)} is damaged: PRAGMA quick_check: "
                r".+; restore it from a backup; nothing was recorded", one_line(result)), result
        assert path.read_bytes() == before  # nothing was written
        lazy = LazyContainer(Settings(database=Database(url)))
        try:
            ok, detail = health(lazy)
        finally:
            lazy.close()
        assert not ok and detail["store"] == "damaged", detail
        assert detail["problem"].startswith("PRAGMA quick_check: "), detail
        monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
        assert cli.main(["ask", "which agreements"]) == 1  # it reads the damaged pages
        assert capsys.readouterr().err.endswith(
            "database disk image is malformed (its file is damaged: restore it from a "
            "backup)\n")

    def test_the_quick_check_runs_at_most_once_per_interval(self, tmp_path: Path) -> None:
        _, path = seeded(tmp_path / "store")
        checked = StoreFile(path)
        assert checked.fault() is None
        damage(path)
        assert checked.fault() is None  # the verdict is kept for CHECK_EVERY seconds
        fault = checked.fault(max_age=0)
        assert fault is not None and fault.state == "damaged"
        assert checked.fault() is not None  # and that verdict is kept in turn


class TestAReadOnlyStore:
    def test_a_file_that_cannot_be_written_is_read_but_not_written_nor_healthy(
            self, tmp_path: Path) -> None:
        url, path = seeded(tmp_path)
        before = snapshot(url)
        lazy = LazyContainer(Settings(database=Database(url)))
        try:
            with unwritable_file(tmp_path, path):
                asked = run(url, "ask", "status of IWC JWP")
                recorded = run(url, "record", "sdgs", "progress noted", "--occurred",
                               "2016", "--field", "summary=Written into a read-only file")
                ok, detail = health(lazy)
        finally:
            lazy.close()
        assert asked.returncode == 0 and asked.stdout.startswith(IWC_ANSWER), asked
        assert recorded.returncode == 1 and recorded.stdout == "", recorded
        assert one_line(recorded) == (f"cmsbot: the store {url} is read-only: its file cannot "
                                      "be written; nothing was recorded")
        assert (ok, detail) == (False, {"ok": False, "store": "read-only",
                                        "problem": "its file cannot be written"})
        assert snapshot(url) == before

    def test_a_folder_that_cannot_be_written_is_unhealthy_and_takes_nothing(
            self, tmp_path: Path) -> None:
        folder = tmp_path / "store"
        url, _ = seeded(folder)
        before = snapshot(url)
        lazy = LazyContainer(Settings(database=Database(url)))
        try:
            assert health(lazy)[0]  # open (with its -wal and -shm files) before the change
            with unwritable_folder(folder):
                ok, detail = health(lazy)
                with pytest.raises(StoreUnhealthyError, match=r"^is read-only: its folder "
                                   r"cannot be written; nothing was recorded$"):
                    record(lazy(), "into a read-only folder")
                recorded = run(url, "record", "sdgs", "progress noted", "--occurred",
                               "2016", "--field", "summary=Written into a read-only folder")
        finally:
            lazy.close()
        assert (ok, detail) == (False, {"ok": False, "store": "read-only",
                                        "problem": "its folder cannot be written"})
        assert recorded.returncode == 1 and recorded.stdout == "", recorded
        assert one_line(recorded).startswith(f"cmsbot: the store {url} "), recorded
        assert "folder cannot be written" in recorded.stderr, recorded
        assert snapshot(url) == before


class TestMakingAStore:
    def test_a_store_that_is_not_there_is_said_and_not_made(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "nonexistent" / "dir" / "x.sqlite"
        url = f"sqlite:///{path}"
        monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
        for args in (["ask", "x"], ["import", "--seed"], ["projector", "--once"],
                     ["record", "sdgs", "progress noted", "--occurred", "2016"]):
            assert cli.main(args) == 1, args
            assert capsys.readouterr().err == MISSING.format(url=url) + "\n"
        assert not (tmp_path / "nonexistent").exists()
        assert cli.main(["db", "init"]) == 0  # asked for: the folder and the store are made
        assert f"Initialised {url}" in capsys.readouterr().out
        assert cli.main(["ask", "x"]) == 0
        assert "I couldn't find “x”" in capsys.readouterr().out

    def test_an_empty_file_is_not_taken_for_a_store(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "empty.sqlite"
        path.touch()
        monkeypatch.setenv("CMSBOT_DATABASE_URL", f"sqlite:///{path}")
        assert cli.main(["import", "--seed"]) == 1
        assert capsys.readouterr().err == (f"cmsbot: sqlite:///{path} has no cmsbot tables; "
                                           "run `cmsbot db init` once\n")
        assert path.stat().st_size == 0

    def test_no_connection_makes_a_file_where_the_store_is_gone(self, tmp_path: Path) -> None:
        # Both the views' engine and the event store's own pool open the file without
        # creating it: a connection made after the file was deleted fails instead.
        database = Database(f"sqlite:///{tmp_path}/gone.sqlite")
        engine = make_engine(database)
        try:
            with pytest.raises(OperationalError, match="unable to open database file"):
                engine.connect().close()
        finally:
            engine.dispose()
        with pytest.raises(PersistenceError, match="unable to open database file"):
            Tracker(env=database.eventsourcing_env(create_table=False)).head()
        assert list(tmp_path.iterdir()) == []

    def test_the_default_store_is_made_on_first_use_only_where_its_folder_is(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("CMSBOT_DATABASE_URL", raising=False)
        assert cli.main(["ask", "x"]) == 1
        assert capsys.readouterr().err == MISSING.format(url="sqlite:///var/cmsbot.sqlite") \
            + "\n"
        assert list(tmp_path.iterdir()) == []
        (tmp_path / "var").mkdir()
        assert cli.main(["ask", "x"]) == 0
        assert "I couldn't find “x”" in capsys.readouterr().out
        assert (tmp_path / "var" / "cmsbot.sqlite").is_file()


BAD_URLS = {
    "a port that is no number": "postgresql://postgres@127.0.0.1:notaport/test",
    "a port out of range": "postgresql://postgres:pw-s3cret@127.0.0.1:99999/test",
    "a broken IPv6 host": "postgresql://postgres:pw-s3cret@[::1/test",
    "a schema that is no plain name": "postgresql://127.0.0.1/test?schema=a%22b",
    "another database": "mysql://root:pw-s3cret@localhost/cms",
    "two slashes": "sqlite://cmsbot.sqlite",
    "no path": "sqlite:///",
    "in memory": "sqlite:///:memory:",
    "options": "sqlite:///cmsbot.sqlite?mode=ro",
    "a folder": "sqlite:///var/",
}


@pytest.mark.parametrize("url", list(BAD_URLS.values()), ids=list(BAD_URLS))
def test_a_database_url_that_cannot_be_read_is_one_line_and_exit_2(
        url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    for args in (["ask", "x"], ["db", "init"], ["serve"]):
        assert cli.main(args) == 2, args
        captured = capsys.readouterr()
        assert captured.out == "", captured
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cmsbot: "), captured.err
        assert "s3cret" not in captured.err
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_a_port_that_is_no_number_is_said_without_a_traceback() -> None:
    result = subprocess.run(
        [CMSBOT, "ask", "x"], env={**os.environ, "CMSBOT_DATABASE_URL":
             "postgresql://postgres@127.0.0.1:notaport/test"},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result
    assert one_line(result) == (
        "cmsbot: CMSBOT_DATABASE_URL cannot be read (Port could not be cast to integer "
        "value as 'notaport'): postgresql://postgres@127.0.0.1:notaport/test")

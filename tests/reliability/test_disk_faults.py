"""The embedded SQLite store on a full disk, on a read-only file system, as a file that
cannot be written, and past the writer's file size limit (issue #7).

Each fault is produced for real, never mocked; which mechanism, and why, is said in
`FAULTS`. The writes are `cmsbot record` and `cmsbot import` in their own processes; what
they print is what a person sees."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from bench.synth import Shape, write_history
from cmsbot import cli
from cmsbot.app.importing import Importer

from .support import next_report, one_line, run, seed, snapshot, unwritable_file

SHM = 32 * 1024  # SQLite's shared-memory index of a WAL store: needed to read at all
FSIZE_LIMIT = SHM + 8 * 1024  # the index fits, and the write-ahead log soon does not


@contextmanager
def tmpfs(path: Path) -> Iterator[Path]:
    """A small file system of the test's own (root only), unmounted afterwards."""
    path.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: a full or read-only file system needs it")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700",
                              "cmsbot-test", str(path)], capture_output=True, text=True,
                             timeout=30, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); a full or "
                    "read-only file system needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30,
                       check=False)


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True,
                   capture_output=True, timeout=30)


@contextmanager
def full_disk(folder: Path, store: Path) -> Iterator[None]:
    # A filler file takes all but 36 KB of the tmpfs: room for the 32 KB index (so that
    # the store can still be read) but not for one 4 KB page of the write-ahead log, so
    # any write gets ENOSPC, which SQLite reports as "database or disk is full".
    filler = folder / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * (shutil.disk_usage(folder).free - SHM - 4096))
    try:
        yield
    finally:
        filler.unlink()


@contextmanager
def read_only_file_system(folder: Path, store: Path) -> Iterator[None]:
    # The tmpfs remounted read-only: EROFS for every write, and for the index files that
    # SQLite must create to open a WAL store at all.
    remount(folder, "ro")
    try:
        yield
    finally:
        remount(folder, "rw")


Fault = Callable[[Path, Path], Any]
# name: (on a tmpfs of its own?, the fault, what the one-line error must say)
FAULTS: dict[str, tuple[bool, Fault, str]] = {
    "full disk": (True, full_disk, r"database or disk is full \(is its disk full\?"),
    "read-only file system": (True, read_only_file_system,
                              r"\(its file system is read-only\)"),
    "unwritable file": (False, unwritable_file,
                        r"is read-only: its file cannot be written; nothing was recorded"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_write_the_disk_refuses_is_said_in_one_line_and_changes_nothing(
        fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    on_tmpfs, make_fault, reason = FAULTS[fault]
    report, _ = next_report(tmp_path)
    with tmpfs(tmp_path / "disk") if on_tmpfs else nullcontext(tmp_path) as folder:
        store = folder / "cmsbot.sqlite"
        url = f"sqlite:///{store}"
        seed(url)
        before = snapshot(url)
        with make_fault(folder, store):
            recorded = run(url, "record", "sdgs", "progress noted", "--occurred", "2016",
                           "--field", "summary=Written while the disk refused")
            imported = run(url, "import", str(report))
            # What the disk refuses to write is still read: a read writes nothing.
            monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
            assert cli.main(["ask", "status of IWC JWP"]) == 0
            assert "IWC–CMS Joint Work Plan: in negotiation" in capsys.readouterr().out
        for result in (recorded, imported):
            assert result.returncode == 1 and result.stdout == "", result
            line = one_line(result)
            assert line.startswith(f"cmsbot: the store {url} "), line
            assert re.search(reason, line), line

        # Nothing changed: the same events, the same views, a chain that verifies.
        assert snapshot(url) == before
        monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
        assert cli.main(["audit", "verify"]) == 0
        # With the disk writable again, the same writes succeed.
        assert cli.main(["record", "sdgs", "progress noted", "--occurred", "2016",
                         "--field", "summary=Written when the disk allowed it"]) == 0
        assert cli.main(["import", str(report)]) == 0
        out = capsys.readouterr().out
        assert "Recorded on Post-2015" in out and "Recorded 18 events" in out, out
        events, _, _ = snapshot(url)
        assert len(events) == len(before[0]) + 19


def test_a_write_past_the_file_size_limit_is_kept_whole_or_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # RLIMIT_FSIZE on the writing process alone (no root needed): once SQLite's
    # write-ahead log would outgrow it, writes fail with EFBIG ("disk I/O error"). Where
    # it strikes depends on how many pages a write takes, so either outcome is allowed,
    # but what the person is told must match what the store holds.
    url = f"sqlite:///{tmp_path}/cmsbot.sqlite"
    report, summaries = next_report(tmp_path)
    seed(url)
    before, _, _ = snapshot(url)
    recorded = run(url, "record", "sdgs", "progress noted", "--occurred", "2016",
                   "--field", "summary=Written past the limit", limit=FSIZE_LIMIT)
    imported = run(url, "import", str(report), limit=FSIZE_LIMIT)
    told: list[str] = []
    for result, said in ((recorded, "Recorded on"), (imported, "Recorded 18 events")):
        if result.returncode == 0:  # recorded, and said so; the views may lag
            assert said in result.stdout, result
            told.append(result.stdout)
            if result.stderr:
                assert one_line(result).startswith(
                    "cmsbot: recorded, but the views are not up to date yet: "), result
        else:
            assert result.returncode == 1 and result.stdout == "", result
            assert "disk I/O error" in one_line(result) or "full" in result.stderr, result
    assert told or recorded.returncode == imported.returncode == 1

    after, _, _ = snapshot(url)  # read afresh: it reads what the kept WAL holds too
    assert after[:len(before)] == before
    wanted = (["Written past the limit"] if recorded.returncode == 0 else []) + (
        summaries if imported.returncode == 0 else [])
    assert sorted(summary for *_, summary in after[len(before):]) == sorted(wanted)
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    assert cli.main(["audit", "verify"]) == 0
    assert cli.main(["projector", "--once"]) == 0  # the views catch up what they lag
    caught_up = snapshot(url)[1]
    assert cli.main(["projections", "rebuild"]) == 0
    capsys.readouterr()
    assert snapshot(url)[1] == caught_up  # whole: the same as rebuilt from the log
    assert cli.main(["record", "sdgs", "progress noted", "--occurred", "2016",
                     "--field", "summary=Written within the limit"]) == 0
    assert "Recorded on" in capsys.readouterr().out


def test_an_import_whose_processes_cannot_hand_over_their_work_says_so_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A file large enough to be imported by several processes, whose temporary directory
    # (TMPDIR) is on a full tmpfs: the processes cannot write the pieces they hand over.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the import runs in one process")
    url = f"sqlite:///{tmp_path}/cmsbot.sqlite"
    seed(url)
    before = snapshot(url)
    history = tmp_path / "large.json"
    assert write_history(Shape(items=400, partners=20, events=24_000,
                               long_item_events=2_000), history) >= Importer.PARALLEL_FROM
    with tmpfs(tmp_path / "tmp") as folder:
        monkeypatch.setenv("TMPDIR", str(folder))
        with full_disk(folder, folder / "unused"):
            imported = run(url, "import", str(history))
        assert list(folder.iterdir()) == []  # no pieces, no directory left behind
    assert imported.returncode == 1 and imported.stdout == "", imported
    line = one_line(imported)
    assert line.startswith("cmsbot: "), line
    assert "No space left on device" in line and "nothing was recorded" in line, line
    assert snapshot(url) == before

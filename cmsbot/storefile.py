"""The SQLite store's file while a process uses it: still the file it opened, writable,
and whole.

A process keeps its SQLite connections open (the views' engine and the event store's own
pool). If the file is deleted, moved or replaced, those connections go on reading and
writing the file they opened, which nobody will see again; and a file whose pages were
overwritten still takes writes to its other pages. `StoreFile` finds both: what is cheap
(the path still names the file that was opened; the file, its write-ahead log, its folder
and its file system can be written) on every call, and SQLite's `PRAGMA quick_check`,
which reads the whole file (about 0.1 s for a 116 MB store of 70,000 events), at most once
every `CHECK_EVERY` seconds in a process, its verdict kept in between.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

# How old a quick_check's verdict may be before a write or /healthz runs it again.
CHECK_EVERY = 60.0

MISSING, REPLACED, READ_ONLY, DAMAGED = "missing", "replaced", "read-only", "damaged"


class StoreUnhealthyError(Exception):
    """The store's file is missing, replaced, read-only or damaged: nothing is written to it."""

    def __init__(self, state: str, detail: str, *, written: bool = False) -> None:
        self.state, self.detail = state, detail
        outcome = ("the write went to the file that was opened, which is no longer the "
                   "store, so it is not recorded" if written else "nothing was recorded")
        super().__init__(f"is {state}: {detail}; {outcome}")


class StoreFile:
    """The file a process opened as its store. Thread-safe: one quick_check runs at a
    time, and its verdict is replaced whole."""

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.abspath(path))
        # The file, its write-ahead log, its shared-memory index and its folder.
        self._names = (str(self.path), f"{self.path}-wal", f"{self.path}-shm",
                       str(self.path.parent))
        self._identity = self._stat()  # FileNotFoundError when there is no file
        self._lock = threading.Lock()
        self._verdict: tuple[float, str | None] | None = None  # (when, what quick_check found)

    def _stat(self) -> tuple[int, int]:
        status = os.stat(self._names[0])
        return status.st_dev, status.st_ino

    def moved(self) -> bool:
        """Whether the path no longer names the file that was opened (deleted, moved or
        replaced): the open connections use a file nobody will see again."""
        try:
            return self._stat() != self._identity
        except FileNotFoundError:
            return True

    def fault(self, *, max_age: float = CHECK_EVERY) -> StoreUnhealthyError | None:
        """What is wrong with the file, if anything: missing, replaced, read-only, or (by a
        quick_check at most `max_age` seconds old) damaged."""
        return self._moved_fault() or self.read_only() or self._damage(max_age)

    def refuse_writes(self) -> None:
        """Before a write: raise what is wrong, so that nothing is written or confirmed."""
        fault = self.fault()
        if fault is not None:
            raise fault

    def confirm_written(self) -> None:
        """After a write: raise if the file went away while it was written, so that a
        write into a file nobody will see again is not confirmed."""
        fault = self._moved_fault(written=True)
        if fault is not None:
            raise fault

    def _moved_fault(self, *, written: bool = False) -> StoreUnhealthyError | None:
        try:  # one system call: every write asks twice
            identity = self._stat()
        except FileNotFoundError:
            return StoreUnhealthyError(MISSING, "its file was deleted or moved after it was "
                                       "opened", written=written)
        if identity != self._identity:
            return StoreUnhealthyError(REPLACED, "its path now names another file than the "
                                       "one opened", written=written)
        return None

    def read_only(self) -> StoreUnhealthyError | None:
        """Why the file cannot be written, if it cannot (it may still be read)."""
        # Every write asks: plain system calls on names made once.
        path = self._names[0]
        with contextlib.suppress(OSError):  # gone meanwhile: the next call says missing
            if os.statvfs(path).f_flag & os.ST_RDONLY:
                return StoreUnhealthyError(READ_ONLY, "its file system is read-only")
        if not os.access(path, os.W_OK):
            return StoreUnhealthyError(READ_ONLY, "its file cannot be written")
        for suffix, companion in zip(("wal", "shm"), self._names[1:3], strict=True):
            # A companion that is not there (yet) is made by SQLite as it is needed.
            if not os.access(companion, os.W_OK) and os.path.exists(companion):
                return StoreUnhealthyError(READ_ONLY, f"its {suffix} file cannot be written")
        if not os.access(self._names[3], os.W_OK):
            return StoreUnhealthyError(READ_ONLY, "its folder cannot be written")
        return None

    def pending_log(self) -> bool:
        """Whether a write-ahead log beside the file holds anything: a writer has it open,
        or one stopped without folding it into the file (a writer that closes does)."""
        try:
            return Path(f"{self.path}-wal").stat().st_size > 0
        except FileNotFoundError:
            return False

    def _damage(self, max_age: float) -> StoreUnhealthyError | None:
        verdict = self._verdict
        if verdict is None or time.monotonic() - verdict[0] >= max_age:
            with self._lock:
                verdict = self._verdict  # another thread may have checked meanwhile
                if verdict is None or time.monotonic() - verdict[0] >= max_age:
                    try:
                        verdict = self._verdict = (time.monotonic(), self._quick_check())
                    except sqlite3.OperationalError:  # busy, not damaged: ask again later
                        return None
        found = verdict[1]
        return None if found is None else StoreUnhealthyError(DAMAGED, found)

    def _quick_check(self) -> str | None:
        """SQLite's own check of every page, read-only, on a connection of its own to the
        file at the path (the same file: `moved` was asked first)."""
        try:
            with contextlib.closing(sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro",
                                                    uri=True, timeout=5)) as conn:
                rows = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise
            found = [str(error)]
        except sqlite3.Error as error:  # "file is not a database", "disk image is malformed"
            found = [str(error)]
        else:
            found = [str(row[0]) for row in rows if row[0] != "ok"]
        if not found:
            return None
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return f"PRAGMA quick_check: {found[0]}{more}; restore it from a backup"

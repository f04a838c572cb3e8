"""The import's process pool: numbered pieces of work done by forked processes in turn,
and handed back in order.

With one worker, this process does every piece in turn: the import's serial path. With
more, forked processes (helpers) do pieces beside it. A shared counter hands out the
pieces: each process takes the next one not yet taken, so all stay busy whatever a piece
costs, and no share is tuned. A helper writes each piece it did to a file of a private
directory and sends its number and the file's name through a pipe (a short message, so it
never waits for this process to read; a 2 MB piece through a 64 KB pipe waited for this
process at each of forty writes). This process hands the pieces back in order, each as
soon as those before it are in, and does a piece itself whenever the next is not ready.

What it buys, measured (docs/performance.md): an import of 60k events takes 1.74–1.96 s on
two cores, where one process needs 2.35–2.45 s for the checks, commands and encoding of
70k events alone; pieces taken in turn beat a fixed share per process (1.83–2.02 s), and
no piece waits in a helper's memory (when each held its share, a million events took 1.2 GB).
`tests/integration/test_parallel_import.py` holds a pool of several workers equal to one
worker, on both stores, pieces done out of turn included.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait as connection_wait
from pathlib import Path
from typing import Any, Generic, TypeVar

from projections.bulk import next_answer

R = TypeVar("R")


class ImportFailedError(RuntimeError):
    """A process of a parallel import died, or failed (a full disk, a bug): nothing was
    recorded. `trace` is the traceback it sent, if any."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace


class ImportPool:
    """Does the pieces of an import with `workers` processes (this one among them); one
    worker where processes cannot be forked."""

    def __init__(self, workers: int = 1) -> None:
        forking = "fork" in multiprocessing.get_all_start_methods()
        self.workers = max(1, workers) if forking else 1

    def flag(self) -> Any:
        """A flag every worker sees (`.value`, 0 at first), which any may set: made before
        the pieces are begun."""
        if self.workers == 1:
            return ctypes.c_byte(0)
        return multiprocessing.get_context("fork").Value("b", 0, lock=False)

    @contextlib.contextmanager
    def pieces(self, do: Callable[[int], R], count: int) -> Iterator[Iterator[R]]:
        """`do(0)` … `do(count - 1)`, yielded in that order, each as soon as those before
        it are done. The helpers start on entering, forked (so `do` needs nothing sent to
        them), and each result they make is pickled back; a helper that dies or fails
        raises ImportFailedError here. Helpers still running on leaving (this process
        failed first) are stopped."""
        with _Helpers(do, count, self.workers - 1) as helpers:
            yield helpers.in_order()


class _Helpers(Generic[R]):
    """Forked processes doing pieces beside this one (none for one worker). On leaving,
    helpers still running are stopped, and the directory of the pieces they handed over
    is removed."""

    def __init__(self, do: Callable[[int], R], count: int, helpers: int) -> None:
        self.do, self.count, self.helpers = do, count, min(helpers, max(count - 1, 0))
        self.taken = 0  # with no helpers, the next piece is counted here
        self.next_piece: Any = None  # with helpers, in memory shared with them
        self.processes: list[Any] = []
        self.readers: list[Any] = []  # the pipes of helpers that have not said they ended

    def __enter__(self) -> _Helpers[R]:
        if not self.helpers:
            return self
        context = multiprocessing.get_context("fork")
        self.next_piece = context.Value("l", 0)
        try:
            self.directory = tempfile.TemporaryDirectory(prefix="cmsbot-import-")
        except OSError as error:
            raise ImportFailedError(
                f"no directory for the import's processes to hand over their work ({error}); "
                "set TMPDIR to a writable directory; nothing was recorded") from None
        try:
            for _ in range(self.helpers):
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(target=self._serve, args=(writer,), daemon=True)
                process.start()
                writer.close()  # theirs now: a process that dies closes it, and recv says so
                self.processes.append(process)
                self.readers.append(reader)
        except BaseException as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def take(self) -> int:
        """The number of the next piece no process has taken (past the last when none)."""
        if self.next_piece is None:
            self.taken += 1
            return self.taken - 1
        with self.next_piece.get_lock():
            number: int = self.next_piece.value
            self.next_piece.value = number + 1
        return number

    def in_order(self) -> Iterator[R]:
        """Every piece done, in order, each as soon as those before it are. A helper's
        piece is read from its file only when its turn comes, so the pieces done ahead
        wait on disk, not in this process's memory."""
        done: dict[int, R | Path] = {}
        for number in range(self.count):
            self._receive(done, wait=False)
            while number not in done:
                mine = self.take()
                if mine < self.count:
                    done[mine] = self.do(mine)
                    self._receive(done, wait=False)
                else:  # every piece is taken: wait for the helpers'
                    self._receive(done, wait=True)
            piece = done.pop(number)
            if isinstance(piece, Path):
                path, piece = piece, pickle.loads(piece.read_bytes())  # noqa: S301 - ours
                path.unlink()
            yield piece

    def _receive(self, done: dict[int, R | Path], *, wait: bool) -> None:
        """Take in the names of the pieces the helpers have sent; if `wait`, wait for at
        least one."""
        if not self.readers:
            if wait:
                raise ImportFailedError("an import piece was taken but never done; "
                                        "nothing was recorded")
            return
        for reader in connection_wait(self.readers, timeout=None if wait else 0):
            message = next_answer(reader, _import_failed)
            if message is None:  # it did all it took
                self.readers.remove(reader)
                continue
            number, name = message
            done[number] = Path(self.directory.name) / name

    def _serve(self, writer: Any) -> None:
        """In a forked process: do the next piece not yet taken until none is left, writing
        each to a file of the directory and sending its number and the file's name; then
        None. If anything fails, send why instead."""
        try:
            while (number := self.take()) < self.count:
                name = f"{os.getpid()}-{number}"
                (Path(self.directory.name) / name).write_bytes(
                    pickle.dumps(self.do(number), pickle.HIGHEST_PROTOCOL))
                writer.send((number, name))
            writer.send(None)
        except BaseException:
            with contextlib.suppress(OSError):  # the importing process failed first
                writer.send(traceback.format_exc())
        writer.close()

    def __exit__(self, *exc: object) -> None:
        for reader in self.readers:
            reader.close()
        for process in self.processes:
            if process.is_alive() and exc[0] is not None:
                process.kill()
            process.join()
        if self.helpers:
            self.directory.cleanup()


def _import_failed(trace: str | None) -> ImportFailedError:
    if trace is None:
        return ImportFailedError("an import process ended without an answer; "
                                 "nothing was recorded")
    said = trace.strip().splitlines()[-1]  # the exception, as "Type: message"
    return ImportFailedError(f"an import process failed ({said}); nothing was recorded",
                             trace)

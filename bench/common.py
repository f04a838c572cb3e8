"""What every part of the benchmark uses: its modes, fresh stores to measure in, timing and
percentiles, and the peak memory of a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from bench.synth import FULL, QUICK, TINY, Shape
from cmsbot.bootstrap import Container, bootstrap, init_schema
from cmsbot.settings import Database, Settings

ROOT = Path(__file__).resolve().parents[1]


POSTGRES = os.environ.get("CMSBOT_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Mode:
    name: str
    shape: Shape
    appends: int
    questions: int
    ack_clients: int = 20  # concurrent Slack clients sending signed /cms questions
    ack_seconds: float = 20.0  # for this long (and the served and in-process rates each)


MODES = {"tiny": Mode("tiny", TINY, 50, 40, ack_clients=4, ack_seconds=2.0),
         "quick": Mode("quick", QUICK, 500, 400, ack_seconds=10.0),
         "full": Mode("full", FULL, 2000, 1000)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def store(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        path = workdir / f"{uuid4().hex[:8]}.sqlite"
        init_schema(Settings(database=Database(f"sqlite:///{path}")))
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = f"bench_{uuid4().hex[:10]}"
    url = f"{POSTGRES}?schema={schema}"
    init_schema(Settings(database=Database(url)))
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def container(url: str) -> Container:
    return bootstrap(Settings(database=Database(url)))


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def postgres_answers() -> bool:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


# The peak is VmHWM, the high-water mark of the process's own memory, printed as it ends:
# getrusage's ru_maxrss (and os.wait4's) survives exec on Linux, so a process started by
# the benchmark would report the benchmark's own peak as its own.
PRINT_PEAK = ("print('VmHWM', *[l.split()[1] for l in open('/proc/self/status') "
               "if l.startswith('VmHWM')], flush=True)")


def peak_mb(out: str) -> float:
    [kb] = [line.split()[1] for line in out.splitlines() if line.startswith("VmHWM ")]
    return int(kb) / 1024


def measured_peak(code: str, *args: str, env: dict[str, str] | None = None,
                  ) -> tuple[str, float]:
    """Run Python `code` (which prints its own peak, `PRINT_PEAK`) in a process of its
    own; its output, and the most private memory any process it forked held, in MB,
    sampled from outside every 0.1 s."""
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, **(env or {})})
    helper_mb = 0.0
    while process.poll() is None:
        helper_mb = max([helper_mb, *(private_mb(child) for child in children(process.pid))])
        time.sleep(0.1)
    out, err = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args, out, err)
    return out, helper_mb


def children(pid: int) -> list[int]:
    """The processes `pid` started that are still running (none where Linux's /proc does
    not list them)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


def private_mb(pid: int) -> float:
    """The memory a forked process does not share with its parent (or anyone), in MB: what
    it added. 0 when it has ended or the system does not say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return sum(int(line.split()[1]) for line in rollup
                       if line.startswith(("Private_Clean:", "Private_Dirty:"))) / 1024
    except (OSError, ValueError):
        return 0.0

"""Real processes for the fault tests: a private PostgreSQL cluster that a test may kill
without touching the shared server, `cmsbot serve` in a process group of its own (stopped
with SIGTERM, or killed with SIGKILL), and Slack's signed requests to send it; `cmsbot`
commands in processes of their own, and checks of the store they leave."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import psycopg
import yaml

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.verify import verify
from cmsbot.bootstrap import Container, bootstrap
from cmsbot.history import SEED, read_history_file
from cmsbot.settings import Database, Settings
from domain.state import Kind
from tests.bot.fakes import TEAM, FakeSlack, sign
from tests.bot.harness import CHANNEL, EDITOR, SECRET, Reply, command_form, http
from tests.conftest import make_container, view_rows

ROOT = Path(__file__).resolve().parents[2]
CMSBOT = str(Path(sys.executable).with_name("cmsbot"))
# Slack gives up on a request not answered in 3 seconds. What the tests check against it is
# that nothing hangs (a store outage once held requests for about 50 s), not a speed:
# speed is the benchmark's to measure, and a loaded CI machine is slow.
ACK_WITHIN = 3.0
IWC_ANSWER = "IWC–CMS Joint Work Plan: in negotiation"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(ready: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.05) -> float:
    """Poll `ready` until it holds; fails naming `what` after `timeout` seconds. Returns
    how long it took."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started


# A private PostgreSQL cluster ---------------------------------------------------------------

def postgres_bin() -> Path | None:
    """The directory of initdb, pg_ctl and postgres (version 15 preferred), if installed."""
    wanted = ("initdb", "pg_ctl", "postgres")
    candidates = [Path("/usr/lib/postgresql/15/bin"),
                  *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all((directory / name).is_file() for name in wanted):
            return directory
    return None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, in a temporary directory, on a free port,
    with fsync off. Run as the `postgres` OS user when we are root (PostgreSQL refuses to
    run as root). The postmaster is this process's child, so that it is reaped as soon as
    it dies: `kill()` SIGKILLs it and its backends; `start()` again runs crash recovery,
    as after a real crash."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="cmsbot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.owner: dict[str, Any] = {}
        if os.geteuid() == 0:
            self.owner = {"user": "postgres", "group": "postgres", "extra_groups": []}
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        self.postmaster: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 60) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False, cwd=self.root, **self.owner)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): "
                               f"{result.stdout}{result.stderr}{self.log_tail()}")

    def init(self) -> PrivatePostgres:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        return self

    def start(self) -> None:
        """Start the postmaster and wait until it accepts connections."""
        with (self.root / "postgres.log").open("ab") as log:
            self.postmaster = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.root), "-c", "listen_addresses=127.0.0.1",
                 # fsync off only skips the flush to disk, which a killed process does
                 # not need. synchronous_commit stays on: off, a commit returns before its
                 # WAL is written, and `kill()` then loses commits that were confirmed.
                 "-c", "fsync=off", "-c", "synchronous_commit=on",
                 "-c", "full_page_writes=off", "-c", "max_connections=60",
                 "-c", "shared_buffers=16MB"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.root,
                **self.owner)

        def ready() -> bool:
            assert self.postmaster is not None
            if self.postmaster.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log_tail()}")
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
            except psycopg.OperationalError:
                return False
            return True

        wait_until(ready, 30, "the private PostgreSQL to accept connections", 0.1)

    def kill(self) -> None:
        """SIGKILL the postmaster, then every backend it leaves behind."""
        postmaster = self.postmaster
        if postmaster is None or postmaster.poll() is not None:
            return
        children = _children(postmaster.pid)
        postmaster.kill()
        postmaster.wait(timeout=15)
        for pid in children:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # Backends are orphans now: they are gone once they no longer run.
        wait_until(lambda: not any(_alive(p) for p in children), 15,
                   "the killed PostgreSQL backends to go")

    def close(self) -> None:
        with suppress(Exception):
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        with suppress(OSError):
            return (self.root / "postgres.log").read_text()[-2000:]
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead but not reaped


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster, removed afterwards (however the test ends)."""
    import pytest

    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not "
                    "installed, so no private cluster can be started and stopped")
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.close()


# `cmsbot serve` ------------------------------------------------------------------------------

class Served:
    """`cmsbot serve` (gunicorn: an arbiter and its worker) in a process group of its own,
    on a free port, calling the fake Slack."""

    def __init__(self, database_url: str, fake: FakeSlack, log: Path, *, workers: int = 1,
                 editors: tuple[str, ...] = (EDITOR,)) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.fake = fake
        self.log = log
        env = {**os.environ, "CMSBOT_DATABASE_URL": database_url,
               "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.api_url, "CMSBOT_EDITORS": ",".join(editors),
               "PORT": str(self.port), "WEB_CONCURRENCY": str(workers)}
        with log.open("ab") as out:
            self.process = subprocess.Popen([CMSBOT, "serve"], env=env, cwd=ROOT,
                                            stdout=subprocess.DEVNULL, stderr=out,
                                            start_new_session=True)

    def health(self) -> Reply | None:
        try:
            return http("GET", self.url + "healthz")
        except OSError:
            return None

    def wait_healthy(self, timeout: float = 30) -> None:
        def healthy() -> bool:
            assert self.process.poll() is None, f"cmsbot serve exited: {self.output()}"
            reply = self.health()
            return reply is not None and reply.status == 200
        wait_until(healthy, timeout, "cmsbot serve to say it is healthy", 0.1)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM to the arbiter, as a platform stops it (gunicorn's graceful stop); the
        exit status once it has stopped."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: the arbiter and its workers at once."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def output(self) -> str:
        with suppress(OSError):
            return self.log.read_text(errors="replace")[-4000:]
        return ""

    # Slack's signed requests

    def post(self, body: str, content_type: str) -> Reply:
        stamp = int(time.time())
        return http("POST", self.url + "slack/events", body, {
            "Content-Type": content_type, "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(SECRET, stamp, body)})

    def command(self, text: str, *, response: str, user: str = EDITOR) -> Reply:
        form = command_form(text, user=user, response_url=self.fake.response_url(response))
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def submit(self, view: dict[str, Any], *, user: str = EDITOR) -> Reply:
        payload = {"type": "view_submission", "team": {"id": TEAM, "domain": "cms"},
                   "user": {"id": user, "team_id": TEAM}, "api_app_id": "A0CMSBOT",
                   "token": "legacy", "trigger_id": "1.2.trigger", "view": view}
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded")


@contextmanager
def serving(database_url: str, fake: FakeSlack, log: Path, *, workers: int = 1,
            editors: tuple[str, ...] = (EDITOR,)) -> Iterator[Served]:
    served = Served(database_url, fake, log, workers=workers, editors=editors)
    try:
        yield served
    finally:
        served.kill()


def progress_form(key: str, summary: str, *, view_id: str) -> dict[str, Any]:
    """A filled "Record update" form as Slack submits it: "progress noted" on an
    engagement, with its summary, dated 2016."""
    state = {
        "item": {"item": {"type": "static_select", "selected_option": {"value": key}}},
        "what": {"what": {"type": "static_select",
                          "selected_option": {"value": "progress noted"}}},
        "field:summary:str": {"value": {"type": "plain_text_input", "value": summary}},
        "occurred": {"value": {"type": "plain_text_input", "value": "2016"}},
    }
    origin = {"team": TEAM, "channel": CHANNEL, "item": key, "kind": "engagement",
              "what": "progress noted"}
    blocks = [{"type": "input", "block_id": block_id} for block_id in state]
    return {"id": view_id, "hash": "h1", "type": "modal", "callback_id": "record_update",
            "private_metadata": json.dumps(origin), "blocks": blocks,
            "state": {"values": state}}


def told_recorded(fake: FakeSlack) -> list[str]:
    """The summaries the bot confirmed to their editor as recorded."""
    return [summary for _, _, summary in confirmations(fake)]


def confirmations(fake: FakeSlack) -> list[tuple[str, int, str]]:
    """Each "Recorded on …" message: to whom it went, the event's number, its summary."""
    found = []
    for call in fake.of("chat.postMessage"):
        match = re.search(r"Recorded on .* \(event (\d+)\): (.*?)\. Source:",
                          str(call.params.get("text")))
        if match:
            found.append((str(call.params.get("channel")), int(match.group(1)),
                          match.group(2)))
    return found


def ask(bot: Served, text: str, name: str) -> str:
    """`/cms TEXT`, acknowledged in time; the answer that follows on its response_url."""
    reply = bot.command(text, response=name)
    assert reply.status == 200 and reply.seconds < ACK_WITHIN, reply
    [answer] = bot.fake.wait_for(f"response:{name}", timeout=30)
    return str(answer.params["text"])


def seeded(url: str, engagements: int) -> list[str]:
    """The seed history in the store at `url` (`seed`); the keys of its first
    engagements."""
    seed(url)
    history = read_history_file(SEED)
    return [e.key for e in history.items if e.kind is Kind.ENGAGEMENT][:engagements]


# What an idle client sends before it stops: a request whose promised body never comes,
# request headers cut off half way, nothing at all, and a request (answered) followed on
# the same connection by half of another.
_HALF = b"POST /slack/events HTTP/1.1\r\nHost: cmsbot\r\nContent-Le"
STALLS = {
    "a promised body": (b"POST /slack/events HTTP/1.1\r\nHost: cmsbot\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"),
    "half a header": _HALF,
    "nothing": b"",
    "half a second request": b"GET /healthz HTTP/1.1\r\nHost: cmsbot\r\n\r\n" + _HALF,
}


@contextmanager
def idle_clients(port: int, each: int) -> Iterator[dict[str, list[socket.socket]]]:
    """`each` connections of each kind in STALLS, held open until the block ends."""
    with ExitStack() as stack:
        opened: dict[str, list[socket.socket]] = {}
        for kind, sent in STALLS.items():
            opened[kind] = []
            for _ in range(each):
                client = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
                client.sendall(sent)
                opened[kind].append(client)
        yield opened


@contextmanager
def unwritable(path: Path, *, mode: int, restored: int) -> Iterator[None]:
    """`path` (a file or a folder) cannot be written while the block runs. As root, chmod
    binds no one: the immutable flag (chattr +i) refuses writes to root too (EPERM), and
    new files in a folder. Without root, chmod to `mode` does it."""
    import pytest

    if os.geteuid() == 0:
        flagged = subprocess.run(["chattr", "+i", str(path)], capture_output=True,
                                 text=True, timeout=30, check=False)
        if flagged.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {flagged.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True, timeout=30)
        return
    path.chmod(mode)
    try:
        yield
    finally:
        path.chmod(restored)


def store_unchecked(container: Container, event: Any) -> None:
    """Store an event as a store written before the rule may hold it: straight through the
    recorder, past every command's check."""
    tracker = container.tracker
    tracker.recorder.insert_events([tracker.mapper.to_stored_event(event)])


@dataclass
class BoardRow:
    """A board row as the name index reads it."""

    key: str
    title: str
    aliases: list[str]
    kind: str = "agreement"
    subtype: str | None = "JWP"
    partner_keys: list[str] = field(default_factory=lambda: ["iwc"])

    @property
    def item_id(self) -> str:
        return self.key


# `cmsbot` commands, and the store they leave -------------------------------------------

def run(url: str, *args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`cmsbot ARGS` in its own process; with `limit`, under RLIMIT_FSIZE (SIGXFSZ ignored,
    so that a write past it fails with EFBIG instead of killing the process)."""

    size = limit or 0

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    env = {**os.environ, "CMSBOT_DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([CMSBOT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False,
                          preexec_fn=limited if limit is not None else None)


def next_report(folder: Path) -> tuple[Path, list[str]]:
    """A short history file of the next report (18 new events on items already held),
    and the summaries of its events."""
    items = [entry for entry in read_history_file(SEED).items
             if entry.kind is Kind.ENGAGEMENT][:6]
    document: dict[str, Any] = {"document": "UNEP/CMS/StC45/18", "as_at": "2016-09-01"}
    document["items"] = [
        {"key": entry.key, "kind": "engagement", "title": entry.title,
         "partners": list(entry.details["partners"]), "paragraph": 3 + number,
         "events": [{"type": "progress noted", "id": f"stc45-{n}",
                     "summary": f"Progress by September 2016, part {n}, on {entry.title}"}
                    for n in range(3)]}
        for number, entry in enumerate(items)]
    path = folder / "stc45.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    summaries = [e["summary"] for item in document["items"] for e in item["events"]]
    return path, summaries


def seed(url: str) -> None:
    """The seed history (the StC44 report) in the store at `url`, its views caught up."""
    store = make_container(url)
    try:
        store.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        store.catch_up()
    finally:
        store.close()


def snapshot(url: str) -> tuple[list[tuple[Any, ...]], dict[str, Any], str]:
    """The log (every event, deserialised), the views, and the verified chain head."""
    store = bootstrap(Settings(database=Database(url)))
    try:
        events = [(p.position, str(p.event.originator_id), p.event.originator_version,
                   str(getattr(p.event, "summary", ""))) for p in store.tracker.iter_log()]
        result = verify(store.engine, store.tracker)
        assert result.problem is None, result.problem
        return events, view_rows(store), str(result.head)
    finally:
        store.close()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error a person sees: one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_whole(url: str) -> Counter[str]:
    """Read by a fresh process's view of the store: every event deserialises and folds
    into its aggregate; versions run 1..n without a gap; the audit chain verifies; the
    views equal a rebuild from the log. Returns how often each summary is in the log."""
    store = bootstrap(Settings(database=Database(url)))
    try:
        versions: dict[UUID, list[int]] = {}
        summaries: Counter[str] = Counter()
        for positioned in store.tracker.iter_log():  # each one deserialises
            event = positioned.event
            versions.setdefault(event.originator_id, []).append(event.originator_version)
            summaries[str(getattr(event, "summary", ""))] += 1
        for originator, seen in versions.items():
            assert seen == list(range(1, len(seen) + 1)), (originator, seen)
            assert store.tracker.repository.get(originator).version == len(seen)  # folds
        store.catch_up()
        result = verify(store.engine, store.tracker)
        assert result.problem is None, result.problem
        current = view_rows(store)
        store.projector.rebuild()
        assert view_rows(store) == current
        return summaries
    finally:
        store.close()


@contextmanager
def unwritable_file(folder: Path, store: Path) -> Iterator[None]:
    """The fault of a store file that cannot be written (its folder can)."""
    with unwritable(store, mode=0o444, restored=0o644):
        yield

"""`make bench` / `make bench-full`: the figures of docs/performance.md, side by side with
the floor beneath us (raw SQL inserts, and the eventsourcing library alone), in one run.

Prints a table and writes the same figures to var/bench/latest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.fake_slack import FakeSlackAPI
from bench.synth import FULL, QUICK, TINY, Shape, write_histories
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container, bootstrap, init_schema
from cmsbot.history import SEED, read_history_file
from cmsbot.questions.answer import Answer
from cmsbot.settings import Database, Settings
from cmsbot.slack.blocks import PAGE_SIZE as SLACK_PAGE
from domain.provenance import Source

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


class BenchNote(Aggregate):
    """The bare-library twin of recording one fact: get, command, save."""

    @event("Noted")
    def note(self, text: str) -> None:
        self.last = text


class BareApplication(Application[Any]):
    name = "benchcore"


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


# The figures -------------------------------------------------------------------------------

def append_figures(backend: str, workdir: Path, count: int) -> dict[str, float]:
    """Recording one event per command: ours, the bare library, and raw inserts."""
    figures: dict[str, float] = {}
    with store(backend, workdir) as url:
        app = container(url)
        app.importer.run(LOCAL_OPERATOR, read_history_file(SEED))

        def ours() -> None:
            for number in range(count):
                app.recorder.record(LOCAL_OPERATOR, key="unep-mts", what="progress noted",
                                    fields={"summary": f"contact {number}"}, occurred="2016",
                                    source=Source("BENCH/1", str(number)))
        ours_s = timed(ours)
        env = Database(url).eventsourcing_env(create_table=True)
        env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder
        bare = BareApplication(env={**env, "AGGREGATE_CACHE_MAXSIZE": "2000"})
        note = BenchNote()
        bare.save(note)

        def core() -> None:
            for number in range(count):
                aggregate: BenchNote = bare.repository.get(note.id)
                aggregate.note(f"contact {number}")
                bare.save(aggregate)
        core_s = timed(core)
        payload = app.tracker.recorder.select_events(
            app.tracker.item("unep-mts").id, desc=True, limit=1)[0].state
        raw_s = timed(lambda: raw_inserts(url, payload, count))
        app.close()
        bare.close()
    figures["append_events_per_s"] = count / ours_s
    figures["core_append_events_per_s"] = count / core_s
    figures["append_ratio_vs_core"] = core_s / ours_s
    figures["raw_insert_rows_per_s"] = count / raw_s
    return figures


def raw_inserts(url: str, payload: bytes, count: int) -> None:
    """The floor: plain SQL inserts of the same payloads, one transaction each."""
    if url.startswith("sqlite"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("CREATE TABLE raw_events (id INTEGER PRIMARY KEY, state BLOB)")
        for _ in range(count):
            lite.execute("BEGIN")
            lite.execute("INSERT INTO raw_events (state) VALUES (?)", (payload,))
            lite.execute("COMMIT")
        lite.close()
        return
    schema = url.split("schema=")[1]  # made by store(): bench_ and hex digits
    options = f"-csearch_path={schema}"
    with psycopg.connect(POSTGRES, autocommit=True, options=options) as conn:
        conn.execute("CREATE TABLE raw_events (id BIGSERIAL PRIMARY KEY, state BYTEA)")
        for _ in range(count):
            with conn.transaction():
                conn.execute("INSERT INTO raw_events (state) VALUES (%s)", (payload,))


def import_figures(url: str, history_files: list[Path], events: int) -> dict[str, float]:
    """Reading, checking and recording whole history files (the JSON form, the bulk
    format), each in one save, as `cmsbot import` does: one file at the quick size, five
    at a million events (a history file is bounded)."""
    app = container(url)
    try:
        seconds = timed(lambda: [app.importer.run_file(LOCAL_OPERATOR, history_file)
                                 for history_file in history_files])
    finally:
        app.close()
    return {"import_events_per_s": events / seconds}


def import_peak_figures(url: str, history_files: list[Path]) -> dict[str, float]:
    """The peak memory of `cmsbot import`, each history file in its own process in turn
    (the views brought up to date after each, as the command does): the highest of their
    peaks, in MB, each the process's own (`measured_peak`), with what its forked helpers
    added."""
    code = ("import sys; from cmsbot.cli import main; code = main(['import', sys.argv[1]]); "
            + _PRINT_PEAK + "; sys.exit(code)")
    peaks = []
    for history_file in history_files:
        out, helper_mb = measured_peak(code, str(history_file), env={"CMSBOT_DATABASE_URL": url})
        peaks.append(_peak_mb(out) + helper_mb)
    return {"import_peak_rss_mb": max(peaks)}


class BenchItem(Aggregate):
    """The bare-library twin of an imported item: created, then a few events."""

    def __init__(self, title: str) -> None:
        self.title = title

    @event("Noted")
    def note(self, text: str, occurred: str, source: dict[str, str]) -> None:
        self.last = text


def core_import_figures(url: str, events: int, per_item: int = 6,
                        per_save: int = 1000) -> dict[str, float]:
    """The floor beneath an import: the bare library making aggregates of the same number
    of events and saving them, 1,000 events a save (a larger save deadlocks its
    PostgreSQL pipeline)."""
    env = Database(url).eventsourcing_env(create_table=True)
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder
    bare = BareImport(env=env)

    def run() -> None:
        pending: list[BenchItem] = []
        for number in range(events // per_item):
            item = BenchItem(f"item {number}")
            for step in range(per_item - 1):
                item.note(f"progress {step}", "2015-09", {"document": "BENCH/3",
                                                           "paragraph": str(step)})
            pending.append(item)
            if len(pending) * per_item >= per_save:
                bare.save(*pending)
                pending = []
        bare.save(*pending)

    try:
        seconds = timed(run)
    finally:
        bare.close()
    return {"core_import_events_per_s": (events // per_item) * per_item / seconds}


class BareImport(Application[Any]):
    name = "benchimport"


def rebuild_figures(url: str) -> dict[str, float]:
    """Every view rebuilt from zero, in a process of its own so its peak memory shows, with
    the shared rebuild opted in (`projections.parallel_rebuild`, from its `WORTH_IT_FROM`
    events). Its memory is the rebuilding process's peak plus the most the forked helper
    added to it, which is also shown alone (`rebuild_helper_peak_mb`, 0 when the log is
    too short to share)."""
    code = ("import sys, time; from cmsbot.bootstrap import bootstrap; "
            "from cmsbot.settings import Database, Settings; "
            "from projections.parallel_rebuild import WORTH_IT_FROM; "
            "from projections.projector import Projector; "
            "c = bootstrap(Settings(database=Database(sys.argv[1]))); "
            "p = Projector(c.engine, c.tracker, share_rebuild_from=WORTH_IT_FROM); "
            "t = time.perf_counter(); n = p.rebuild(); d = time.perf_counter() - t; "
            "print('rebuilt', n, d); " + _PRINT_PEAK)
    out, helper_mb = measured_peak(code, url)
    [(count, seconds)] = [line.split()[1:] for line in out.splitlines()
                          if line.startswith("rebuilt ")]
    return {"rebuild_events_per_s": int(count) / float(seconds),
            "rebuild_peak_rss_mb": _peak_mb(out) + helper_mb,
            "rebuild_helper_peak_mb": helper_mb}


# The peak is VmHWM, the high-water mark of the process's own memory, printed as it ends:
# getrusage's ru_maxrss (and os.wait4's) survives exec on Linux, so a process started by
# the benchmark would report the benchmark's own peak as its own.
_PRINT_PEAK = ("print('VmHWM', *[l.split()[1] for l in open('/proc/self/status') "
               "if l.startswith('VmHWM')], flush=True)")


def _peak_mb(out: str) -> float:
    [kb] = [line.split()[1] for line in out.splitlines() if line.startswith("VmHWM ")]
    return int(kb) / 1024


def measured_peak(code: str, *args: str, env: dict[str, str] | None = None,
                  ) -> tuple[str, float]:
    """Run Python `code` (which prints its own peak, `_PRINT_PEAK`) in a process of its
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


def question_mix(app: Container, count: int, rng: random.Random) -> list[str]:
    with app.engine.connect() as conn:
        index = app.readmodel.index(conn)
    items = index.items
    partners = list(index.partners.values())
    makers: list[Callable[[], str]] = [  # one of each kind of question
        lambda: f"status of {rng.choice(items).title}",
        lambda: f"where are we with {rng.choice(items).title.lower()}?",
        lambda: f"history of {rng.choice(items).title}",
        lambda: "what's coming up",
        lambda: "upcoming workshops",
        lambda: f"meetings in {rng.randint(2013, 2020)}",
        lambda: f"what do we have with {rng.choice(partners).acronym}?",
    ]
    return [rng.choice(makers)() for _ in range(count)]


@dataclass
class _Asking:
    """What the intent mix draws its questions from."""

    rng: random.Random
    titles: list[str]
    acronyms: list[str]

    def title(self) -> str:
        return self.rng.choice(self.titles)

    def year(self, first: int = 2013, last: int = 2020) -> int:
        return self.rng.randint(first, last)

    def misspelt(self) -> str:
        """A title with two letters of its longest word swapped."""
        words = self.title().split()
        longest = max(range(len(words)), key=lambda n: len(words[n]))
        word = words[longest]
        if len(word) >= 4:
            at = self.rng.randint(1, len(word) - 3)
            words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        return " ".join(words)


Question = tuple[str, date | None]  # the words, and the business date asked as at
# Each intent timed on its own (`ask_p95_ms_by_intent`): how to ask it, and the intents
# the engine answers it by. None: an intent that other work adds (overdue, yes/no); until
# the engine has it, the engine answers by one of the others, and it is recorded as
# missing (None) rather than timed as what it is not.
INTENT_MIX: dict[str, tuple[Callable[[_Asking], Question], frozenset[str] | None]] = {
    "status": (lambda a: (f"status of {a.title()}", None), frozenset({"status"})),
    "history": (lambda a: (f"history of {a.title()}", None), frozenset({"history"})),
    "partner": (lambda a: (f"what do we have with {a.rng.choice(a.acronyms)}?", None),
                frozenset({"partner"})),
    "upcoming": (lambda a: (a.rng.choice(("what's coming up", "upcoming workshops",
                                          f"meetings in {a.year()}")), None),
                 frozenset({"upcoming"})),
    "as-at status": (lambda a: (f"status of {a.title()}", date(a.year(), 6, 30)),
                     frozenset({"status"})),
    "as-at upcoming": (lambda a: (a.rng.choice(("what's coming up", "upcoming workshops",
                                                f"meetings in {a.year()}")),
                                  date(a.year(), 1, 1)), frozenset({"upcoming"})),
    "changed since": (lambda a: (f"what changed since 1 March {a.year(2023, 2026)}", None),
                      frozenset({"changes"})),
    "overdue": (lambda a: (a.rng.choice(("what is overdue?", "which deadlines have passed?")),
                           None), None),
    "as-at overdue": (lambda a: (a.rng.choice(("what is overdue?",
                                               "which deadlines have passed?")),
                                 date(a.year(2013, 2020), 1, 1)), None),
    "yes/no": (lambda a: (a.rng.choice((f"has the {a.title()} been held?",
                                        f"is the {a.title()} signed?")), None), None),
    "fuzzy misspelling": (lambda a: (f"status of {a.misspelt()}", None),
                          frozenset({"status", "clarify"})),
    "no match": (lambda a: (f"status of the {a.rng.choice(('zqxj', 'vwkp', 'jjzx'))} "
                            "wombat accord", None), frozenset({"not_found"})),
}
_TIMED = frozenset().union(*(named for _, named in INTENT_MIX.values() if named))


def first_page(app: Container, question: str, as_at: date | None = None) -> Answer:
    """What a person waits for: the answer's first page as Slack shows it (`SLACK_PAGE`
    entries; a long list's other entries are only counted)."""
    return app.questions.answer(question, as_at=as_at, page=1, size=SLACK_PAGE)


def intent_figures(app: Container, per_intent: int, rng: random.Random,
                   ) -> dict[str, dict[str, float] | None]:
    """p50, p95 and p99 (ms) of each intent of `INTENT_MIX`, `per_intent` questions each,
    each timed to its answer's first page as Slack shows it (`first_page`); None for an
    intent the engine does not answer as itself."""
    with app.engine.connect() as conn:
        index = app.readmodel.index(conn)
    asking = _Asking(rng, [i.title for i in index.items],
                     [p.acronym or p.key for p in index.partners.values()])
    figures: dict[str, dict[str, float] | None] = {}
    for name, (make, answered_by) in INTENT_MIX.items():
        times: list[float] = []
        for _ in range(per_intent):
            question, as_at = make(asking)
            start = time.perf_counter()
            answer = first_page(app, question, as_at)
            seconds = time.perf_counter() - start
            if (answer.intent in answered_by if answered_by is not None
                    else answer.intent not in _TIMED):
                times.append(seconds * 1000)
        figures[name] = ({"p50": percentile(times, 50), "p95": percentile(times, 95),
                          "p99": percentile(times, 99)} if times else None)
    return figures


def digest_past_week_s(app: Container, channels: int = 100) -> float:
    """A preview of the week a year back (as `cmsbot digest preview --as-at` makes it: what
    happened in it, by business time) for `channels` channels, half of them filtered."""
    from cmsbot.digests.content import build_digest
    from domain.channels import Schedule

    end = datetime.combine(datetime.now(UTC).date().replace(day=1) - timedelta(days=365),
                           datetime.min.time(), tzinfo=UTC)
    start = end - timedelta(days=7)
    filters = [Schedule(), Schedule(filter_kind="kind", filter_value="meeting")]
    return timed(lambda: [build_digest(app.readmodel, channel=f"C{number:03d}",
                                       period="past", start=start, end=end,
                                       schedule=filters[number % 2], business_time=True)
                          for number in range(channels)])


def ask_figures(url: str, count: int) -> dict[str, Any]:
    """The question figures (each question timed to its answer's first page as Slack shows
    it, `first_page`), the intents' (`intent_figures`), recording on a long item, and the
    digests."""
    rng = random.Random(7)
    app = container(url)
    try:
        app.catch_up()
        questions = question_mix(app, count, rng)
        app.questions.answer("warm up")

        def ask(question: str, as_at: date | None = None) -> float:
            return timed(lambda: first_page(app, question, as_at)) * 1000

        times = [ask(question) for question in questions]
        with app.engine.connect() as conn:
            titles = [i.title for i in app.readmodel.index(conn).items]
        as_at = [ask(f"status of {title}", date(rng.randint(2013, 2020), 6, 30))
                 for title in rng.sample(titles, min(count, len(titles)))]
        week_start = datetime.now(UTC)  # the digests cover what is recorded from here on

        def record(number: int) -> float:
            return timed(lambda: app.recorder.record(
                LOCAL_OPERATOR, key="item-0", what="progress noted",
                fields={"summary": f"one more {number}"}, occurred="2031",
                source=Source("BENCH/2", str(number)))) * 1000

        long_item = [record(number) for number in range(21)][1:]  # the first loads it
        subscribed = [f"C{n:03d}" for n in range(100)]
        app.catch_up()
        digest_s = timed(lambda: build_digests(app, subscribed, week_start))
        by_intent = intent_figures(app, max(10, count // 8), random.Random(13))
        past_week_s = digest_past_week_s(app)
    finally:
        app.close()
    return {"ask_p95_ms_by_intent": by_intent, "digest_past_week_s": past_week_s,
            "ask_p50_ms": percentile(times, 50), "ask_p95_ms": percentile(times, 95),
            "ask_p99_ms": percentile(times, 99), "as_at_p95_ms": percentile(as_at, 95),
            "record_ms_long_item": statistics.median(long_item),
            "digest_100_channels_s": digest_s}


def build_digests(app: Container, channels: list[str], start: datetime) -> None:
    """A week's digests: the week holds the events recorded since `start`."""
    from cmsbot.digests.content import build_digest
    from domain.channels import Schedule

    end = datetime.now(UTC)
    filters = [Schedule(), Schedule(filter_kind="kind", filter_value="meeting")]
    for number, channel in enumerate(channels):
        build_digest(app.readmodel, channel=channel, period="bench", start=start, end=end,
                     schedule=filters[number % 2])


def clients_run(client: Callable[[int], None], count: int) -> float:
    """Run `count` client threads (each given its number) to their end; the seconds taken."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def ack_figures(url: str, mode: Mode, workdir: Path) -> dict[str, float]:
    """`cmsbot serve` in its own process, as deployed: `mode.ack_clients` threads send
    signed `/cms <question>` requests in a loop for `mode.ack_seconds`, each timed from
    sending to the HTTP response (Slack's acknowledgement, due within 3 s); the answers go
    to a fake Web API on loopback. Any acknowledgement but a 200 fails the run."""
    questions = status_questions(url)
    secret = uuid4().hex
    with FakeSlackAPI() as fake, _served(url, fake, secret, workdir) as port:
        def ask(question: str, name: str) -> tuple[int, float]:
            return slash_command(port, secret, fake, question, name)

        # Warm up: the answer process reads the store and builds its name index first.
        warm = [ask(question, f"warm-{n}")[0] for n, question in enumerate(questions[:3])]
        if warm != [200] * 3 or not fake.wait_answered(3, timeout=120):
            raise RuntimeError(f"cmsbot serve did not answer the warm-up questions: {warm}")
        answered = fake.answered()
        results: list[list[tuple[int, float]]] = [[] for _ in range(mode.ack_clients)]
        deadline = time.monotonic() + mode.ack_seconds

        def client(number: int) -> None:
            sent = 0
            while time.monotonic() < deadline:
                question = questions[(number * 101 + sent) % len(questions)]
                results[number].append(ask(question, f"{number}-{sent}"))
                sent += 1

        elapsed = clients_run(client, mode.ack_clients)
        answered = fake.answered() - answered
        told_busy = fake.counts["busy"]
    every = [result for client_results in results for result in client_results]
    statuses = Counter(status for status, _ in every)
    if set(statuses) != {200}:
        raise RuntimeError(f"{len(every) - statuses[200]} of {len(every)} slash commands "
                           f"were not acknowledged with 200 (status 0: no response): "
                           f"{dict(statuses)}; cmsbot serve's log: {workdir / 'serve.log'}")
    times = [seconds * 1000 for _, seconds in every]
    return {"ack_p50_ms": percentile(times, 50), "ack_p95_ms": percentile(times, 95),
            "ack_p99_ms": percentile(times, 99), "ack_requests": len(every),
            "ack_answers_per_s": answered / elapsed,
            # Questions past the answers' backlog, told at once to ask again in a minute.
            "ack_told_busy": told_busy}


def status_questions(url: str) -> list[str]:
    """Status questions about up to 500 items, in the two ways people ask them."""
    app = container(url)
    try:
        with app.engine.connect() as conn:
            titles = [i.title for i in app.readmodel.index(conn).items]
    finally:
        app.close()
    rng = random.Random(11)
    return [rng.choice((f"status of {title}", f"where are we with {title.lower()}?"))
            for title in rng.sample(titles, min(500, len(titles)))]


def slash_command(port: int, secret: str, fake: FakeSlackAPI, question: str,
                  name: str) -> tuple[int, float]:
    """Send `/cms <question>` as Slack signs it, its answer due at the fake's response_url
    `name`: the HTTP status (0 for none) and the seconds to it."""
    body = urlencode({
        "token": "legacy", "team_id": "T0CMS", "team_domain": "cms",
        "channel_id": "C0BENCH", "channel_name": "bench", "user_id": "UBENCH",
        "user_name": "bench", "command": "/cms", "text": question,
        "api_app_id": "A0CMSBOT", "response_url": fake.response_url(name),
        "trigger_id": f"1.2.{name}"})
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(),
                                 hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.perf_counter()
    try:
        connection.request("POST", "/slack/events", body, headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, time.perf_counter() - start
    except OSError:
        return 0, time.perf_counter() - start
    finally:
        connection.close()


def served_figures(url: str, mode: Mode, workdir: Path, *,
                   slack_delay: float = 0.0) -> dict[str, float]:
    """Answers through `cmsbot serve` beside the question engine alone, in one run on the
    same cores. `answers_per_s`: `mode.ack_clients` clients, each sending a signed `/cms`
    status question and waiting for its answer at the fake response_url before asking the
    next (as people in Slack do), for `mode.ack_seconds`. `engine_answers_per_s`: the same
    questions answered one after the other in this process by `QuestionEngine.answer`
    alone, for as long, before the server starts. `slack_delay`: seconds the fake Slack
    takes to reply to each post (none: loopback)."""
    questions = status_questions(url)
    app = container(url)
    try:
        app.questions.answer(questions[0])  # the name index, built once
        asked, deadline = 0, time.monotonic() + mode.ack_seconds
        started = time.perf_counter()
        while time.monotonic() < deadline:
            app.questions.answer(questions[asked % len(questions)])
            asked += 1
        engine_rate = asked / (time.perf_counter() - started)
    finally:
        app.close()
    secret = uuid4().hex
    with FakeSlackAPI(delay=slack_delay) as fake, _served(url, fake, secret, workdir) as port:
        for n, question in enumerate(questions[:3]):  # the answer process reads the store
            status, _ = slash_command(port, secret, fake, question, f"warm-{n}")
            if status != 200 or not fake.wait_responded(f"warm-{n}", 120):
                raise RuntimeError(f"cmsbot serve did not answer a warm-up question ({status})")
        answered = [0] * mode.ack_clients
        failures: list[str] = []
        deadline = time.monotonic() + mode.ack_seconds

        def client(number: int) -> None:
            while time.monotonic() < deadline and not failures:
                name = f"{number}-{answered[number]}"
                question = questions[(number * 101 + answered[number]) % len(questions)]
                status, _ = slash_command(port, secret, fake, question, name)
                if status != 200 or not fake.wait_responded(name, 30):
                    failures.append(f"{question!r}: HTTP {status}")
                    return
                answered[number] += 1

        elapsed = clients_run(client, mode.ack_clients)
        told_busy = fake.counts["busy"]
    if failures or told_busy:
        raise RuntimeError(f"cmsbot serve did not answer {failures[:3]} ({told_busy} told "
                           f"to come back); its log: {workdir / 'serve.log'}")
    served_rate = sum(answered) / elapsed
    return {"answers_per_s": served_rate, "engine_answers_per_s": engine_rate,
            "served_to_engine_ratio": served_rate / engine_rate}


def cli_ask_figures(url: str) -> dict[str, float]:
    """A whole `cmsbot ask` process answering a status question about the store at
    `url` (the quick history): the median wall time of five, start-up included."""
    app = container(url)
    try:
        app.catch_up()
        with app.engine.connect() as conn:
            title = app.readmodel.index(conn).items[0].title
    finally:
        app.close()
    env = {**os.environ, "CMSBOT_DATABASE_URL": url}
    command = [sys.executable, "-m", "cmsbot.cli", "ask", f"status of {title}"]
    runs = [timed(lambda: subprocess.run(command, env=env, check=True, capture_output=True,
                                         cwd=ROOT)) for _ in range(5)]
    return {"cli_ask_wall_s": statistics.median(runs)}


@contextmanager
def _served(url: str, fake: FakeSlackAPI, secret: str, workdir: Path) -> Iterator[int]:
    """`cmsbot serve` on a free loopback port against the store, until it is healthy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "CMSBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": fake.api_url}
    with (workdir / "serve.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "cmsbot.cli", "serve", "--port",
                                    str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    connection = HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                finally:
                    connection.close()
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"cmsbot serve did not come up; see {log.name}")
                time.sleep(0.1)
            yield port
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cold_start_figures(workdir: Path) -> dict[str, float]:
    url = f"sqlite:///{workdir}/cold.sqlite"
    env = {**os.environ, "CMSBOT_DATABASE_URL": url}
    command = [sys.executable, "-m", "cmsbot.cli"]
    for making in (["db", "init"], ["import", "--seed"]):
        subprocess.run([*command, *making], env=env, check=True, capture_output=True,
                       cwd=ROOT)
    runs = [timed(lambda: subprocess.run([*command, "ask", "--as-at", "2015-09-01",
                                          "status of IWC JWP"], env=env, check=True,
                                         capture_output=True, cwd=ROOT)) for _ in range(5)]
    return {"cli_cold_start_s": statistics.median(runs)}


TARGETS = {"append_ratio_vs_core": (">=", 0.7), "import_events_per_s": (">=", 30_000),
           "rebuild_events_per_s": (">=", 20_000), "rebuild_peak_rss_mb": ("<=", 300),
           "import_peak_rss_mb": ("<=", 400),  # for the million-event files
           "ask_p95_ms": ("<=", 20), "as_at_p95_ms": ("<=", 50),
           "record_ms_long_item": ("<=", 5), "ack_p95_ms": ("<=", 100),
           "digest_100_channels_s": ("<=", 2), "cli_cold_start_s": ("<=", 1.0),
           "digest_past_week_s": ("<=", 2),
           # every intent's p95 (ms) at the quick size; 50 at a million events
           "ask_p95_ms_by_intent": ("<=", 20),
           "served_to_engine_ratio": (">=", 0.5), "cli_ask_wall_s": ("<=", 1.0)}


def step(what: str, action: Callable[[], Any]) -> None:
    print(f"… {what}", end="", flush=True, file=sys.stderr)
    seconds = timed(action)
    print(f" ({seconds:.1f} s)", file=sys.stderr)


def measure(backend: str, workdir: Path, mode: Mode, history_files: list[Path],
            events: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    step(f"{backend}: appending",
         lambda: figures.update(append_figures(backend, workdir, mode.appends)))
    with store(backend, workdir) as url:  # a store of its own: the library's events
        step(f"{backend}: importing {events} events with the bare library",
             lambda: figures.update(core_import_figures(url, events)))
    with store(backend, workdir) as url:
        step(f"{backend}: importing {events} events",
             lambda: figures.update(import_figures(url, history_files, events)))
        step(f"{backend}: rebuilding", lambda: figures.update(rebuild_figures(url)))
        step(f"{backend}: asking", lambda: figures.update(ask_figures(url, mode.questions)))
        step(f"{backend}: acknowledging slash commands on cmsbot serve",
             lambda: figures.update(ack_figures(url, mode, workdir)))
        step(f"{backend}: answers through cmsbot serve and in-process",
             lambda: figures.update(served_figures(url, mode, workdir)))
        if backend == "sqlite":
            step("sqlite: one question by a whole cmsbot ask process",
                 lambda: figures.update(cli_ask_figures(url)))
    with store(backend, workdir) as url:  # the same files, each by `cmsbot import`
        step(f"{backend}: importing {events} events by cmsbot import, for its peak memory",
             lambda: figures.update(import_peak_figures(url, history_files)))
    return figures


def run(mode: Mode, output: Path, backends: list[str]) -> dict[str, Any]:
    workdir = ROOT / "var" / "bench" / mode.name
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("history*.json"):
        old.unlink()
    history_files, events = write_histories(mode.shape, workdir)  # the bulk form
    report: dict[str, Any] = {
        "mode": mode.name, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "history": {"items": mode.shape.items, "partners": mode.shape.partners,
                    "events": events},
        "figures": {},
    }
    for backend in backends:
        report["figures"][backend] = measure(backend, workdir, mode, history_files, events)
    report["figures"].setdefault("sqlite", {}).update(cold_start_figures(workdir))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    return report


def table(report: dict[str, Any]) -> str:
    backends = list(report["figures"])
    names = sorted({name for figures in report["figures"].values() for name in figures})
    lines = [f"{'figure':28}" + "".join(f"{b:>14}" for b in backends) + "   target"]
    rows: list[tuple[str, list[Any], tuple[str, float] | None]] = []
    for name in names:
        values = [report["figures"][b].get(name) for b in backends]
        if any(isinstance(value, dict) for value in values):  # one row per intent: its p95
            for key in sorted({k for v in values if isinstance(v, dict) for k in v}):
                rows.append((f"ask_p95_ms[{key}]", [(v or {}).get(key) for v in values],
                             TARGETS.get(name)))
            continue
        rows.append((name, values, TARGETS.get(name)))
    for name, values, target in rows:
        cells = "".join(f"{_p95(value):>14.2f}" for value in values)
        lines.append(f"{name:28}{cells}   {target[0] + ' ' + str(target[1]) if target else ''}")
    history = report["history"]
    lines.append(f"({report['mode']}: {history['items']} items, {history['partners']} "
                 f"partners, {history['events']} events; {report['machine']['cpus']} CPUs, "
                 f"{report['date']})")
    return "\n".join(lines)


def _p95(value: Any) -> float:
    """A figure as the table shows it: a number, an intent's p95, or nan when missing."""
    if isinstance(value, dict):
        value = value.get("p95")
    return float("nan") if value is None else float(value)


def postgres_answers() -> bool:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "bench" / "latest.json")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    backends = ["sqlite"]
    if not args.sqlite_only:
        if postgres_answers():
            backends.append("postgresql")
        else:
            print(f"PostgreSQL at {POSTGRES} does not answer: measuring SQLite only")
    report = run(MODES[args.mode], args.output, backends)
    print(table(report))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

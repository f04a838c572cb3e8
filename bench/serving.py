"""The figures through `cmsbot serve` and whole `cmsbot` processes: Slack's acknowledgements
under load, answers served beside the engine's own rate, and one question by `cmsbot ask`."""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode
from uuid import uuid4

from bench.common import ROOT, Mode, container, percentile, timed
from bench.fake_slack import FakeSlackAPI


def clients_run(client: Callable[[int], None], count: int) -> float:
    """Run `count` client threads (each given its number) to their end; the seconds taken."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


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


@contextmanager
def served(url: str, fake: FakeSlackAPI, secret: str, workdir: Path) -> Iterator[int]:
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


def ack_figures(url: str, mode: Mode, workdir: Path) -> dict[str, float]:
    """`cmsbot serve` in its own process, as deployed: `mode.ack_clients` threads send
    signed `/cms <question>` requests in a loop for `mode.ack_seconds`, each timed from
    sending to the HTTP response (Slack's acknowledgement, due within 3 s); the answers go
    to a fake Web API on loopback. Any acknowledgement but a 200 fails the run."""
    questions = status_questions(url)
    secret = uuid4().hex
    with FakeSlackAPI() as fake, served(url, fake, secret, workdir) as port:
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
    with FakeSlackAPI(delay=slack_delay) as fake, served(url, fake, secret, workdir) as port:
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

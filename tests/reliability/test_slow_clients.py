"""Clients that connect to `cmsbot serve` and then send nothing, or stop half way: many
more of them than the server has threads. Slack's requests are still acknowledged within
its 3 seconds, /healthz answers, and the server closes each idle connection itself."""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from http.client import HTTPException
from pathlib import Path

import pytest

from cmsbot.slack.front import BODY_WITHIN, HEADERS_WITHIN, THREADS
from tests.bot.fakes import FakeSlack
from tests.bot.harness import Reply, http

from .support import (
    ACK_WITHIN,
    IWC_ANSWER,
    STALLS,
    Served,
    idle_clients,
    progress_form,
    seeded,
    serving,
    told_recorded,
)

EACH = THREADS + 2  # idle connections of each kind: together over four times the threads
MARGIN = 3.0  # seconds


def in_time(what: str, call: Callable[[], Reply]) -> Reply:
    """`call()`, which must answer within Slack's 3 seconds."""
    started = time.monotonic()
    try:
        reply = call()
    except (OSError, HTTPException) as error:
        raise AssertionError(f"{what}: no answer after {time.monotonic() - started:.1f}s "
                             f"({type(error).__name__})") from error
    assert reply.seconds < ACK_WITHIN, f"{what}: answered after {reply.seconds:.1f}s"
    return reply


def test_idle_clients_outnumbering_the_threads_do_not_keep_slack_waiting(
        sqlite_url: str, tmp_path: Path) -> None:
    keys = seeded(sqlite_url, 4)
    fake = FakeSlack().start()
    try:
        with serving(sqlite_url, fake, tmp_path / "serve.log") as bot:
            bot.wait_healthy()
            with idle_clients(bot.port, EACH) as idle:
                time.sleep(0.5)  # the server has taken every idle connection
                opened = time.monotonic()
                for n in range(3):
                    check_slack_is_served(bot, keys[n], n)
                closed = {kind: [closed_by_server(c, opened, max(HEADERS_WITHIN, BODY_WITHIN))
                                 for c in clients] for kind, clients in idle.items()}
            log = bot.output()
        # A promised body that does not come is refused 408; a request that came is
        # answered; then each connection is closed.
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in closed["a promised body"])
        assert all(answer.startswith(b"HTTP/1.1 200 ")
                   for answer in closed["half a second request"])
        assert closed["half a header"] == closed["nothing"] == [b""] * EACH
        assert "Traceback" not in log, log
    finally:
        fake.stop()


def check_slack_is_served(bot: Served, key: str, n: int) -> None:
    """/healthz, a question and a form submission, each answered within 3 seconds."""
    health = in_time("/healthz", lambda: http("GET", bot.url + "healthz"))
    assert health.status == 200, health
    reply = in_time("a question", lambda: bot.command("status of IWC JWP",
                                                      response=f"idle-{n}"))
    assert reply.status == 200, reply
    [answer] = bot.fake.wait_for(f"response:idle-{n}", timeout=30)
    assert str(answer.params["text"]).startswith(IWC_ANSWER)
    summary = f"recorded past idle clients {n}"
    reply = in_time("a form", lambda: bot.submit(progress_form(key, summary,
                                                                view_id=f"VI{n}")))
    assert (reply.status, reply.body) == (200, ""), reply
    bot.fake.wait(lambda: summary in told_recorded(bot.fake), 10, "the confirmation")


def closed_by_server(client: socket.socket, since: float, within: float) -> bytes:
    """What the server sent before it closed `client`, which it must do `within` seconds
    of `since` (with a margin for a loaded machine)."""
    client.settimeout(max(since + within + MARGIN - time.monotonic(), 0.1))
    received = b""
    try:
        while chunk := client.recv(4096):
            received += chunk
    except TimeoutError as error:
        raise AssertionError(f"still open {within + MARGIN}s on, having sent us {received!r}"
                             ) from error
    except ConnectionResetError:
        pass
    return received


def test_beyond_the_connection_cap_the_oldest_idle_connection_makes_way(
        sqlite_url: str, tmp_path: Path) -> None:
    """With as many idle connections as gunicorn's `worker_connections` (1,000), each
    accepted at once (none waits for its SYN to be sent again: the listen backlog is
    gunicorn's, not asyncio's 100), a new one closes the oldest of them before its own
    deadline: a flood of idle connections cannot keep Slack's out."""
    cap = 1000  # gunicorn's default worker_connections
    _allow_open_files(cap + 200)
    seeded(sqlite_url, 1)
    fake = FakeSlack().start()
    try:
        with serving(sqlite_url, fake, tmp_path / "serve.log") as bot, ExitStack() as stack:
            bot.wait_healthy()
            first = time.monotonic()
            idle, slowest = [], 0.0
            for n in range(cap):  # each kind of STALLS in turn, a promised body first
                started = time.monotonic()
                client = stack.enter_context(socket.create_connection(("127.0.0.1",
                                                                       bot.port)))
                client.sendall(list(STALLS.values())[n % len(STALLS)])
                idle.append(client)
                slowest = max(slowest, time.monotonic() - started)
            assert slowest < 1, f"a connection waited {slowest:.1f}s: its SYN was dropped"
            reply = in_time("a question", lambda: bot.command("status of IWC JWP",
                                                              response="capped"))
            assert reply.status == 200, reply
            oldest = idle[0]  # closed before its deadline, without the 408 that would bring
            oldest.settimeout(max(first + min(HEADERS_WITHIN, BODY_WITHIN) - time.monotonic(),
                                  0.01))
            try:
                assert oldest.recv(1) == b""
            except TimeoutError as error:
                raise AssertionError("the oldest idle connection is still open") from error
            [answer] = fake.wait_for("response:capped", timeout=30)
            assert str(answer.params["text"]).startswith(IWC_ANSWER)
    finally:
        fake.stop()


def _allow_open_files(count: int) -> None:
    """Raise this process's limit on open files (inherited by the server) to `count`, or
    skip when the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= count:
        return
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"{count} open files are needed; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))

"""Running the bot: over HTTP behind gunicorn, over Socket Mode, or in a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.socket_mode import SocketModeHandler

from cmsbot.bootstrap import Container
from cmsbot.settings import ConfigurationError, Settings
from cmsbot.slack import console
from cmsbot.slack.answering import ProcessLazyListenerRunner
from cmsbot.slack.app import LazyContainer, build_app, web_app
from cmsbot.slack.auth import Editors
from cmsbot.slack.bot import Bot
from cmsbot.slack.front import THREADS, Front, Pool, Worker

# Bolt runs each listener on a thread of its own while the request's thread waits for the
# acknowledgement; a listener keeps its thread after it (posting a confirmation). Enough of
# them that a listener never waits for one.
LISTENER_THREADS = 4 * THREADS


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn, configured here rather than from its own command line. Each worker
    builds its own app (its threads do not survive a fork), and starts its own answer
    process; when it exits, it lets the work in hand finish, then stops that process."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings, self.options = settings, options
        self._front: Front | None = None
        self._answers: ProcessLazyListenerRunner | None = None
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("worker_exit", self._worker_exit)
        # gunicorn 25 opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl),
        # which every `cmsbot serve` on the machine would share; the platform, not
        # gunicornc, manages this process.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def _worker_exit(self, server: Any, worker: Any) -> None:
        if self._front is not None:
            self._front.close()  # confirmations being posted are sent first
        if self._answers is not None:
            self._answers.close()

    def load(self) -> Any:
        container = LazyContainer(self.settings)
        listeners = Pool(LISTENER_THREADS, "cmsbot-listeners")
        app = build_app(container, self.settings, listener_executor=listeners)
        # Answers run in a process of their own, so that no acknowledgement waits for one.
        answers = self._answers = ProcessLazyListenerRunner(self.settings)
        app.listener_runner.lazy_listener_runner = answers
        answers.warm()
        self._front = Front(web_app(app, container), listeners=listeners)
        return self._front


def serve(settings: Settings, *, port: int | None = None, workers: int | None = None) -> int:
    """HTTP on $PORT: /slack/events for Slack, /healthz for the platform."""
    build_app(LazyContainer(settings), settings)  # refuse a bad configuration before forking
    options: dict[str, Any] = {
        "bind": f"0.0.0.0:{port or settings.port}",
        # Idle and slow clients cost a coroutine each, not a thread: see cmsbot.slack.front.
        "worker_class": Worker, "asgi_lifespan": "off",
        # Slack waits 3 seconds for an answer; a stuck worker is restarted long after. A
        # stopping worker has 25 s to finish what it accepted (platforms commonly kill
        # 30 s after SIGTERM).
        "timeout": 30, "graceful_timeout": 25, "accesslog": "-",
    }
    workers = workers or default_workers()
    if workers:
        options["workers"] = workers  # otherwise gunicorn reads WEB_CONCURRENCY
    _Gunicorn(settings, options).run()
    return 0


def default_workers() -> int | None:
    """The workers `cmsbot serve` runs when not told: None when WEB_CONCURRENCY says (the
    platform's setting, which gunicorn reads), else one for each CPU this process may run
    on. Each worker's answers run in an answer process of its own (`answering`), one CPU's
    worth at most, so one worker would leave the other CPUs idle under load: on 2 CPUs,
    two workers answered 0.84-0.98 times as many questions a second as the question
    engine alone, one worker 0.63-0.68 (docs/performance.md)."""
    if os.environ.get("WEB_CONCURRENCY"):
        return None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def socket_handler(settings: Settings,
                   container: Container | Callable[[], Container] | None = None,
                   listener_executor: Executor | None = None) -> SocketModeHandler:
    """The Socket Mode connection: it asks `apps.connections.open` (at SLACK_API_URL)
    for the websocket's address, then takes Slack's requests over it."""
    if not settings.slack_app_token:
        raise ConfigurationError("set SLACK_APP_TOKEN (an app-level xapp- token with "
                                 "connections:write) for Socket Mode")
    app = build_app(container or LazyContainer(settings), settings, socket_mode=True,
                    listener_executor=listener_executor)
    return SocketModeHandler(app, settings.slack_app_token)


def socket(settings: Settings) -> int:
    """Socket Mode: Slack's requests over a websocket this process opens."""
    socket_handler(settings).start()  # type: ignore[no-untyped-call]
    return 0


def chat(settings: Settings, question: str | None,
         asking: console.Asking | None = None) -> int:
    """The console: one question, or a conversation on standard input, at the times (and
    in the form) `asking` says."""
    asking = asking or console.Asking()
    container = LazyContainer(settings)
    bot = Bot(container, Editors(None, settings.editors, None))
    try:
        if question:
            console.converse(bot, [question], sys.stdout, asking)
            return 0
        if sys.stdin.isatty():
            print(console.INTRO)
        console.converse(bot, _prompted(), sys.stdout, asking)
        return 0
    finally:
        container.close()


def _prompted() -> Any:
    while True:
        try:
            yield input("> " if sys.stdin.isatty() else "")
        except EOFError:
            return

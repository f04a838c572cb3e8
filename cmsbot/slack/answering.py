"""Answers in a process of their own, below the acknowledgements in priority.

Slack wants every request acknowledged within 3 seconds, and the answer may follow. An
answer is Python work (the question engine, then Block Kit); run on a thread of the process
that acknowledges, it holds the interpreter lock the acknowledgements need, so a burst of
questions made every acknowledgement wait behind the answers. Under `cmsbot serve`, Bolt's
lazy listeners (the answers) therefore run in a process beside each HTTP worker, at a lower
scheduling priority, with its own Bolt app and container: the HTTP worker verifies,
acknowledges and queues the request, and the answers get whatever CPU is left.

One answer process per worker keeps the worker's behaviour towards Slack (auth.test asked
once, on the first answer, then kept). Within it a few threads take the queued answers in
turn (`ANSWER_THREADS`), so that an answer's post to Slack does not hold up the next one.
An answer process uses one CPU at most (its answers are Python work, one thread at a
time): the answers get more CPUs from more workers, one a CPU unless WEB_CONCURRENCY says
otherwise (`cmsbot.slack.server.default_workers`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.util.utils import get_name_for_callable
from slack_sdk.webhook import WebhookClient

from cmsbot.settings import Settings

log = logging.getLogger(__name__)

NICENESS = 5  # the answers yield the CPU to the acknowledgements, without starving
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as `cmsbot` logs
STOP_WAIT = 5.0  # seconds for the answer being worked on to finish when the server stops
# Answers waiting for the answer process beyond which a question is told to come back
# (at the 20 to 60 answers a second measured, up to a minute's wait), rather than queued
# without bound.
MAX_WAITING = 1_000
BUSY = ("I have a great many questions to answer just now and could not answer yours in "
        "good time. Please ask again in a minute.")
# Answers under way at once. An answer is mostly Python work, which one thread does at a
# time; but each ends by posting to Slack (its response_url), a round trip over the
# network during which another thread can answer the next question.
ANSWER_THREADS = 8
# Threads that tell askers past the backlog to come back. Bolt starts a lazy listener on
# the thread that then acknowledges the request, so a notice posted there held the
# acknowledgement for the post's round trip, up to its 3 s timeout: as long as Slack
# waits for the acknowledgement itself.
NOTICE_THREADS = 4
# Notices waiting for those threads beyond which one is dropped (and logged): a Slack that
# cannot be reached must not make them pile up in memory.
MAX_NOTICES = 200
_LAZY_ONLY = "x-slack-bolt-lazy-only"
_LAZY_NAME = "x-slack-bolt-lazy-function-name"

Job = tuple[str, dict[str, Sequence[str]], dict[str, Sequence[str]], str]


class ProcessLazyListenerRunner(LazyListenerRunner):
    """Queues each lazy listener run for the answer process: the request's raw body and
    headers go over, and that process's own app runs the listener of that name on them.
    Queueing never blocks the acknowledgement; a process that dies is replaced."""

    def __init__(self, settings: Settings) -> None:
        self.logger = log
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")  # the worker has threads
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._notices = ThreadPoolExecutor(NOTICE_THREADS, thread_name_prefix="cmsbot-busy")
        self._notice_slots = threading.BoundedSemaphore(MAX_NOTICES)
        self._jobs: Queue[Job | None] | None = None
        self._stopping: Event | None = None
        self._closed = False

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        name = request.lazy_function_name or get_name_for_callable(function)
        job: Job = (request.raw_body, dict(request.query), dict(request.headers), name)
        with self._lock:
            if self._closed:
                log.warning("%s was not run: the server is stopping", name)
                return
            jobs = self._jobs or self._spawn()
            waiting = _waiting(jobs)
            if waiting < MAX_WAITING:
                jobs.put(job)
                return
            # An answer behind this many would come too late to be of use: say so at once,
            # and acknowledge without waiting for the saying (under the lock, so that
            # `close` cannot shut the notices' threads between the two).
            told = self._notice_slots.acquire(blocking=False)
            if told:
                self._notices.submit(_say_busy, request).add_done_callback(
                    lambda _: self._notice_slots.release())
        log.warning("%s was not run: %d answers are waiting already%s", name, waiting,
                    "" if told else f", nor its asker told ({MAX_NOTICES} notices waiting)")

    def warm(self) -> None:
        """Start the answer process now (it reads the store once), not on the first
        question."""
        with self._lock:
            if self._jobs is None and not self._closed:
                self._spawn()

    def close(self) -> None:
        """Let the answer being worked on finish; those still queued are not run (a
        server that is stopping cannot wait for a backlog)."""
        with self._lock:
            self._closed = True
            process, jobs, stopping = self._process, self._jobs, self._stopping
        # Notices still waiting are dropped, as the answers are; those being posted end
        # within their post's timeout.
        self._notices.shutdown(wait=False, cancel_futures=True)
        if process is None or jobs is None or stopping is None:
            return
        stopping.set()
        jobs.put(None)
        process.join(STOP_WAIT)
        if process.is_alive():
            process.terminate()
            process.join()
        jobs.cancel_join_thread()  # what is still buffered here is dropped with us
        jobs.close()

    def _spawn(self) -> Queue[Job | None]:
        """Start an answer process with a queue of its own (called holding the lock)."""
        jobs: Queue[Job | None] = self._context.Queue()
        stopping = self._context.Event()
        process = self._context.Process(
            target=_serve, name="cmsbot-answers", daemon=True,
            args=(self.settings, os.getpid(), logging.getLogger().level, jobs, stopping))
        process.start()
        self._process, self._jobs, self._stopping = process, jobs, stopping
        threading.Thread(target=self._watch, args=(process,), daemon=True).start()
        return jobs

    def _watch(self, process: BaseProcess) -> None:
        process.join()
        with self._lock:
            if self._closed or self._process is not process:
                return
            log.error("the answer process stopped (exit code %s); the answers queued for it "
                      "are lost, and another is started", process.exitcode)
            self._process = self._jobs = self._stopping = None
        time.sleep(1)  # not in a tight loop, if it cannot start at all
        self.warm()


def _waiting(jobs: Queue[Job | None]) -> int:
    try:
        return jobs.qsize()
    except NotImplementedError:  # macOS has no sem_getvalue: no bound there
        return 0


def _say_busy(request: BoltRequest) -> None:
    """Tell the asker, through the request's response_url when it has one (a slash
    command, a button); an event (a mention) has none, and is only logged."""
    body = request.body if isinstance(request.body, dict) else {}
    url = body.get("response_url")
    if not isinstance(url, str) or not url:
        return
    try:
        WebhookClient(url, timeout=3).send(text=BUSY, response_type="ephemeral")
    except Exception:  # the asker is told if Slack can be reached at all
        log.warning("could not tell the asker that the answers are busy", exc_info=True)


# In the answer process ------------------------------------------------------------------

_app: App | None = None


def _serve(settings: Settings, parent: int, level: int, jobs: Queue[Job | None],
           stopping: Event) -> None:
    """The answer process: set up, then run the queued listeners on `ANSWER_THREADS`
    threads, each taking the next."""
    _start(settings, parent, level)
    dropped: list[int] = []
    threads = [threading.Thread(target=_answer, args=(jobs, stopping, dropped),
                                name=f"cmsbot-answer-{n}") for n in range(ANSWER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if dropped:
        log.warning("%d queued answers were not run: the server stopped first", len(dropped))


def _answer(jobs: Queue[Job | None], stopping: Event, dropped: list[int]) -> None:
    """Run queued listeners until told to stop (None), then tell the next thread."""
    while (job := jobs.get()) is not None:
        if stopping.is_set():
            dropped.append(1)
            continue
        try:
            _run(*job)
        except Exception:  # one failed answer must not stop the others
            log.exception("%s failed in the answer process", job[3])
    jobs.put(None)


def _start(settings: Settings, parent: int, level: int) -> None:
    """Log as the command line set up the parent (secrets hidden), lower the priority,
    build the app, and read the store once."""
    global _app
    from cmsbot import redaction
    from cmsbot.slack.app import LazyContainer, build_app

    logging.basicConfig(level=level, format=LOG_FORMAT)
    redaction.install(settings)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    with contextlib.suppress(OSError):  # if not allowed, answers run at the same priority
        os.nice(NICENESS)
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()

    container = LazyContainer(settings)
    # The HTTP worker verified each request's signature before queueing it, and an answer
    # may start after the signature's five minutes: no second check here.
    _app = build_app(container, settings, socket_mode=True)
    try:  # the name index, which the first question would otherwise wait for
        store = container()
        with store.engine.connect() as conn:
            store.readmodel.index(conn)
    except Exception:  # a store that does not answer yet is said by each answer
        log.warning("the answer process could not read the store yet", exc_info=True)


def _orphaned(parent: int) -> None:
    """Exit when the HTTP worker is gone (killed, it cannot stop us)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _run(body: str, query: dict[str, Sequence[str]], headers: dict[str, Sequence[str]],
         name: str) -> None:
    if _app is None:
        raise RuntimeError("the answer process has no app")
    wired: dict[str, Any] = {**headers, _LAZY_ONLY: ["1"], _LAZY_NAME: [name]}
    _app.dispatch(BoltRequest(body=body, query=query, headers=wired))

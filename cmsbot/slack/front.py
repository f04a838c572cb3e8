"""The HTTP edge of `cmsbot serve`: each request is read whole before a thread is given to it.

A server that gives a connection a thread before its request has arrived can be starved by
clients that connect and send nothing, or promise a body and never send it: each holds a
thread until it gives up. Here gunicorn's asyncio worker holds each connection as a
coroutine, and `Front` (an ASGI app) reads the request's body in the event loop, within
BODY_WITHIN seconds and MAX_BODY bytes, before it runs the WSGI app (the guard, Bolt and
/healthz) on it on one of THREADS threads. An idle client costs a coroutine and a socket,
not a thread.

gunicorn's asgi worker (as of 27) sets no deadline for a connection's first request and
does not enforce `worker_connections`. `Worker` adds both: a connection that has not sent
its request line and headers within HEADERS_WITHIN seconds is closed (later requests on a
kept-alive connection are bounded by gunicorn's `keepalive`), and when there are more than
`worker_connections` connections, the oldest one whose request has not arrived whole is
closed: a flood of slow clients makes way for Slack's, whose requests arrive at once.

When the worker is told to stop (SIGTERM), gunicorn stops accepting connections and waits
for those it has to finish: each request it accepted is read, answered and closed as usual,
since every wait on the way is bounded. `Front.close` then waits, up to STOP_WITHIN
seconds, for the listeners still at work after their acknowledgement (a record's
confirmation being posted), so that the process does not end between a record and its
confirmation.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi

from cmsbot.slack.guard import DRAIN_LIMIT, MAX_BODY

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

THREADS = 8  # requests run at once; idle clients hold none of them
HEADERS_WITHIN = 5.0  # seconds for a new connection's request line and headers
BODY_WITHIN = 5.0  # seconds for a request's body, once its headers are in
# A request that waits longer than this for a thread is refused 503 without being run:
# Slack stops waiting after 3 seconds, and a record made after that is one its editor was
# told had failed.
QUEUE_WITHIN = 2.0
STOP_WITHIN = 10.0  # seconds for the work in hand to finish when the worker stops

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

P = ParamSpec("P")
T = TypeVar("T")


class Pool(ThreadPoolExecutor):
    """A thread pool that can be waited on, for a time, to finish what it was given."""

    def __init__(self, threads: int, name: str) -> None:
        super().__init__(threads, thread_name_prefix=name)
        self._idle = threading.Condition()
        self._busy = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._idle:
            self._busy += 1
        try:
            return super().submit(self._counted, fn, *args, **kwargs)
        except RuntimeError:  # shut down: nothing was queued
            self._done()
            raise

    def _counted(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def finish(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for everything submitted to be done, then take no
        more; whether it was all done."""
        with self._idle:
            done = self._idle.wait_for(lambda: self._busy == 0, timeout)
        self.shutdown(wait=False)
        return done


@dataclass(frozen=True)
class Refused:
    """A request answered by the front itself, without running the app."""

    status: HTTPStatus
    reason: str


class Front:
    """ASGI in front of a WSGI app: the body read in full (or refused) in the event loop,
    then the app run on it on a pool of `threads` threads. `listeners` is the pool Bolt
    runs its listeners on, waited for by `close`."""

    def __init__(self, app: WSGIApplication, *, listeners: Pool | None = None,
                 threads: int = THREADS) -> None:
        self.app = app
        self.listeners = listeners
        self._pool = Pool(threads, "cmsbot-http")
        self._free = asyncio.Semaphore(threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # gunicorn's lifespan protocol is off, and nothing here speaks websocket
        body = await read_body(scope, receive)
        if body is None:
            return  # the client went away: nothing to answer
        if isinstance(body, Refused):
            await refuse(scope, send, body)
            return
        try:
            await asyncio.wait_for(self._free.acquire(), QUEUE_WITHIN)
        except TimeoutError:
            await refuse(scope, send, Refused(HTTPStatus.SERVICE_UNAVAILABLE,
                                              "too busy to take the request in time; "
                                              "nothing was done"))
            return
        loop = asyncio.get_running_loop()
        job = self._pool.submit(self._run, wsgi_environ(scope, body))
        # The thread is given back when the app returns, even when this request's task
        # is cancelled first (its client went away): a thread cannot be stopped.
        job.add_done_callback(lambda _: _soon(loop, self._free.release))
        status, headers, content = await asyncio.wrap_future(job)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _run(self, environ: WSGIEnvironment) -> Answer:
        """The WSGI app's answer to one request, whole (run on a thread of the pool)."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], object]:
            started[:] = [status, headers]
            return chunks.append

        result: Iterable[bytes] = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return (int(status.split(" ", 1)[0]),
                [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                b"".join(chunks))

    def close(self) -> None:
        """Let the requests and listeners at work finish, for up to STOP_WITHIN seconds in
        all; called when the worker exits, after gunicorn has closed every connection."""
        deadline = STOP_WITHIN
        for name, pool in (("requests", self._pool), ("listeners", self.listeners)):
            if pool is None:
                continue
            started = time.monotonic()
            if not pool.finish(deadline):
                log.warning("stopping with %s still at work after %.0f s", name, STOP_WITHIN)
            deadline = max(deadline - (time.monotonic() - started), 0.0)


def _soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    # A closed loop means the worker is exiting: nothing waits for a thread any more.
    with suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)


async def read_body(scope: Scope, receive: Receive) -> bytes | Refused | None:
    """The request's body; or why it is refused (over MAX_BODY, or not all there within
    BODY_WITHIN seconds); or None when the client went away. A declared length over
    DRAIN_LIMIT is refused unread; smaller bodies over MAX_BODY are read and dropped, so
    that the client, still sending, hears the answer."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > DRAIN_LIMIT:
        return Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    kept: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_WITHIN):
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return None  # http.disconnect
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > DRAIN_LIMIT:
                    return Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   "request body too large")
                if size <= MAX_BODY:
                    kept.append(chunk)
                more = bool(message.get("more_body", False))
    except TimeoutError:
        return Refused(HTTPStatus.REQUEST_TIMEOUT, "the request body did not arrive in time")
    if size > MAX_BODY:
        return Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    return b"".join(kept)


async def refuse(scope: Scope, send: Send, refused: Refused) -> None:
    log.warning("refused a request to %.100r: %d %s", scope.get("path"),
                refused.status.value, refused.reason)
    body = json.dumps({"error": refused.reason}).encode()
    await send({"type": "http.response.start", "status": refused.status.value,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


def wsgi_environ(scope: Scope, body: bytes) -> WSGIEnvironment:
    """The WSGI environ (PEP 3333) of an ASGI HTTP request whose body is `body`."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": str(scope.get("root_path", "")).encode().decode("latin-1"),
        "PATH_INFO": str(scope["path"]).encode().decode("latin-1"),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper()
        if "_" in name:
            continue  # X_Slack_Signature would pass for X-Slack-Signature: dropped
        value = raw_value.decode("latin-1")
        if name == "CONTENT-LENGTH":
            continue  # the body's own length, above
        key = "CONTENT_TYPE" if name == "CONTENT-TYPE" else "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


# The worker -------------------------------------------------------------------------------

class Worker(gasgi.ASGIWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's asyncio worker, whose connections have a deadline for their first request
    and are capped at `worker_connections` (see the module's docstring)."""

    def init_process(self) -> None:
        # Connections that have not yet sent a whole request, oldest first.
        self.incomplete: dict[_Connection, None] = {}
        self._backlog_set = False
        # gasgi makes each connection's protocol from this module-level name and has no
        # setting for another; this process runs only this worker.
        gasgi.ASGIProtocol = _Connection
        super().init_process()

    def notify(self) -> None:
        super().notify()
        if not self._backlog_set:
            # asyncio's create_server listens again with a backlog of 100: a burst of
            # connections beyond that has its SYNs dropped, and each waits a second or
            # more to connect. gunicorn's `backlog` (2048) is set back here, at the first
            # call, once the servers run.
            for listener in self.sockets:
                listener.sock.listen(self.cfg.backlog)
            self._backlog_set = True


class _Connection(ASGIProtocol):  # type: ignore[misc]  # gunicorn is untyped
    """A connection that is closed when it has not sent its first request line and headers
    within HEADERS_WITHIN seconds, or when the worker has more connections than it may and
    this is the oldest of those that have not yet sent a whole request. A request that has
    arrived whole is never dropped for a newer connection; one still arriving may be, as a
    client that is slow to send makes way for one that is not."""

    _due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        worker = self.worker
        self._due = worker.loop.call_later(HEADERS_WITHIN, self._shed)
        worker.incomplete[self] = None
        if worker.nr_conns > worker.worker_connections:
            next(iter(worker.incomplete))._shed()

    def _on_headers_complete(self) -> Any:
        self._stop_clock()
        return super()._on_headers_complete()

    def _on_message_complete(self) -> Any:
        self.worker.incomplete.pop(self, None)
        return super()._on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self.worker.incomplete.pop(self, None)
        super().connection_lost(exc)

    def _stop_clock(self) -> None:
        if self._due is not None:
            self._due.cancel()
            self._due = None

    def _shed(self) -> None:
        self._stop_clock()
        self.worker.incomplete.pop(self, None)
        log.debug("closed a connection whose request did not arrive in time")
        self._close_transport()
        if self._request_ready is not None:
            self._request_ready.set()  # the connection's loop wakes, sees it closed, ends

"""The Slack app's factory, and the web app that serves it with /healthz.

Nothing here runs at import time: `build_app` makes a Bolt app from a container (or a way to
get one) and the settings, and `web_app` wraps it for a WSGI server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from cmsbot.bootstrap import Container, bootstrap
from cmsbot.db import StoreMissingError
from cmsbot.settings import ConfigurationError, Settings
from cmsbot.slack import forms, listeners
from cmsbot.slack.auth import Editors
from cmsbot.slack.bot import STORE_DOWN, STORE_ERRORS, Bot
from cmsbot.slack.guard import SlackRequestGuard

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class LazyContainer:
    """Bootstraps the container on first use, and again after a failure, so that the
    server starts (and /healthz tells) while the store is down.

    On PostgreSQL each use first asks the server when it started (`server_started`): a
    server that is down is said at once, not after the event store's ten attempts of five
    seconds; and after it restarted the container is built afresh, so that no request waits
    for the event store's pool to find, one by one with growing pauses, that its
    connections are dead. On SQLite each use first asks whether the path still names the
    file that was opened (`store_moved`): once it was deleted, moved or replaced, the
    container is built afresh from the path, which fails while there is no store there, so
    that nothing is read from or written to a file nobody will see again."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._container: Container | None = None
        self._started: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Container:
        with self._lock:
            if self._container is None:
                self._container, self._started = self._bootstrap()
                return self._container
            container, started = self._container, self._started
        if self.settings.database.is_sqlite:
            if not container.store_moved():
                return container
            change = "the store's file was deleted, moved or replaced: opening it afresh"
        elif container.server_started() == started:
            return container
        else:
            change = "the database server restarted: connecting afresh"
        # The old container is let go, not closed: another thread may be using one of its
        # connections this moment (the record it settles, a Home tab it publishes), and
        # closing a SQLite connection under a running statement kills the worker. It is
        # closed when its last user lets it go; a write through it in the meantime is
        # refused by the store file's own check after the write.
        with self._lock:
            if self._container is container:  # the first to see the change renews
                log.warning(change)
                self._container = None
            if self._container is None:
                self._container, self._started = self._bootstrap()
            return self._container

    def _bootstrap(self) -> tuple[Container, Any]:
        container = bootstrap(self.settings)
        try:
            container.store_fault()  # SQLite's quick_check at start; /healthz repeats it
            return container, container.server_started()
        except BaseException:
            container.close()
            raise

    def close(self) -> None:
        with self._lock:
            if self._container is not None:
                self._container.close()
                self._container = None


def build_app(container: Container | Callable[[], Container], settings: Settings, *,
              socket_mode: bool = False, listener_executor: Executor | None = None) -> App:
    """The Bolt app: every listener registered, its Web API client at SLACK_API_URL.

    Over HTTP every request's signature is checked (a 5-minute window, a constant-time
    compare); Socket Mode needs none, as Slack's own connection carries the requests."""
    if not settings.slack_bot_token:
        raise ConfigurationError("set SLACK_BOT_TOKEN (the bot's xoxb- token)")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigurationError("set SLACK_SIGNING_SECRET (Basic Information > App "
                                 "Credentials) so that requests can be verified")
    provider = _fixed(container) if isinstance(container, Container) else container
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    app = App(client=client, signing_secret=settings.slack_signing_secret or "",
              token_verification_enabled=False,
              request_verification_enabled=not socket_mode,
              listener_executor=listener_executor, name="cmsbot",
              # An event or action nothing here listens for goes to `_polite`, which
              # acknowledges it: a 404 would count as a failed delivery, and be retried.
              raise_error_for_unhandled_request=True)
    # A rejected request's body carries Slack's legacy verification token: keep it out of
    # the logs (Bolt logs it at INFO).
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    bot = Bot(provider, Editors(client, settings.editors, settings.editor_group))
    app.use(_kept_ack)
    app.use(_once(bot))
    listeners.register(app, bot)
    app.error(_polite)
    return app


def _fixed(container: Container) -> Callable[[], Container]:
    return lambda: container


class _KeptAck(Ack):
    """Bolt's `ack`, except that an acknowledgement once given stays given. When a listener
    fails after `ack()`, Bolt's thread runner sets the response back to None; a request
    whose runner had not yet seen the acknowledgement then waited out its 3 seconds and got
    404 "unhandled request" instead of the answer it had been given."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "response" and value is None and getattr(self, "response", None) is not None:
            return
        super().__setattr__(name, value)


def _kept_ack(request: BoltRequest, next_: Callable[[], None]) -> None:
    request.context["ack"] = _KeptAck()  # type: ignore[no-untyped-call]  # Bolt is untyped here
    next_()


def _once(bot: Bot) -> Callable[..., BoltResponse | None]:
    """A global middleware (after signature verification) that lets each event through
    once: a re-delivered event_id is acknowledged and dropped."""

    def once(body: dict[str, Any], request: BoltRequest,
             next_: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not request.lazy_only:  # a lazy listener's run is the same delivery
            retry = request.headers.get("x-slack-retry-num", ["0"])[0]
            reason = request.headers.get("x-slack-retry-reason", [""])[0]
            if not bot.first_delivery(f"event:{event_id}",
                                      retry_num=int(retry) if retry.isdigit() else 0,
                                      retry_reason=reason or None):
                return BoltResponse(status=200, body="")
        next_()
        return None

    return once


SORRY = ("Sorry, something went wrong on my side. Please try again in a minute; if it "
         "keeps happening, tell the Secretariat's developers.")


def _polite(error: Exception, body: dict[str, Any], request: BoltRequest,
            response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's error handler, for an exception in a listener or a middleware: logged with
    its traceback, and the person told in words instead of a 500 (an event that met a
    store outage gets 503, so that Slack delivers it again later). A request no listener
    takes (an event or action the app does not handle) is acknowledged with 200 and
    ignored."""
    if isinstance(error, BoltUnhandledRequestError):
        log.debug("ignored a request no listener takes: %s", body.get("type"))
        if body.get("type") == "block_suggestion":
            return BoltResponse(status=200, body={"options": []})
        return BoltResponse(status=200, body="")
    log.error("a Slack request failed: %s", type(error).__name__, exc_info=error)
    if response is None:
        return None  # acknowledged already, and sent: that answer stands
    acknowledged = request.context.ack.response
    if acknowledged is not None:
        return acknowledged  # the listener answered before it failed: that answer stands
    down = isinstance(error, STORE_ERRORS)
    text = STORE_DOWN if down else SORRY
    kind = body.get("type")
    if "command" in body:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if kind == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update",
                                              "view": forms.refusal_view(text)})
    if kind == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    if kind == "event_callback" and down:
        return BoltResponse(status=503, body="")
    return BoltResponse(status=200, body="")


def health(container: Callable[[], Container]) -> tuple[bool, dict[str, Any]]:
    """Whether the store answers and may be written: the log's head and how far the views
    have read it. A SQLite store's file that is missing, replaced, read-only or damaged
    (by a quick_check at most `storefile.CHECK_EVERY` seconds old) is unhealthy, and says
    which; no path or URL is shown."""
    try:
        store = container()
        fault = store.store_fault()
        if fault is not None:
            return False, {"ok": False, "store": fault.state, "problem": fault.detail}
        head = store.tracker.head()
        position = store.projector.position()
    except StoreMissingError as error:
        return False, {"ok": False, "store": "missing", "error": type(error).__name__}
    except STORE_ERRORS as error:
        return False, {"ok": False, "store": "does not answer", "error": type(error).__name__}
    return True, {"ok": True, "store": "answers", "events": head, "views_at": position}


def web_app(app: App, container: Callable[[], Container]) -> WSGIApplication:
    """Slack's requests at /slack/events, and GET /healthz (200 or 503) for the platform.

    What Bolt would trip over (a 500) is answered 4xx before it: see `cmsbot.slack.guard`."""
    # The guard checks signatures with the secret the app itself verifies with.
    slack = SlackRequestGuard(app, EVENTS_PATH, app._signing_secret)

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in (
                "GET", "HEAD"):
            ok, detail = health(container)
            return _respond(start_response, "200 OK" if ok else "503 Service Unavailable",
                            detail)
        return slack(environ, start_response)

    return serve


def _respond(start_response: StartResponse, status: str,
             detail: dict[str, Any]) -> list[bytes]:
    body = json.dumps(detail).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]

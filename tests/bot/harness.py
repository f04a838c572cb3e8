"""The bot served over real HTTP on loopback, and Slack's payloads to send it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from cmsbot.bootstrap import Container
from cmsbot.settings import Settings
from cmsbot.slack.app import build_app, web_app

from .fakes import TEAM, FakeSlack, sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EDITOR = "UEDITOR"
READER = "UREADER"
CHANNEL = "C0PARTNERS"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Reply:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class BotServer:
    """The Bolt app behind a real WSGI server on an ephemeral port."""

    url: str
    app: App
    container: Container
    fake: FakeSlack
    settings: Settings
    executor: ThreadPoolExecutor

    def post(self, body: str, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, signed: bool = True,
             headers: dict[str, str] | None = None, path: str = "/slack/events") -> Reply:
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = {"Content-Type": content_type, **(headers or {})}
        if signed:
            sent["X-Slack-Request-Timestamp"] = str(stamp)
            sent["X-Slack-Signature"] = signature or sign(SECRET, stamp, body)
        return http("POST", self.url + path.lstrip("/"), body, sent)

    def get(self, path: str) -> Reply:
        return http("GET", self.url + path.lstrip("/"))

    def command(self, text: str, *, user: str = EDITOR, response: str = "1",
                **options: Any) -> Reply:
        return self.post(urlencode(command_form(text, user=user,
                                                response_url=self.fake.response_url(response))),
                         "application/x-www-form-urlencoded", **options)

    def event(self, event: dict[str, Any], *, event_id: str = "Ev001",
              **options: Any) -> Reply:
        return self.post(json.dumps(event_envelope(event, event_id)), "application/json",
                         **options)

    def interact(self, payload: dict[str, Any], **options: Any) -> Reply:
        return self.post(urlencode({"payload": json.dumps(payload)}),
                         "application/x-www-form-urlencoded", **options)

    def drain(self) -> None:
        """Wait until every lazy listener has finished (no more calls can come)."""
        self.executor.shutdown(wait=True)


def http(method: str, url: str, body: str | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    """One request over a fresh loopback connection."""
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    started = time.monotonic()
    try:
        connection.request(method, parts.path or "/", body=body.encode() if body else None,
                           headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.read().decode(), time.monotonic() - started)
    finally:
        connection.close()


@contextmanager
def serving(container: Container, fake: FakeSlack, **overrides: Any) -> Iterator[BotServer]:
    values: dict[str, Any] = {
        "database": container.settings.database, "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET, "slack_api_url": fake.api_url,
        "editors": frozenset({EDITOR}), **overrides}
    settings = Settings(**values)
    executor = ThreadPoolExecutor(max_workers=4)
    app = build_app(container, settings, listener_executor=executor)
    server = make_server("127.0.0.1", 0, web_app(app, lambda: container),
                         server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield BotServer(f"http://127.0.0.1:{server.server_port}/", app, container, fake,
                        settings, executor)
    finally:
        server.shutdown()
        server.server_close()
        executor.shutdown(wait=True)


# Slack's payloads -----------------------------------------------------------------------

def command_form(text: str, *, user: str, response_url: str) -> dict[str, str]:
    return {"token": "legacy", "team_id": TEAM, "team_domain": "cms", "channel_id": CHANNEL,
            "channel_name": "partners", "user_id": user, "user_name": user.lower(),
            "command": "/cms", "text": text, "api_app_id": "A0CMSBOT",
            "response_url": response_url, "trigger_id": "1.2.trigger"}


def event_envelope(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "A0CMSBOT", "event": event,
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]}


def mention(text: str, *, ts: str = "1700000000.000100", user: str = READER) -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts,
            "channel": CHANNEL, "event_ts": ts}


def direct_message(text: str, *, ts: str = "1700000001.000100", user: str = READER,
                   **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts,
            "channel": "D0READER", "event_ts": ts, **extra}


def block_action(action: dict[str, Any], *, user: str = READER, response_url: str,
                 view: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "cms"},
        "user": {"id": user, "team_id": TEAM}, "api_app_id": "A0CMSBOT",
        "token": "legacy", "trigger_id": "1.2.trigger", "actions": [action],
        "response_url": response_url, "container": {"type": "message"},
        "channel": {"id": CHANNEL}}
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        del payload["response_url"]
    return payload


def view_submission(view: dict[str, Any], *, user: str) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "cms"},
            "user": {"id": user, "team_id": TEAM}, "api_app_id": "A0CMSBOT",
            "token": "legacy", "trigger_id": "1.2.trigger", "view": view}


def message_shortcut(*, user: str, text: str, ts: str, response_url: str) -> dict[str, Any]:
    return {"type": "message_action", "callback_id": "record_update", "token": "legacy",
            "team": {"id": TEAM, "domain": "cms"}, "user": {"id": user, "team_id": TEAM},
            "channel": {"id": CHANNEL, "name": "partners"}, "message_ts": ts,
            "message": {"type": "message", "user": READER, "text": text, "ts": ts},
            "trigger_id": "1.2.trigger", "response_url": response_url}


PAYLOADS = Path(__file__).with_name("payloads")


def payload(name: str) -> dict[str, Any]:
    """Bolt's own test payload `name` (tests/bot/payloads), as a fresh dict."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


CMSBOT = str(Path(sys.executable).with_name("cmsbot"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cmsbot_serve(database_url: str, fake: FakeSlack, log: Path, *,
                 timeout: float = 30) -> Iterator[str]:
    """`cmsbot serve` (gunicorn) in its own process on a free port, its output in `log`,
    until it says it is healthy; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "CMSBOT_DATABASE_URL": database_url,
           "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "CMSBOT_EDITORS": EDITOR, "PORT": str(port)}
    with log.open("wb") as output:
        process = subprocess.Popen([CMSBOT, "serve"], env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if http("GET", url + "healthz").status == 200:
                    break
            except ConnectionError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "cmsbot serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

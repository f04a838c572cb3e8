"""Stand-ins for Slack on loopback: its Web API (recording every call), and signing."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = "UBOT"
TEAM = "T0CMS"


@dataclass(frozen=True)
class Call:
    """One request the bot made: a Web API method, or a post to a response_url."""

    method: str
    params: dict[str, Any]
    token: str | None


def sign(secret: str, timestamp: int | str, body: str) -> str:
    """Slack's v0 signature, written from its documentation (not from the SDK)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature(secret: str, stamp: str, body: bytes) -> str:
    """Slack's v0 signature over bytes (the body may not be text)."""
    base = b"v0:" + stamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class FakeSlack:
    """Slack's Web API on 127.0.0.1: answers like Slack and keeps every call in order.

    Web API methods live under /api/<method>; anything posted to /response/<id> is a
    response_url call, recorded as method "response:<id>"."""

    group_members: list[str] = field(default_factory=list)
    socket_url: str | None = None
    calls: list[Call] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    _lock: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}response/{name}"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                    for name, value in params.items():
                        if value[:1] in "[{":  # the SDK form-encodes blocks as JSON
                            params[name] = json.loads(value)
                auth = self.headers.get("Authorization")
                token = auth.removeprefix("Bearer ") if auth else params.get("token")
                if self.path.startswith("/response/"):
                    method = "response:" + self.path.removeprefix("/response/")
                else:
                    method = self.path.removeprefix("/api/")
                reply = fake.record(Call(method, params, token))
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def record(self, call: Call) -> dict[str, Any]:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        return self.reply(call)

    def reply(self, call: Call) -> dict[str, Any]:
        method = call.method
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM,
                    "user": "cmsbot", "team": "CMS", "url": "https://cms.example/"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": call.params.get("channel"),
                    "ts": f"{time.time():.6f}", "message": {"text": call.params.get("text")}}
        if method in ("views.open", "views.update"):
            return {"ok": True, "view": {"id": "V0FORM", "hash": "h1",
                                         **call.params.get("view", {})}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V0HOME", **call.params.get("view", {})}}
        if method == "conversations.open":  # the bot's direct conversation with a person
            return {"ok": True, "channel": {"id": f"D{call.params.get('users', '')}"}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.group_members}
        if method == "usergroups.list":
            return {"ok": True, "usergroups": [{"id": "S0EDITORS", "handle": "cms-editors"}]}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method.startswith("response:"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls of `method` once there are `count` of them; fails after `timeout`."""
        self.wait(lambda: len(self.of(method)) >= count, timeout,
                  f"{count} call(s) of {method}")
        return self.of(method)

    def wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout}s; calls: "
                                         f"{[c.method for c in self.calls]}")
                self._lock.wait(left)

    @property
    def posts(self) -> list[Call]:
        """Everything that reached a channel or a person."""
        with self._lock:
            return [c for c in self.calls if c.method in ("chat.postMessage",
                    "chat.postEphemeral", "views.open", "views.update")
                    or c.method.startswith("response:")]

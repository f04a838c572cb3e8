"""Slack's Web API on loopback for the acknowledgement benchmark: it takes what `cmsbot
serve` posts (answers to response_urls, chat.postMessage) and counts it, so that the bot
under measurement talks to something that answers like Slack without leaving the machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cmsbot.slack.answering import BUSY


class FakeSlackAPI:
    """Web API methods under /api/<method>; posts to /response/<id> are response_url calls,
    counted as "response"."""

    def __init__(self, *, delay: float = 0.0) -> None:
        """`delay`: seconds each reply waits, as a round trip to Slack over the internet
        takes (none: loopback)."""
        self.counts: Counter[str] = Counter()
        self._responded: set[str] = set()  # the response_urls posted to, by name
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                name = None
                if self.path.startswith("/response/"):
                    # An asker told to come back (the answers' backlog was full) was not
                    # answered.
                    method = "busy" if BUSY.encode() in data else "response"
                    name = self.path.removeprefix("/response/")
                else:
                    method = self.path.removeprefix("/api/")
                if delay:
                    time.sleep(delay)
                body = json.dumps(fake.reply(method)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                fake.count(method, name)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def response_url(self, name: str) -> str:
        return self.api_url.removesuffix("api/") + f"response/{name}"

    def __enter__(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def reply(method: str) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0CMS"}
        if method == "chat.postMessage":
            return {"ok": True, "ts": f"{time.time():.6f}"}
        return {"ok": True}

    def count(self, method: str, name: str | None = None) -> None:
        with self._changed:
            self.counts[method] += 1
            if name is not None:
                self._responded.add(name)
            self._changed.notify_all()

    def wait_responded(self, name: str, timeout: float) -> bool:
        """Wait until the bot has posted to the response_url named `name` (an answer, or
        the asker told to come back)."""
        with self._changed:
            return self._changed.wait_for(lambda: name in self._responded, timeout)

    def answered(self) -> int:
        """How many answers the bot has posted (response_urls and messages)."""
        with self._changed:
            return self.counts["response"] + self.counts["chat.postMessage"]

    def wait_answered(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.counts["response"] + self.counts["chat.postMessage"] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

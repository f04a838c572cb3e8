"""Socket Mode against a local websocket server playing Slack's part: the bot asks the fake
Web API for the socket's address, acknowledges each envelope, and answers once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from cmsbot.bootstrap import Container
from cmsbot.settings import Settings
from cmsbot.slack.server import socket_handler

from .fakes import FakeSlack
from .harness import CHANNEL, READER, command_form, event_envelope, mention


class SlackSocket:
    """Slack's end of the websocket: says hello, sends envelopes, collects the acks."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.acks: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.server: Server | None = None

    def handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0CMSBOT"}}))
        for envelope in self.envelopes:
            connection.send(json.dumps(envelope))
        try:
            for message in connection:
                with self.changed:
                    self.acks.append(json.loads(message))
                    self.changed.notify_all()
        except ConnectionClosed:
            return

    def wait_for_acks(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.acks) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.acks)} of {count} envelopes acknowledged"
                self.changed.wait(left)
            return list(self.acks)

    @contextmanager
    def running(self) -> Iterator[str]:
        with serve(self.handle, "127.0.0.1", 0) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
            finally:
                server.shutdown()
                thread.join(timeout=5)


def test_socket_mode_answers_a_mention_once_and_a_slash_command(
        store: Container, fake: FakeSlack) -> None:
    event = event_envelope(mention("status of IWC JWP", ts="1700000000.000700"), "EvSOCK")
    command = command_form("history of the CITES JWP", user=READER,
                           response_url=fake.response_url("sock"))
    slack = SlackSocket([
        {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
         "retry_attempt": 0, "retry_reason": "", "payload": event},
        {"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": False,
         "retry_attempt": 1, "retry_reason": "timeout", "payload": event},
        {"envelope_id": "env-3", "type": "slash_commands", "accepts_response_payload": True,
         "payload": command},
    ])
    executor = ThreadPoolExecutor(max_workers=4)
    with slack.running() as url:
        fake.socket_url = url
        settings = Settings(database=store.settings.database, slack_bot_token="xoxb-test",
                            slack_app_token="xapp-test", slack_api_url=fake.api_url)
        handler = socket_handler(settings, store, listener_executor=executor)
        # Connecting waits on the server's handshake: bound it, so a fault fails the test.
        connecting = threading.Thread(target=handler.connect, daemon=True)
        connecting.start()
        connecting.join(timeout=10)
        try:
            assert not connecting.is_alive(), "no Socket Mode connection within 10s"
            acks = slack.wait_for_acks(3)
            [post] = fake.wait_for("chat.postMessage")
            [answer] = fake.wait_for("response:sock")
            executor.shutdown(wait=True)
        finally:
            handler.close()  # type: ignore[no-untyped-call]
    [opened] = fake.of("apps.connections.open")
    assert opened.token == "xapp-test"
    assert sorted(a["envelope_id"] for a in acks) == ["env-1", "env-2", "env-3"]
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == "1700000000.000700"
    assert "IWC–CMS Joint Work Plan" in json.dumps(post.params["blocks"], ensure_ascii=False)
    assert len(fake.of("chat.postMessage")) == 1  # the retried envelope was not answered
    assert answer.params["text"].startswith("History of CITES–CMS Joint Work Plan")

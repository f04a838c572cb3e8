"""Sends the change notices the projector queued: one thread per item and channel.

The projector writes each notice once (with its log position, in one transaction); this
sender posts what is unsent, oldest first, and marks it sent. A crash between Slack
accepting a message and the mark means that one notice is sent again on restart:
chat.postMessage cannot be made idempotent, so delivery is at least once, never lost.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import Engine, insert, select, update

from projections import tables as t
from projections.writing import writing

log = logging.getLogger(__name__)


class ThreadPoster(Protocol):
    def __call__(self, *, channel: str, text: str, thread_ts: str | None = None) -> str: ...


class NoticeSender:
    def __init__(self, engine: Engine, post: ThreadPoster, *, batch: int = 100) -> None:
        self.engine, self.post, self.batch = engine, post, batch

    def send_pending(self) -> int:
        """Post every queued notice; returns how many were sent."""
        sent = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(t.notice_outbox).where(
                    t.notice_outbox.c.sent_ts.is_(None)).order_by(
                    t.notice_outbox.c.position, t.notice_outbox.c.channel).limit(self.batch)
                ).all()
            if not rows:
                return sent
            for row in rows:
                thread = self._thread(row.channel, row.item_id, row.title)
                ts = self.post(channel=row.channel, text=row.text, thread_ts=thread)
                with writing(self.engine) as conn:
                    conn.execute(update(t.notice_outbox).where(
                        (t.notice_outbox.c.position == row.position)
                        & (t.notice_outbox.c.channel == row.channel)).values(sent_ts=ts))
                sent += 1

    def _thread(self, channel: str, item_id: str, title: str) -> str:
        threads = t.notice_threads.c
        with self.engine.connect() as conn:
            found = conn.execute(select(threads.thread_ts).where(
                (threads.channel == channel) & (threads.item_id == item_id))).scalar()
        if found:
            return str(found)
        ts = self.post(channel=channel, text=f"Updates on *{title}* (each one in this thread)")
        with writing(self.engine) as conn:
            conn.execute(insert(t.notice_threads).values(channel=channel, item_id=item_id,
                                                         thread_ts=ts))
        return ts

"""Words and sends the change notices the projector queued: one thread per item and
channel.

The projector writes each notice once, as plain facts (its event's log position, the
channel, the item and its title), in one transaction with its position; this sender words
each one from the activity row of its event, posts what is unsent, oldest first, and marks
it sent. A crash between Slack accepting a message and the mark means that one notice is
sent again on restart: chat.postMessage cannot be made idempotent, so delivery is at least
once, never lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update

from domain.dates import PartialDate
from domain.provenance import Source
from projections import queries as q
from projections import tables as t
from projections.writing import writing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """A notice owed to a channel, worded."""

    position: int
    channel: str
    item_id: str
    title: str  # the item's, when its event was applied
    text: str


def notice_text(summary: str, occurred: dict[str, Any], source: dict[str, Any]) -> str:
    """A notice's words, from its event's activity row: what happened, when, and where
    it is written."""
    return (f"{summary} ({PartialDate.from_dict(occurred)}) — "
            f"{Source.from_dict(source).cite()}")


def unsent(engine: Engine, limit: int = 100) -> list[Notice]:
    """The oldest notices not yet sent, worded."""
    with engine.connect() as conn:
        rows = q.unsent_notices(conn, limit)
    return [Notice(row.position, row.channel, row.item_id, row.title,
                   notice_text(row.summary, row.occurred, row.source)) for row in rows]


class ThreadPoster(Protocol):
    def __call__(self, *, channel: str, text: str, thread_ts: str | None = None) -> str: ...


class NoticeSender:
    def __init__(self, engine: Engine, post: ThreadPoster, *, batch: int = 100) -> None:
        self.engine, self.post, self.batch = engine, post, batch

    def send_pending(self) -> int:
        """Post every queued notice; returns how many were sent."""
        sent = 0
        while True:
            notices = unsent(self.engine, self.batch)
            if not notices:
                return sent
            for notice in notices:
                thread = self._thread(notice.channel, notice.item_id, notice.title)
                ts = self.post(channel=notice.channel, text=notice.text, thread_ts=thread)
                with writing(self.engine) as conn:
                    conn.execute(update(t.notice_outbox).where(
                        (t.notice_outbox.c.position == notice.position)
                        & (t.notice_outbox.c.channel == notice.channel)).values(sent_ts=ts))
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

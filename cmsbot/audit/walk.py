"""Reading the whole log in order, a page at a time, recomputing the chain as it goes.

Every audit command reads through here, so a million events never need a million events
of memory: a page is read, handed on and dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from cmsbot.audit.chain import content, digest_of, link
from cmsbot.audit.tables import GENESIS
from cmsbot.eventstore.tracker import Tracker

PAGE = 1000


@dataclass(frozen=True)
class Entry:
    """One event of the log, where it stands, and the chain up to it."""

    position: int  # counted from 1 in log order
    log_id: int  # the store's own id for it
    stored: Notification
    content: dict[str, Any]  # what the chain hashes (see chain.content)
    digest: str
    hash: str
    event: Any  # the domain event, or None when not decoded

    @property
    def topic(self) -> str:
        return self.stored.topic


def walk(tracker: Tracker, *, decode: bool = True, page: int = PAGE,
         stop_position: int | None = None) -> Iterator[Entry]:
    """The log's events in order, each with its position and recomputed chain hash."""
    after, position, previous = 0, 0, GENESIS
    mapper = tracker.mapper
    while True:
        notifications = tracker.recorder.select_notifications(
            start=after, limit=page, inclusive_of_start=False)
        for notification in notifications:
            position += 1
            if stop_position is not None and position > stop_position:
                return
            value = content(notification, mapper)
            digest = digest_of(value)
            previous = link(previous, position, digest)
            event = mapper.to_domain_event(notification) if decode else None
            yield Entry(position, notification.id, notification, value, digest, previous,
                        event)
        if len(notifications) < page:
            return
        after = notifications[-1].id

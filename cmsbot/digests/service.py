"""Subscribing channels, and posting each digest exactly once."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from cmsbot.app.auth import NotAuthorizedError, Principal
from cmsbot.app.recording import retrying
from cmsbot.digests.content import DigestContent
from cmsbot.digests.schedule import Period, zone
from cmsbot.eventstore.tracker import Tracker
from cmsbot.readmodel.reader import ReadModel
from cmsbot.readmodel.resolve import resolve
from domain.channels import Channel, Digest, Schedule, channel_id, digest_id
from domain.errors import UnknownItemError
from projections import queries as q

log = logging.getLogger(__name__)
T = TypeVar("T")
STALE_CLAIM = timedelta(minutes=10)


class Poster(Protocol):
    """Where digests go: Slack's chat.postMessage, or a fake in tests."""

    def __call__(self, *, channel: str, text: str, blocks: list[dict[str, Any]]) -> str: ...


class Subscriptions:
    """Channels' subscriptions and follows, recorded as events with who changed them."""

    def __init__(self, tracker: Tracker, reader: ReadModel) -> None:
        self.tracker, self.reader = tracker, reader

    def _change(self, channel: str, actor: str, command: Callable[[Channel], T]) -> T:
        """Load (or start) the channel's record, run the command, save; retried when
        another request changed the same channel first."""
        def attempt() -> T:
            try:
                record: Channel = self.tracker.get(channel_id(channel))
            except AggregateNotFoundError:
                record = Channel.register(channel=channel, actor=actor)
            result = command(record)
            self.tracker.save(record)
            return result
        return retrying(attempt)

    @staticmethod
    def _authorize(principal: Principal, in_channel: bool) -> None:
        if not (in_channel or principal.may_record):
            raise NotAuthorizedError(
                "Only editors may change the subscriptions of a channel they are not in.")

    def subscribe(self, principal: Principal, channel: str, schedule: Schedule, *,
                  in_channel: bool) -> bool:
        self._authorize(principal, in_channel)
        zone(schedule)  # an unknown time zone is refused before anything is recorded
        return self._change(channel, principal.id,
                            lambda record: record.subscribe(schedule, actor=principal.id))

    def unsubscribe(self, principal: Principal, channel: str, *, in_channel: bool) -> None:
        self._authorize(principal, in_channel)
        self._change(channel, principal.id,
                     lambda record: record.unsubscribe(actor=principal.id))

    def follow(self, principal: Principal, channel: str, target: str, *, in_channel: bool,
               ) -> tuple[str, str, str]:
        """Follow an item or a partner named in words; returns (kind, key, label)."""
        self._authorize(principal, in_channel)
        kind, key, label = self.target(target)
        self._change(channel, principal.id,
                     lambda record: record.follow(kind, key, actor=principal.id))
        return kind, key, label

    def unfollow(self, principal: Principal, channel: str, target: str, *, in_channel: bool,
                 ) -> tuple[str, str, str]:
        self._authorize(principal, in_channel)
        kind, key, label = self.target(target)
        self._change(channel, principal.id,
                     lambda record: record.unfollow(kind, key, actor=principal.id))
        return kind, key, label

    def target(self, words: str) -> tuple[str, str, str]:
        """("partner" or "item", key, label) for what the words name."""
        with self.reader.engine.connect() as conn:
            index = self.reader.index(conn)
        partners = index.only_partners(words)
        if partners:
            return "partner", partners[0].key, partners[0].label
        found = resolve(index, words)
        if found.winner is None:
            raise UnknownItemError(f"I couldn't find one item or partner called “{words}”")
        return "item", found.winner.key, found.winner.title

    def listing(self, channel: str) -> tuple[Schedule | None, list[tuple[str, str]]]:
        with self.reader.engine.connect() as conn:
            row = q.subscription(conn, channel)
            follows = [(f.target_kind, f.target_key) for f in q.follows(conn, channel)]
        return (schedule_of(row) if row else None), follows


def schedule_of(row: Any) -> Schedule:
    return Schedule(row.frequency, row.weekday, row.at, row.timezone, row.filter_kind,
                    row.filter_value)


@dataclass
class DigestPoster:
    """Posts a channel's digest for a period once: claim, post, confirm.

    The claim is the creation of the (channel, period) digest aggregate; a second clock
    fails to create it and backs off. A claim never confirmed (its clock died before
    posting) is taken over after ten minutes. If a clock dies after Slack accepted the
    message but before confirming, the next clock posts again: Slack offers no way to make
    chat.postMessage idempotent, so that one window is at-least-once.
    """

    tracker: Tracker
    build: Callable[[str, Period, Schedule | None], DigestContent]
    post: Poster
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    name: str = f"{socket.gethostname()}:{os.getpid()}"

    def post_once(self, channel: str, period: Period, schedule: Schedule | None) -> str | None:
        """Post and return the message ts, or None when another clock has it or had it."""
        digest = self._claim(channel, period.key)
        if digest is None:
            return None
        content = self.build(channel, period, schedule)
        ts = self.post(channel=channel, text=content.text(), blocks=content.blocks())
        digest.confirm(message_ts=ts, head=content.head)
        self.tracker.save(digest)
        log.info("posted the %s digest to %s", period.key, channel)
        return ts

    def _claim(self, channel: str, period: str) -> Digest | None:
        try:
            existing: Digest = self.tracker.repository.get(digest_id(channel, period))
        except AggregateNotFoundError:
            digest = Digest.claim(channel=channel, period=period, claimed_by=self.name)
        else:
            if existing.posted or self.now() - existing.claimed_at < STALE_CLAIM:
                return None
            existing.reclaim(claimed_by=self.name)
            digest = existing
        try:
            self.tracker.save(digest)
        except IntegrityError:
            return None  # another clock claimed it first
        return digest

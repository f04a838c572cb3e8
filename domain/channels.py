"""Channels: their digest subscriptions and the items they follow; and each digest posted.

Subscriptions are recorded like everything else, with who changed them. A digest for a
(channel, period) is an aggregate of its own: creating it is the claim that makes posting
exactly-once, because two processes cannot both create version 1 of the same aggregate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.errors import DomainError, InvalidFieldError
from domain.events import InSequence
from domain.items import NAMESPACE
from domain.text import TextChecked

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FILTER_KINDS = ("partner", "kind", "item")


class NotSubscribedError(DomainError):
    """The channel has no subscription to change or end."""


class NotFollowingError(DomainError):
    """The channel does not follow that item or partner."""


class DigestAlreadyPostedError(DomainError):
    """A digest for this channel and period was posted already."""


@dataclass(frozen=True)
class Schedule:
    """When and what a channel's digest covers."""

    frequency: str = "weekly"
    weekday: str = "mon"
    at: str = "09:00"
    timezone: str = "UTC"
    filter_kind: str | None = None
    filter_value: str | None = None

    def __post_init__(self) -> None:
        if self.frequency not in ("weekly", "daily"):
            raise InvalidFieldError(f"a digest is weekly or daily, not {self.frequency!r}")
        if self.weekday not in WEEKDAYS:
            raise InvalidFieldError(f"a weekday is one of {', '.join(WEEKDAYS)}, "
                                    f"not {self.weekday!r}")
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", self.at)
        if not match:
            raise InvalidFieldError(f"a time is HH:MM, not {self.at!r}")
        if (self.filter_kind is None) != (self.filter_value is None):
            raise InvalidFieldError("a filter needs both what it filters on and a value")
        if self.filter_kind is not None and self.filter_kind not in FILTER_KINDS:
            raise InvalidFieldError(f"a filter is on a partner, a kind or an item, "
                                    f"not {self.filter_kind!r}")

    @property
    def hour(self) -> int:
        return int(self.at.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.at.split(":")[1])

    def describe(self) -> str:
        when = (f"every {self.weekday.title()} at {self.at}" if self.frequency == "weekly"
                else f"every day at {self.at}")
        what = f"{self.filter_kind} {self.filter_value}" if self.filter_kind else "everything"
        return f"{self.frequency} digest {when} ({self.timezone}), covering {what}"

    def to_dict(self) -> dict[str, Any]:
        return {"frequency": self.frequency, "weekday": self.weekday, "at": self.at,
                "timezone": self.timezone, "filter_kind": self.filter_kind,
                "filter_value": self.filter_value}


class _Applied:
    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)


class ChannelRegistered(_Applied, Aggregate.Created):
    TOPIC: ClassVar[str] = "cmsbot.ChannelRegistered"
    channel: str
    actor: str


class ChannelSubscribed(InSequence, _Applied, Aggregate.Event):
    """A channel asked for a digest (or changed what it asked for)."""

    TOPIC: ClassVar[str] = "cmsbot.ChannelSubscribed"
    schedule: dict[str, Any]
    actor: str


class ChannelUnsubscribed(InSequence, _Applied, Aggregate.Event):
    TOPIC: ClassVar[str] = "cmsbot.ChannelUnsubscribed"
    actor: str


class ChannelFollowed(InSequence, _Applied, Aggregate.Event):
    """A channel wants a threaded notice whenever something is recorded on a target."""

    TOPIC: ClassVar[str] = "cmsbot.ChannelFollowed"
    target_kind: str  # "item" or "partner"
    target_key: str
    actor: str


class ChannelUnfollowed(InSequence, _Applied, Aggregate.Event):
    TOPIC: ClassVar[str] = "cmsbot.ChannelUnfollowed"
    target_kind: str
    target_key: str
    actor: str


class DigestClaimed(_Applied, Aggregate.Created):
    """A clock took on posting the digest for a channel and period."""

    TOPIC: ClassVar[str] = "cmsbot.DigestClaimed"
    channel: str
    period: str
    claimed_by: str


class DigestReclaimed(InSequence, _Applied, Aggregate.Event):
    """A claim was left unconfirmed too long (its clock died); another clock takes it."""

    TOPIC: ClassVar[str] = "cmsbot.DigestReclaimed"
    claimed_by: str


class DigestPosted(InSequence, _Applied, Aggregate.Event):
    TOPIC: ClassVar[str] = "cmsbot.DigestPosted"
    message_ts: str
    head: str | None


def channel_id(channel: str) -> UUID:
    return uuid5(NAMESPACE, f"channel:{channel}")


def digest_id(channel: str, period: str) -> UUID:
    return uuid5(NAMESPACE, f"digest:{channel}:{period}")


class Channel(TextChecked):
    """A Slack channel's standing requests."""

    TOPIC = "cmsbot.Channel"
    if TYPE_CHECKING:
        channel: str
        schedule: Schedule | None
        follows: set[tuple[str, str]]

    @classmethod
    def register(cls, *, channel: str, actor: str) -> Channel:
        return cls._create(ChannelRegistered, id=channel_id(channel), channel=channel,
                           actor=actor)

    def when(self, event: Any) -> None:
        if isinstance(event, ChannelRegistered):
            self.channel, self.schedule, self.follows = event.channel, None, set()
        elif isinstance(event, ChannelSubscribed):
            self.schedule = Schedule(**event.schedule)
        elif isinstance(event, ChannelUnsubscribed):
            self.schedule = None
        elif isinstance(event, ChannelFollowed):
            self.follows.add((event.target_kind, event.target_key))
        elif isinstance(event, ChannelUnfollowed):
            self.follows.discard((event.target_kind, event.target_key))

    def audit_names(self) -> tuple[str, str]:
        """How errors name the channel, and the key that audit commands take."""
        return f"channel {self.channel}", str(self.id)

    def subscribe(self, schedule: Schedule, *, actor: str) -> bool:
        """Subscribe, or change the subscription; False when nothing changes."""
        if self.schedule == schedule:
            return False
        self.trigger_event(ChannelSubscribed, schedule=schedule.to_dict(), actor=actor)
        return True

    def unsubscribe(self, *, actor: str) -> None:
        if self.schedule is None:
            raise NotSubscribedError("this channel has no digest subscription")
        self.trigger_event(ChannelUnsubscribed, actor=actor)

    def follow(self, target_kind: str, target_key: str, *, actor: str) -> bool:
        if (target_kind, target_key) in self.follows:
            return False
        self.trigger_event(ChannelFollowed, target_kind=target_kind, target_key=target_key,
                           actor=actor)
        return True

    def unfollow(self, target_kind: str, target_key: str, *, actor: str) -> None:
        if (target_kind, target_key) not in self.follows:
            raise NotFollowingError(f"this channel does not follow {target_key}")
        self.trigger_event(ChannelUnfollowed, target_kind=target_kind, target_key=target_key,
                           actor=actor)


class Digest(TextChecked):
    """One digest for one channel and period: claimed, then posted."""

    TOPIC = "cmsbot.Digest"
    if TYPE_CHECKING:
        channel: str
        period: str
        claimed_by: str
        claimed_at: datetime
        message_ts: str | None

    @classmethod
    def claim(cls, *, channel: str, period: str, claimed_by: str) -> Digest:
        return cls._create(DigestClaimed, id=digest_id(channel, period), channel=channel,
                           period=period, claimed_by=claimed_by)

    def when(self, event: Any) -> None:
        if isinstance(event, DigestClaimed):
            self.channel, self.period = event.channel, event.period
            self.claimed_by, self.claimed_at, self.message_ts = (
                event.claimed_by, event.timestamp, None)
        elif isinstance(event, DigestReclaimed):
            self.claimed_by, self.claimed_at = event.claimed_by, event.timestamp
        elif isinstance(event, DigestPosted):
            self.message_ts = event.message_ts

    def audit_names(self) -> tuple[str, str]:
        """How errors name the digest, and the key that audit commands take."""
        return f"the {self.period} digest of channel {self.channel}", str(self.id)

    @property
    def posted(self) -> bool:
        return self.message_ts is not None

    def reclaim(self, *, claimed_by: str) -> None:
        if self.posted:
            raise DigestAlreadyPostedError(f"the {self.period} digest was posted already")
        self.trigger_event(DigestReclaimed, claimed_by=claimed_by)

    def confirm(self, *, message_ts: str, head: str | None = None) -> None:
        if self.posted:
            raise DigestAlreadyPostedError(f"the {self.period} digest was posted already")
        self.trigger_event(DigestPosted, message_ts=message_ts, head=head)


for _cls in (ChannelRegistered, ChannelSubscribed, ChannelUnsubscribed, ChannelFollowed,
             ChannelUnfollowed, DigestClaimed, DigestReclaimed, DigestPosted):
    register_topic(_cls.TOPIC, _cls)

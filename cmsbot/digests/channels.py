"""A channel's `/cms` verbs, one application call each: subscribe, unsubscribe, follow,
unfollow, and the listing of what it gets.

A change is recorded (with who asked) and then, as every writer does, the views and the
audit chain are brought up to date, so that the next listing shows it. The listing only
reads: it says how far the views lag the log instead of catching them up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from cmsbot.app.auth import Principal
from cmsbot.db import STORE_ERRORS
from cmsbot.digests.service import Subscriptions
from domain.channels import Schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """What a channel gets: its digest's schedule (None: no digest), what it follows as
    (kind, key) pairs, and how many events of the log the views had not applied."""

    schedule: Schedule | None
    follows: list[tuple[str, str]]
    views_behind: int = 0


class ChannelCommands:
    """The verbs of `/cms` that change or list what a channel gets."""

    def __init__(self, subscriptions: Subscriptions, *, after_writing: Callable[[], object],
                 views_behind: Callable[[], int]) -> None:
        self.subscriptions = subscriptions
        self._after_writing, self._views_behind = after_writing, views_behind

    def subscribe(self, principal: Principal, channel: str, schedule: Schedule, *,
                  in_channel: bool) -> tuple[Schedule, bool]:
        """Subscribe the channel; returns the schedule as recorded (a bare filter resolved
        to a partner if one is called so, else an item) and whether anything changed."""
        if schedule.filter_kind == "partner":
            kind, key, _ = self.subscriptions.target(schedule.filter_value or "")
            schedule = replace(schedule, filter_kind=kind, filter_value=key)
        changed = self.subscriptions.subscribe(principal, channel, schedule,
                                               in_channel=in_channel)
        self._written()
        return schedule, changed

    def unsubscribe(self, principal: Principal, channel: str, *, in_channel: bool) -> None:
        self.subscriptions.unsubscribe(principal, channel, in_channel=in_channel)
        self._written()

    def follow(self, principal: Principal, channel: str, target: str, *,
               in_channel: bool) -> str:
        """Follow an item or partner named in words; returns its name."""
        _, _, label = self.subscriptions.follow(principal, channel, target,
                                                in_channel=in_channel)
        self._written()
        return label

    def unfollow(self, principal: Principal, channel: str, target: str, *,
                 in_channel: bool) -> str:
        _, _, label = self.subscriptions.unfollow(principal, channel, target,
                                                  in_channel=in_channel)
        self._written()
        return label

    def listing(self, channel: str) -> Listing:
        behind = self._views_behind()
        schedule, follows = self.subscriptions.listing(channel)
        return Listing(schedule, follows, behind)

    def _written(self) -> None:
        try:
            self._after_writing()
        except STORE_ERRORS as error:  # the change stands; the projector catches up
            log.error("recorded, but the views did not catch up: %s", type(error).__name__)

"""Putting the digest parts together from a container and the settings."""

from __future__ import annotations

from typing import Any, Protocol

from slack_sdk import WebClient

from cmsbot.audit.chain import ChainKeeper
from cmsbot.digests.content import DigestContent, build_digest
from cmsbot.digests.schedule import Period
from cmsbot.digests.service import DigestPoster, Poster
from cmsbot.eventstore.tracker import Tracker
from cmsbot.readmodel.reader import ReadModel
from cmsbot.settings import ConfigurationError, Settings
from domain.channels import Schedule


class DigestStore(Protocol):
    """What posting digests uses: the event store (each digest's claim is recorded), the
    read model that reads the period, the audit chain whose head a digest carries,
    the settings, and the catch-up that a writer runs."""

    settings: Settings
    tracker: Tracker
    readmodel: ReadModel
    chain: ChainKeeper

    def catch_up(self) -> int: ...


class SlackPoster:
    """Posts through Slack's Web API (at SLACK_API_URL)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.slack_bot_token:
            raise ConfigurationError("SLACK_BOT_TOKEN is needed to post digests")
        self.client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)

    def __call__(self, *, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
                 thread_ts: str | None = None) -> str:
        reply = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                             thread_ts=thread_ts)
        return str(reply["ts"])


def builder(container: DigestStore) -> Any:
    def build(channel: str, period: Period, schedule: Schedule | None) -> DigestContent:
        # The clock records each digest it posts (a writer): it brings the views and the
        # chain up to date first, so that the digest's chain head covers what it read.
        container.catch_up()
        return build_digest(container.readmodel, channel=channel, period=period.key,
                            start=period.start, end=period.end, schedule=schedule,
                            quiet_days=container.settings.quiet_days,
                            head=str(container.chain.head()))
    return build


def digest_poster(container: DigestStore, post: Poster) -> DigestPoster:
    return DigestPoster(container.tracker, builder(container), post)

"""Putting the digest parts together from a container and the settings."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from cmsbot.bootstrap import Container
from cmsbot.digests.content import DigestContent, build_digest
from cmsbot.digests.schedule import Period
from cmsbot.digests.service import DigestPoster, Poster
from cmsbot.settings import ConfigurationError, Settings
from domain.channels import Schedule


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


def builder(container: Container) -> Any:
    def build(channel: str, period: Period, schedule: Schedule | None) -> DigestContent:
        container.catch_up()  # so the chain head covers everything the digest read
        return build_digest(container.readmodel, channel=channel, period=period.key,
                            start=period.start, end=period.end, schedule=schedule,
                            quiet_days=container.settings.quiet_days,
                            head=str(container.chain.head()))
    return build


def digest_poster(container: Container, post: Poster) -> DigestPoster:
    return DigestPoster(container.tracker, builder(container), post)

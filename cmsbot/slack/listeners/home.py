"""The App Home tab: published when opened, and again by `publish_home` after its owner
records an update or changes what they follow; its "Record update" button (editors)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from cmsbot.slack import forms, home
from cmsbot.slack.bot import STORE_ERRORS, Bot

log = logging.getLogger(__name__)


def publish_home(bot: Bot, client: WebClient, user: str, channel: str | None = None) -> None:
    """Publish the person's Home tab; `channel`, their direct-message channel with cmsbot
    (whose follows are theirs), is asked of Slack when not known. A tab that cannot be
    published is logged: what the person did stands, and the tab is published again when
    they next open it."""
    try:
        if channel is None:
            channel = str(client.conversations_open(users=user)["channel"]["id"])
        client.views_publish(user_id=user, view=bot.home(user, channel))
    except (SlackApiError, SlackClientError, KeyError, TypeError) as error:
        log.warning("could not publish the Home tab of %s: %s", user, error)


def register(app: App, bot: Bot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab: a conversation, nothing to publish
        publish_home(bot, client, str(event.get("user") or ""), event.get("channel"))

    def record(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = (body.get("user") or {}).get("id", "")
        if not bot.may_record(user):
            return  # the button is shown to editors only; the form would refuse anyway
        try:
            view = bot.record_form(forms.Origin(team=(body.get("team") or {}).get("id", "")))
        except STORE_ERRORS:
            log.error("the record form could not be opened: the store did not answer")
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    app.event("app_home_opened")(ack=acknowledge, lazy=[opened])
    app.action(re.compile(rf"^{home.RECORD}:\d+$"))(record)

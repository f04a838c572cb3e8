"""The buttons the bot sends with its answers: a near tie's choices, "Show more" and
"Share in channel"."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from cmsbot.slack import blocks
from cmsbot.slack.bot import Bot

log = logging.getLogger(__name__)


def register(app: App, bot: Bot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def choose(action: dict[str, Any], respond: Respond) -> None:
        respond(**bot.follow(action.get("value") or "").as_kwargs(), replace_original=True)

    def more(body: dict[str, Any], action: dict[str, Any], respond: Respond,
             client: WebClient) -> None:
        # The next page goes in the answer's thread (a thread of its own for an answer at
        # top level); an answer only its asker sees gets its next page the same way.
        message = bot.follow(action.get("value") or "")
        where = body.get("container") or {}
        posted = body.get("message") or {}
        channel = where.get("channel_id") or (body.get("channel") or {}).get("id")
        thread = posted.get("thread_ts") or where.get("thread_ts") or where.get("message_ts")
        if not where.get("is_ephemeral") and channel and thread:
            try:
                client.chat_postMessage(channel=channel, thread_ts=thread,
                                        **message.as_kwargs())
                return
            except SlackApiError as error:  # e.g. a shared answer in a channel cmsbot is not in
                log.warning("Show more could not post in the thread: %s", error)
        respond(**message.as_kwargs(), replace_original=False, response_type="ephemeral")

    def share(action: dict[str, Any], respond: Respond) -> None:
        respond(**bot.follow(action.get("value") or "", share=True).as_kwargs(),
                response_type="in_channel", delete_original=True)

    app.action(re.compile(rf"^{blocks.CHOOSE}:\d+$"))(ack=acknowledge, lazy=[choose])
    app.action(re.compile(rf"^{blocks.MORE}:\d+$"))(ack=acknowledge, lazy=[more])
    app.action(re.compile(rf"^{blocks.SHARE}:\d+$"))(ack=acknowledge, lazy=[share])

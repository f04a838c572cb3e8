"""The buttons the bot sends with its answers: a near tie's choices, and "Share in channel"."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from cmsbot.slack import blocks
from cmsbot.slack.bot import Bot


def register(app: App, bot: Bot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def choose(action: dict[str, Any], respond: Respond) -> None:
        respond(**bot.follow(action.get("value") or "").as_kwargs(), replace_original=True)

    def share(action: dict[str, Any], respond: Respond) -> None:
        respond(**bot.follow(action.get("value") or "", share=True).as_kwargs(),
                response_type="in_channel", delete_original=True)

    app.action(re.compile(rf"^{blocks.CHOOSE}:\d+$"))(ack=acknowledge, lazy=[choose])
    app.action(re.compile(rf"^{blocks.SHARE}:\d+$"))(ack=acknowledge, lazy=[share])

"""Mentions in channels (answered in the thread) and direct messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Say

from cmsbot.slack.bot import Bot


def register(app: App, bot: Bot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def mentioned(event: dict[str, Any], say: Say) -> None:
        # A message can arrive as an app_mention and as a message event: answer it once.
        if not bot.first_delivery(f"message:{event.get('channel')}:{event.get('ts')}"):
            return
        say(**bot.ask(event.get("text") or "").as_kwargs(),
            thread_ts=event.get("thread_ts") or event.get("ts"))

    def direct(event: dict[str, Any], say: Say) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return  # our own replies, edits, joins: not questions
        if not bot.first_delivery(f"message:{event.get('channel')}:{event.get('ts')}"):
            return
        say(**bot.ask(event.get("text") or "").as_kwargs(), thread_ts=event.get("thread_ts"))

    def other(ack: Ack) -> None:
        ack()  # channel messages that do not mention the bot are not for it

    app.event("app_mention")(ack=acknowledge, lazy=[mentioned])
    app.event({"type": "message", "channel_type": "im"})(ack=acknowledge, lazy=[direct])
    app.event("message")(other)

"""Mentions in channels (answered in the thread) and direct messages; nothing else.

Bolt's event matcher compares only an event's `type` and `subtype`, so a listener for
`{"type": "message", "channel_type": "im"}` also gets every channel message: the
direct-message listener checks `channel_type` itself, so that whatever message events the
app is subscribed to, only direct messages and mentions are answered. Events nothing here
listens for are acknowledged (200) and ignored by the app's error handler."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Say

from cmsbot.slack.bot import Bot


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person's message in a direct conversation with the bot (not an edit, a join, or
    a bot's own message)."""
    return (event.get("channel_type") == "im" and not event.get("bot_id")
            and not event.get("subtype"))


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
        if not bot.first_delivery(f"message:{event.get('channel')}:{event.get('ts')}"):
            return
        say(**bot.ask(event.get("text") or "").as_kwargs(), thread_ts=event.get("thread_ts"))

    app.event("app_mention")(ack=acknowledge, lazy=[mentioned])
    app.event("message", matchers=[is_direct_message])(ack=acknowledge, lazy=[direct])

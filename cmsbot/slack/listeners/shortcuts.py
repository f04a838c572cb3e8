"""The message shortcut "Record update": the record form, citing the message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from cmsbot.slack import forms
from cmsbot.slack.bot import Bot
from cmsbot.slack.listeners.recording import open_record_form

RECORD_UPDATE = "record_update"


def register(app: App, bot: Bot) -> None:
    def open_form(ack: Ack, shortcut: dict[str, Any], respond: Respond,
                  client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        origin = forms.Origin(
            team=(shortcut.get("team") or {}).get("id", ""),
            channel=(shortcut.get("channel") or {}).get("id"),
            message_ts=message.get("ts") or shortcut.get("message_ts"),
            message_text=(message.get("text") or "")[:1000] or None)
        open_record_form(bot, shortcut["user"]["id"], origin, shortcut["trigger_id"], respond,
                         client)

    app.shortcut(RECORD_UPDATE)(open_form)

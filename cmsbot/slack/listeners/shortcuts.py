"""The message shortcut "Record update": the record form, citing the message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from cmsbot.slack import forms
from cmsbot.slack.bot import REFUSAL, STORE_DOWN_RECORDING, STORE_ERRORS, Bot

RECORD_UPDATE = "record_update"


def register(app: App, bot: Bot) -> None:
    def open_form(ack: Ack, shortcut: dict[str, Any], respond: Respond,
                  client: WebClient) -> None:
        ack()
        if not bot.may_record(shortcut["user"]["id"]):
            respond(text=REFUSAL, response_type="ephemeral")
            return
        message = shortcut.get("message") or {}
        origin = forms.Origin(
            team=(shortcut.get("team") or {}).get("id", ""),
            channel=(shortcut.get("channel") or {}).get("id"),
            message_ts=message.get("ts") or shortcut.get("message_ts"),
            message_text=(message.get("text") or "")[:1000] or None)
        try:
            view = bot.record_form(origin)  # it lists the items: the store must answer
        except STORE_ERRORS:
            respond(text=STORE_DOWN_RECORDING, response_type="ephemeral")
            return
        client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    app.shortcut(RECORD_UPDATE)(open_form)

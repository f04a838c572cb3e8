"""`/cms <question>`, `/cms help`, `/cms list`, `/cms record`, and the channel's digests and
follows."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from cmsbot.slack import forms
from cmsbot.slack.bot import Bot
from cmsbot.slack.listeners.home import publish_home
from cmsbot.slack.listeners.recording import open_record_form

COMMAND = "/cms"
CHANNEL_VERBS = ("subscribe", "unsubscribe", "subscriptions", "follow", "unfollow")


def register(app: App, bot: Bot) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()  # the answer follows by the command's response_url

    def answer(command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        verb = text.split(maxsplit=1)[0].lower() if text else "help"
        if verb == "record":
            open_form(command, respond, client)
        elif verb in CHANNEL_VERBS:
            rest = text.split(maxsplit=1)[1] if " " in text else ""
            channel = command.get("channel_id", "")
            respond(**bot.channel_command(verb, rest, user_id=command["user_id"],
                                          channel_id=channel).as_kwargs(),
                    response_type="ephemeral")
            if verb in ("follow", "unfollow") and channel.startswith("D"):
                # The follows of a person's conversation with cmsbot are on their Home tab.
                publish_home(bot, client, command["user_id"])
        elif verb == "help":
            respond(**bot.help().as_kwargs(), response_type="ephemeral")
        elif verb == "list":
            rest = text.split(maxsplit=1)[1] if " " in text else ""
            respond(**bot.list_items(rest).as_kwargs(), response_type="ephemeral")
        else:
            respond(**bot.ask(text, shareable=True).as_kwargs(), response_type="ephemeral")

    def open_form(command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        origin = forms.Origin(team=command.get("team_id", ""), channel=command.get("channel_id"))
        open_record_form(bot, command["user_id"], origin, command["trigger_id"], respond,
                         client)

    def other(ack: Ack) -> None:
        # A command the app was set up with in Slack but that nothing here answers.
        ack(text=f"I answer {COMMAND} only: try `{COMMAND} help`.", response_type="ephemeral")

    app.command(COMMAND)(ack=acknowledge, lazy=[answer])
    app.command(re.compile(r"^/"))(other)  # after COMMAND: Bolt tries listeners in order

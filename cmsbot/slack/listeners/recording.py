"""Opening the record form: shared by the `/cms record` command and the message shortcut."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from cmsbot.slack import forms
from cmsbot.slack.bot import REFUSAL, STORE_DOWN_RECORDING, STORE_ERRORS, Bot


def open_record_form(bot: Bot, user: str, origin: forms.Origin, trigger_id: str,
                     respond: Respond, client: WebClient) -> None:
    """Editors get the form; anyone else, or anyone while the store is down, gets a
    sentence saying why not."""
    if not bot.may_record(user):
        respond(text=REFUSAL, response_type="ephemeral")
        return
    try:
        view = bot.record_form(origin)  # it lists the items: the store must answer
    except STORE_ERRORS:
        respond(text=STORE_DOWN_RECORDING, response_type="ephemeral")
        return
    client.views_open(trigger_id=trigger_id, view=view)

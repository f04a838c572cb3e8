"""The record form: growing it as it is filled in, and its submission."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from cmsbot.slack import forms
from cmsbot.slack.bot import Bot
from cmsbot.slack.listeners.home import publish_home


def register(app: App, bot: Bot) -> None:
    def grow(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        client.views_update(view_id=view["id"], hash=view.get("hash"),
                            view=bot.grown_form(view))

    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any],
               client: WebClient) -> None:
        user = body["user"]["id"]
        outcome = bot.submit(user, view)  # authorized there, for every submission
        if outcome.refusal is not None:
            ack(response_action="update", view=forms.refusal_view(outcome.refusal))
        elif outcome.errors:
            ack(response_action="errors", errors=outcome.errors)
        else:
            ack()
            if bot.settle(outcome):
                client.chat_postMessage(channel=user, **outcome.confirmation().as_kwargs())
                publish_home(bot, client, user)  # what it shows may have changed

    def item_options(ack: Ack, payload: dict[str, Any]) -> None:
        ack(options=[forms.option(c) for c in bot.options(payload.get("value") or "")])

    app.action(forms.ITEM)(grow)
    app.action(forms.WHAT)(grow)
    app.view(forms.CALLBACK)(submit)
    app.options(forms.ITEM)(item_options)

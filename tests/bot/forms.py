"""Filling in the record form as Slack sends it back: the helpers tests of recording share."""

from __future__ import annotations

from typing import Any

from .fakes import FakeSlack
from .harness import EDITOR, BotServer, block_action


def fill(view: dict[str, Any], values: dict[str, Any], *, view_id: str = "V0FORM",
         ) -> dict[str, Any]:
    """The view as Slack sends it back: its id and hash, and the state of its inputs."""
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id")
        if block_id not in values:
            continue
        element = block["element"]
        value = values[block_id]
        kind = element["type"]
        entry: dict[str, Any]
        if kind in ("static_select", "external_select"):
            entry = {"selected_option": {"value": value, "text": {"type": "plain_text",
                                                                   "text": value}}}
        elif kind in ("multi_static_select", "checkboxes"):
            entry = {"selected_options": [{"value": v} for v in value]}
        else:
            entry = {"value": value}
        state[block_id] = {element["action_id"]: {"type": kind, **entry}}
    return {**view, "id": view_id, "hash": "h1", "state": {"values": state}}


def latest_view(fake: FakeSlack, method: str, count: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = fake.wait_for(method, count)[-1].params["view"]
    return view


def choose(bot: BotServer, view: dict[str, Any], block_id: str, value: str,
           filled: dict[str, Any]) -> None:
    filled[block_id] = value
    action = {"type": "static_select", "action_id": block_id, "block_id": block_id,
              "selected_option": {"value": value}}
    reply = bot.interact(block_action(action, user=EDITOR, response_url="",
                                      view=fill(view, filled)))
    assert reply.status == 200


def endorsement_form(bot: BotServer, fake: FakeSlack) -> dict[str, Any]:
    """Open the form with /cms record and choose the IWC JWP, then "endorsed"."""
    assert bot.command("record").status == 200
    opened = fake.wait_for("views.open")[0]
    assert opened.params["trigger_id"] == "1.2.trigger"
    view = opened.params["view"]
    filled: dict[str, Any] = {}
    choose(bot, view, "item", "iwc-jwp", filled)
    view = latest_view(fake, "views.update")
    whats = next(b for b in view["blocks"] if b["block_id"] == "what")
    assert "endorsed" in [o["value"] for o in whats["element"]["options"]]
    choose(bot, view, "what", "endorsed", filled)
    return latest_view(fake, "views.update", 2)


def endorsed_by_iwc66(view: dict[str, Any]) -> dict[str, Any]:
    return fill(view, {"item": "iwc-jwp", "what": "endorsed", "field:body:str": "IWC",
                       "field:meeting:str": "IWC66", "occurred": "24 October 2016",
                       "note": "IWC66 endorsed the plan in Portorož."})

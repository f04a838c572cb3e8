"""`cmsbot chat`: the bot in a terminal, through the same `Bot` and Block Kit as in Slack.

Each answer is printed as Slack would lay it out; a near tie's buttons and "Show more" are
numbered, and typing the number clicks the button.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TextIO

from cmsbot.slack import blocks
from cmsbot.slack.blocks import Message
from cmsbot.slack.bot import Bot

_ITALIC = re.compile(r"(?<!\w)_(.+?)_(?!\w)")
INTRO = ("Ask what you would ask in Slack (\"status of IWC JWP\", \"help\"); type a "
         "button's number to click it; quit, exit or Ctrl-D ends.")
ENDS = frozenset({"quit", "exit", "bye", ":q"})


@dataclass(frozen=True)
class Asking:
    """The times every question of a conversation is asked at (the options win over the
    words, as for `cmsbot ask`), and whether answers are printed as JSON."""

    as_at: date | None = None
    known_at: datetime | None = None
    json: bool = False


def render(message: Message) -> tuple[str, list[str]]:
    """A message as terminal text, and the values of its numbered buttons."""
    out: list[str] = []
    values: list[str] = []
    for block in message.blocks:
        kind = block.get("type")
        if kind == "header":
            out.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if "text" in block:
                out.append(_plain(block["text"]["text"]))
            for field in block.get("fields", []):
                name, _, value = _plain(field["text"]).partition("\n")
                out.append(f"{name}: {value}")
        elif kind == "context":
            out.append("(" + " ".join(_plain(e.get("text", "")) for e in block["elements"])
                       + ")")
        elif kind == "actions":
            for element in block["elements"]:
                if element["action_id"].startswith((blocks.CHOOSE, blocks.MORE)):
                    values.append(element["value"])
                    out.append(f"  [{len(values)}] {element['text']['text']}")
    return "\n".join(out) if out else message.text, values


def _plain(text: str) -> str:
    """Slack's mrkdwn as plain text: no bold or italic marks, no escapes."""
    return html.unescape(_ITALIC.sub(r"\1", text.replace("*", "")))


def converse(bot: Bot, lines: Iterable[str], out: TextIO,
             asking: Asking | None = None) -> None:
    """Answer each line (blank ones are skipped; "quit" or "exit" ends); a number follows
    the matching button of the last answer."""
    asking = asking or Asking()
    buttons: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.lower() in ENDS:
            return
        if asking.json:
            answer = bot.container().questions.answer(line, as_at=asking.as_at,
                                                      known_at=asking.known_at)
            print(json.dumps(answer.to_json(), ensure_ascii=False), file=out, flush=True)
            continue
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            message = bot.follow(buttons[int(line) - 1])
        else:
            message = bot.ask(line, as_at=asking.as_at, known_at=asking.known_at)
        text, buttons = render(message)
        print(text, file=out, flush=True)

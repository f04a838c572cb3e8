"""Answers as Slack messages: Block Kit within Slack's limits, with a plain-text fallback.

A message is at most 50 blocks; a section's text at most 3,000 characters; a header at most
150; a button's text 75 and its value 2,000. A long list is cut and ends "… and N more".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cmsbot.questions.answer import Answer, Line, Match
from cmsbot.wording import cite, clip, day, moment

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 25
MAX_LINES = 40  # a longer list is cut even when it would fit
MAX_FALLBACK = 3000

CHOOSE = "choose"  # action id of a near-tie button
SHARE = "share"  # action id of "Share in channel"

HELP_FOOTER = (
    "In Slack: mention me in a channel, write to me directly, or use `/cms <question>` "
    "(the answer is shown only to you, with a button to share it). Editors record "
    "updates with `/cms record` or the message shortcut *Record update*.")


@dataclass(frozen=True)
class Message:
    """What is sent: Block Kit blocks, and the plain text that notifications and screen
    readers show."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def notice(text: str) -> Message:
    """A short message in words only (a refusal, a confirmation, an error)."""
    return Message(clip(text, MAX_FALLBACK), [section(text)])


def answer_message(answer: Answer, *, today: date,
                   ask_again: Callable[[Match], str] | None = None,
                   share: str | None = None) -> Message:
    """An answer as a message: the item's header and fields, the listed lines, near ties
    as buttons, the sources and "as at" in a context line, and "Share in channel" when
    `share` (the button's value) is given."""
    blocks: list[Block] = []
    tail: list[Block] = []
    lines = answer.lines
    if answer.intent == "help":
        blocks += [section(answer.text), section(HELP_FOOTER)]
        return Message(clip(answer.text, MAX_FALLBACK), blocks)
    if answer.intent in ("clarify", "not_found"):
        blocks.append(section(answer.text.splitlines()[0] if answer.candidates
                              else answer.text))
        if answer.candidates and ask_again is not None:
            blocks.append(buttons([(m.title, CHOOSE, ask_again(m))
                                   for m in answer.candidates]))
    elif answer.intent in ("status", "history") and len(answer.matches) == 1:
        match = answer.matches[0]
        title = match.title if answer.intent == "status" else f"History of {match.title}"
        blocks += [header(title), item_fields(match)]
    else:
        first, _, _ = answer.text.partition("\n")
        blocks.append(header(first.rstrip(":")) if lines else section(answer.text))
    context = context_line(answer, today)
    if context is not None:
        tail.append(context)
    if answer.lag_note:
        tail.append(context_block(answer.lag_note))
    if share is not None:
        tail.append(buttons([("Share in channel", SHARE, share)], primary=True))
    blocks += line_sections(lines, MAX_BLOCKS - len(blocks) - len(tail))
    return Message(clip(answer.text, MAX_FALLBACK), blocks + tail)


def item_fields(match: Match) -> Block:
    status = match.status + (f" ({match.detail})" if match.detail else "")
    next_date = match.next_date or "—"
    if match.next_date and match.next_label and match.next_label != match.title:
        next_date = f"{match.next_label}: {match.next_date}"
    values = [("Status", status), ("Since", match.status_since or "—"),
              ("Partners", ", ".join(match.partners) or "—"), ("Next date", next_date)]
    if match.late:
        values.append(("Late", "; ".join(match.late)))
    return {"type": "section", "fields": [
        {"type": "mrkdwn", "text": clip(f"*{name}*\n{escape(value)}", MAX_FIELD)}
        for name, value in values]}


def line_sections(lines: list[Line], room: int) -> list[Block]:
    """The lines as bullets, packed into sections of at most 3,000 characters, in at most
    `room` blocks; what does not fit is counted in a last "… and N more"."""
    if not lines or room < 1:
        return []
    bullets = [_bullet(line) for line in lines]
    sections: list[str] = []
    shown = 0
    for bullet in bullets[:MAX_LINES]:
        if sections and len(sections[-1]) + 1 + len(bullet) <= MAX_TEXT:
            sections[-1] += "\n" + bullet
        elif len(sections) < room:
            sections.append(bullet)
        else:
            break
        shown += 1
    rest = len(lines) - shown
    while rest:
        more = f"… and {rest} more"
        if len(sections[-1]) + 1 + len(more) <= MAX_TEXT:
            sections[-1] += "\n" + more
            break
        if len(sections) < room:
            sections.append(more)
            break
        # The last section is full: drop its last bullet to make room for the count.
        kept, _, _ = sections[-1].rpartition("\n")
        if not kept:
            sections[-1] = more
            break
        sections[-1] = kept
        rest += 1
    return [section(text, escaped=True) for text in sections]


def _bullet(line: Line) -> str:
    when = f"*{escape(line.when)}:* " if line.when else ""
    sources = cite(line.sources)
    text = f"• {when}{escape(line.text)}" + (f" — _{escape(sources)}_" if sources else "")
    return clip(text, MAX_TEXT)


def context_line(answer: Answer, today: date) -> Block | None:
    parts = []
    sources = cite(answer.sources)
    if sources:
        parts.append(f"Sources: {sources}")
    if answer.known_at:
        parts.append(f"as known on {moment(datetime.fromisoformat(answer.known_at))}")
    parts.append(f"as at {day(date.fromisoformat(answer.as_at) if answer.as_at else today)}")
    return context_block(" · ".join(parts))


def context_block(text: str) -> Block:
    """A context line: small print under a message."""
    return {"type": "context", "elements": [
        {"type": "mrkdwn", "text": clip(escape(text), MAX_TEXT)}]}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}}


def section(text: str, *, escaped: bool = False) -> Block:
    body = text if escaped else escape(text)
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(body, MAX_TEXT)}}


def buttons(specs: list[tuple[str, str, str]], *, primary: bool = False) -> Block:
    """An actions block; every button's action id is unique, as Slack requires."""
    elements = []
    for number, (label, action, value) in enumerate(specs[:MAX_BUTTONS]):
        button: Block = {"type": "button", "action_id": f"{action}:{number}",
                         "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT)},
                         "value": value[:MAX_BUTTON_VALUE]}
        if primary:
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "elements": elements}


def escape(text: str) -> str:
    """Slack's three control characters, so that typed text cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")



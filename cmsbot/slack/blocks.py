"""Answers as Slack messages: Block Kit within Slack's limits, with a plain-text fallback.

A message is at most 50 blocks; a section's text at most 3,000 characters; a header at most
150; a button's text 75 and its value 2,000. A long answer is shown a page (`PAGE_SIZE`
entries, cut by `cmsbot.questions.pages`) at a time: the page ends "… and N more" and a
"Show more" button asks for the next. A page of 20 entries, each at most one section, fits
in the 50 blocks with the header, the item's fields, the context lines and the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cmsbot.questions.answer import Answer, Line, Match
from cmsbot.questions.pages import page_of
from cmsbot.wording import cite, clip, day, moment

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 25
MAX_FALLBACK = 3000
PAGE_SIZE = 20  # entries a message shows; "Show more" posts the next page

CHOOSE = "choose"  # action id of a near-tie button
SHARE = "share"  # action id of "Share in channel"
MORE = "more"  # action id of "Show more"

HELP_FAMILIES = (
    "*Ask as you would ask a colleague*, for example:\n"
    "• status of IWC JWP as at 1 September 2015\n"
    "• what happened since StC44\n"
    "• did StC44 endorse the Ramsar JWP?\n"
    "• what is overdue?\n"
    "• upcoming workshops")
HELP_FOOTER = (
    "In Slack: mention me in a channel, write to me directly, or use `/cms <question>` "
    "(the answer is shown only to you, with a button to share it). `/cms list [kind or "
    "partner]` lists the items and their keys. Editors record updates with `/cms record` "
    "or the message shortcut *Record update*; your Home tab here shows what you follow.")


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
                   share: str | None = None, page: int = 1,
                   more: Callable[[int], str] | None = None) -> Message:
    """Page `page` of an answer as a message: the item's header and fields, the page's
    lines, near ties as buttons, the sources and "as at" in a context line, "Show more"
    when there is a next page and `more` makes its button's value from the page's number,
    and "Share in channel" when `share` (the button's value) is given."""
    blocks: list[Block] = []
    tail: list[Block] = []
    shown = page_of(answer, page, PAGE_SIZE)
    lines = shown.lines
    if answer.intent == "help":
        blocks += [section(HELP_FAMILIES, escaped=True), section(answer.text),
                   section(HELP_FOOTER)]
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
        blocks.append(header(title))
        if shown.number == 1:
            blocks.append(item_fields(match))
    else:
        first, _, _ = answer.text.partition("\n")
        blocks.append(header(first.rstrip(":")) if lines else section(answer.text))
    context = context_line(answer, today, shown.note)
    if context is not None:
        tail.append(context)
    if answer.lag_note:
        tail.append(context_block(answer.lag_note))
    actions = []
    if more is not None and shown.has_more:
        actions.append(("Show more", MORE, more(shown.number + 1)))
    if share is not None:
        actions.append(("Share in channel", SHARE, share))
    if actions:
        tail.append(buttons(actions, primary=True))
    rest = shown.total - shown.first - len(lines)
    blocks += line_sections(lines, MAX_BLOCKS - len(blocks) - len(tail), more=rest)
    return Message(clip(shown.text, MAX_FALLBACK), blocks + tail)


def item_list(title: str, rows: list[tuple[str, str]], note: str) -> Message:
    """A listing of items: each (key, what it is) a line, packed into sections within
    the limits; `note` in a context line."""
    lines = [Line("", f"{key} — {text}") for key, text in rows]
    tail = [context_block(note)]
    body = [header(title)]
    body += line_sections(lines, MAX_BLOCKS - len(body) - len(tail)) or [section("(none)")]
    text = "\n".join([title, *(f"• {key.strip('`')} — {what}" for key, what in rows)])
    return Message(clip(text, MAX_FALLBACK), body + tail)


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


def line_sections(lines: list[Line], room: int, *, more: int = 0) -> list[Block]:
    """The lines as bullets, packed into sections of at most 3,000 characters, in at most
    `room` blocks; what does not fit, and the `more` entries of later pages, are counted
    in a last "… and N more"."""
    if not lines or room < 1:
        return []
    bullets = [_bullet(line) for line in lines]
    sections: list[str] = []
    shown = 0
    for bullet in bullets:
        if sections and len(sections[-1]) + 1 + len(bullet) <= MAX_TEXT:
            sections[-1] += "\n" + bullet
        elif len(sections) < room:
            sections.append(bullet)
        else:
            break
        shown += 1
    rest = len(lines) - shown + more
    while rest:
        counted = f"… and {rest} more"
        if len(sections[-1]) + 1 + len(counted) <= MAX_TEXT:
            sections[-1] += "\n" + counted
            break
        if len(sections) < room:
            sections.append(counted)
            break
        # The last section is full: drop its last bullet to make room for the count.
        kept, _, _ = sections[-1].rpartition("\n")
        if not kept:
            sections[-1] = counted
            break
        sections[-1] = kept
        rest += 1
    return [section(text, escaped=True) for text in sections]


def _bullet(line: Line) -> str:
    when = f"*{escape(line.when)}:* " if line.when else ""
    sources = cite(line.sources)
    text = f"• {when}{escape(line.text)}" + (f" — _{escape(sources)}_" if sources else "")
    return clip(text, MAX_TEXT)


def context_line(answer: Answer, today: date, note: str | None = None) -> Block | None:
    parts = [note.capitalize()] if note else []
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
    """An actions block; every button's action id is unique, as Slack requires. With
    `primary`, the first button is styled as the one to press."""
    elements = []
    for number, (label, action, value) in enumerate(specs[:MAX_BUTTONS]):
        button: Block = {"type": "button", "action_id": f"{action}:{number}",
                         "text": {"type": "plain_text", "text": clip(label, MAX_BUTTON_TEXT)},
                         "value": value[:MAX_BUTTON_VALUE]}
        if primary and number == 0:
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "elements": elements}


def escape(text: str) -> str:
    """Slack's three control characters, so that typed text cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")



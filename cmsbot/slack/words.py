"""Reading what a person typed in Slack: Slack's markup off. Its times ("as at 1 September
2015", "--as-at 2015-09-01") are words of the question, read by the question engine as on
every other surface."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime

_MENTION = re.compile(r"<[@!#][^>]*>")
_LINK = re.compile(r"<([^>|]+)\|([^>]*)>|<([^>]+)>")


@dataclass(frozen=True)
class Question:
    """A question as the engine takes it: its words, and the times given beside them."""

    text: str
    as_at: date | None = None
    known_at: datetime | None = None


def plain(text: str) -> str:
    """Slack's message markup as plain words: mentions dropped, links to their labels."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1) or m.group(3), text)
    return " ".join(html.unescape(text).split())


def question(text: str) -> Question:
    """The question in a message, in plain words."""
    return Question(plain(text))

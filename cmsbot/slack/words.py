"""Reading what a person typed in Slack: Slack's markup off, the time options out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

_MENTION = re.compile(r"<[@!#][^>]*>")
_LINK = re.compile(r"<([^>|]+)\|([^>]*)>|<([^>]+)>")
_AS_AT = re.compile(r"(?:--as-at|\bas at)\s+(\d{4}-\d{2}-\d{2}|\d{1,2}\s+[A-Za-z]+\s+\d{4})",
                    re.IGNORECASE)
_KNOWN_AT = re.compile(r"(?:--known-at|\bas known (?:on|at))\s+(\S+(?:\s+\d{2}:\d{2}\S*)?)",
                       re.IGNORECASE)


class OptionError(ValueError):
    """An `--as-at` or `--known-at` option that cannot be read."""


@dataclass(frozen=True)
class Question:
    """A question as the engine takes it."""

    text: str
    as_at: date | None = None
    known_at: datetime | None = None


def plain(text: str) -> str:
    """Slack's message markup as plain words: mentions dropped, links to their labels."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1) or m.group(3), text)
    return " ".join(html.unescape(text).split())


def question(text: str) -> Question:
    """The question in a message, with "--as-at 2015-09-01" / "as at 1 September 2015"
    and "--known-at 2026-03-03T12:00Z" taken out as the engine's two times."""
    words = plain(text)
    as_at = known_at = None
    found = _AS_AT.search(words)
    if found:
        as_at = _day(found.group(1))
        words = words[:found.start()] + words[found.end():]
    found = _KNOWN_AT.search(words)
    if found:
        known_at = _moment(found.group(1))
        words = words[:found.start()] + words[found.end():]
    return Question(" ".join(words.split()), as_at, known_at)


def _day(value: str) -> date:
    for form in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(value, form).date()
        except ValueError:
            continue
    raise OptionError(f"“{value}” is not a date I can read; write e.g. 2015-09-01")


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OptionError(f"“{value}” is not a time I can read; write e.g. "
                          "2026-03-03T12:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""Reading `/cms subscribe …`, `/cms follow …` and friends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.channels import WEEKDAYS, Schedule
from domain.errors import InvalidFieldError
from domain.state import Kind

_DAYS = {day: day for day in WEEKDAYS} | {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
    "friday": "fri", "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu",
    "thurs": "thu", "weds": "wed"}
_CHANNEL = re.compile(r"^<#(C[A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class ChannelRequest:
    """A subscription request: which channel (None: this one) and what schedule."""

    channel: str | None
    schedule: Schedule


def channel_of(words: list[str]) -> tuple[str | None, list[str]]:
    """A leading `<#C123|name>` names another channel."""
    if words and (m := _CHANNEL.match(words[0])):
        return m.group(1), words[1:]
    return None, words


def read_subscribe(text: str) -> ChannelRequest:
    """`[#channel] [weekly|daily] [mon 09:00] [Europe/Berlin] [partner X|kind K|item X|X]`;
    by default weekly, Monday 09:00, UTC, everything."""
    channel, words = channel_of(text.split())
    frequency, weekday, at, zone = "weekly", "mon", "09:00", "UTC"
    rest: list[str] = []
    for word in words:
        lower = word.lower()
        if lower in ("weekly", "daily") and not rest:
            frequency = lower
        elif lower in _DAYS and not rest:
            weekday = _DAYS[lower]
        elif re.fullmatch(r"\d{1,2}(:\d{2})?", lower) and not rest:
            hour, _, minute = lower.partition(":")
            at = f"{int(hour):02d}:{minute or '00'}"
        elif ("/" in word or lower == "utc") and not rest:
            zone = "UTC" if lower == "utc" else word
        else:
            rest.append(word)
    kind, value = _filter(rest)
    return ChannelRequest(channel, Schedule(frequency, weekday, at, zone, kind, value))


def _filter(words: list[str]) -> tuple[str | None, str | None]:
    if not words:
        return None, None
    head, tail = words[0].lower(), " ".join(words[1:])
    if head in ("partner", "kind", "item") and tail:
        if head == "kind" and tail.lower().rstrip("s") not in {k.value for k in Kind}:
            raise InvalidFieldError(f"a kind is one of {', '.join(k.value for k in Kind)}")
        return head, tail
    whole = " ".join(words)
    if whole.lower().rstrip("s") in {k.value for k in Kind}:
        return "kind", whole.lower().rstrip("s")
    return "partner", whole  # resolved later: a partner's name, else an item

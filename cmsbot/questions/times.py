"""The times a question names in its words: "as at 1 September 2015", "at the end of
2015", "known at 3 March 2026", "--as-at 2015-09-01", and what "since" it counts from.

These are read before the rest of the question (`cmsbot.questions.parse`), so that relative
words ("last week") count from the day the question is asked at. A phrase that is plainly
meant as a date but cannot be read as one is kept (`Said.unread`), so that the answer names
it instead of answering for another day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from domain.dates import PartialDate
from domain.errors import DomainError

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE = re.compile(
    r"\b(?:(?:early|mid|late|end of|beginning of|start of)\s+)?"
    r"(?:(?:\d{1,2}(?:\s*[-–]\s*\d{1,2})?\s+)?" + _MONTH + r"\s+)?\d{4}"
    r"(?:-\d{1,2}(?:-\d{1,2})?)?\b"
    r"|\b\d{4}-[qt][1-4]\b|\b[qt][1-4]\s+\d{4}\b"
    r"|\b(?:first|second|third|fourth|last)\s+(?:quarter|trimester)\s+of\s+\d{4}\b",
    re.IGNORECASE,
)
# What follows a time word when it is meant as a date: digits, or a month's name.
_DATELIKE = r"(\S*\d\S*(?:\s+\S+){0,2}|" + _MONTH + r"\s+\S+)"
_AS_AT_OPTION = re.compile(r"--as-at(?:=|\s+)(\S+)", re.IGNORECASE)
_KNOWN_AT_OPTION = re.compile(r"--known-at(?:=|\s+)(\S+)", re.IGNORECASE)
_AS_AT = re.compile(r"\b(?:as (?:at|of)|(?:at|by) the end of|at end of)\s+", re.IGNORECASE)
_KNOWN_AT = re.compile(
    r"\b(?:(?:as )?known (?:at|on|by)|(?:as )?recorded (?:at|on|by)|on record (?:at|on|by))"
    r"\s+", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                        r"(?:Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)


@dataclass(frozen=True)
class Said:
    """The times the words named, and the words left when they are taken out."""

    rest: str
    as_at: date | None = None
    known_at: datetime | None = None
    unread: tuple[str, ...] = ()  # date phrases it could not read, as typed


def said(text: str) -> Said:
    """Take "as at D", "at the end of D", "known at D" (and their options) out of `text`."""
    unread: list[str] = []
    rest = text
    option, rest = _option(_AS_AT_OPTION, rest)
    as_at = _iso_day(option) if option else None
    if option and as_at is None:
        unread.append(option)
    option, rest = _option(_KNOWN_AT_OPTION, rest)
    known_at = _iso_moment(option) if option else None
    if option and known_at is None:
        unread.append(option)
    if as_at is None:
        as_at, rest = _take_phrase(_AS_AT, rest, unread)
    else:
        _, rest = _take_phrase(_AS_AT, rest, [])  # the option wins over the words
    if known_at is None:
        known_at, rest = _take_known(rest, unread)
    else:
        _, rest = _take_known(rest, [])
    return Said(" ".join(rest.split()), as_at, known_at, tuple(unread))


def end_of(words: str) -> date | None:
    """The last day of a date in words ("2015": 31 December 2015), or None."""
    try:
        return PartialDate.parse(words).end
    except DomainError:
        return None


def day_end(day: date) -> datetime:
    """What was known on a day: everything recorded by its last instant, UTC."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def _option(option: re.Pattern[str], text: str) -> tuple[str | None, str]:
    """An option's value ("--as-at 2015-09-01") and the text without it."""
    found = option.search(text)
    if not found:
        return None, text
    return found.group(1), text[:found.start()] + " " + text[found.end():]


def _take_phrase(cue: re.Pattern[str], text: str, unread: list[str],
                 ) -> tuple[date | None, str]:
    """A cue and the date after it, as its last day; a date-like word that is no date is
    kept in `unread`."""
    for found in cue.finditer(text):
        after = text[found.end():]
        match = DATE.match(after)
        if match and (day := end_of(match.group(0))) is not None:
            return day, text[:found.start()] + " " + after[match.end():]
        loose = re.match(_DATELIKE, after, re.IGNORECASE)
        if loose:
            unread.append(_trimmed(loose.group(0)))
            return None, text[:found.start()] + " " + after[loose.end():]
    return None, text


def _take_known(text: str, unread: list[str]) -> tuple[datetime | None, str]:
    for found in _KNOWN_AT.finditer(text):
        after = text[found.end():]
        stamp = _TIMESTAMP.match(after)
        if stamp and (moment := _iso_moment(stamp.group(0))) is not None:
            return moment, text[:found.start()] + " " + after[stamp.end():]
        match = DATE.match(after)
        if match and (day := end_of(match.group(0))) is not None:
            return day_end(day), text[:found.start()] + " " + after[match.end():]
        loose = re.match(_DATELIKE, after, re.IGNORECASE)
        if loose:
            unread.append(_trimmed(loose.group(0)))
            return None, text[:found.start()] + " " + after[loose.end():]
    return None, text


def _trimmed(words: str) -> str:
    return words.strip().rstrip("?.!,;")


def _iso_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _iso_moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        day = _iso_day(value)
        return day_end(day) if day is not None else None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

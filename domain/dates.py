"""Partial dates: what a source said about when, no more precise than it said.

A report says "2016", "early 2016", "late November 2015", "the last trimester of 2016" or
"27-29 October 2015". A `PartialDate` keeps the precision and the range such words cover,
whether the date was tentative, and the words themselves, and never invents a day.

The module is a little over 400 lines because reading every form a source writes a date in,
and saying it back in one style, is one job: the forms share their patterns and rules.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from domain.errors import FutureDateError, InvalidDateError
from domain.limits import shown


class Precision(StrEnum):
    """How precise a partial date is, finest first."""

    DAY = "day"
    PART_OF_MONTH = "part-of-month"
    MONTH = "month"
    QUARTER = "quarter"
    TRIMESTER = "trimester"
    PART_OF_YEAR = "part-of-year"
    YEAR = "year"


HORIZON_YEARS = 10  # a business date further ahead of today is taken for a typo
MAX_DATE_TEXT = 100  # characters: "27 October 2015 – 3 November 2015 (tentative)" is 45

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS.update(
    {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
)
MONTHS["sept"] = 9
_PARTS = ("early", "mid", "late")
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4}


@dataclass(frozen=True, order=False)
class PartialDate:
    """A date as a source stated it.

    `start` is None for "by <end>" (no later than); otherwise the range [start, end] is
    what the words cover, with `precision` saying how they were put.
    """

    start: date | None
    end: date
    precision: Precision
    tentative: bool = False
    text: str | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.start > self.end:
            raise InvalidDateError(f"a date range cannot end before it starts: {self}")

    # Construction ---------------------------------------------------------------------

    @classmethod
    def on(cls, day: date, *, tentative: bool = False) -> PartialDate:
        return cls(day, day, Precision.DAY, tentative)

    @classmethod
    def by(cls, day: date) -> PartialDate:
        """No later than `day`: how a report states a fact it does not date."""
        return cls(None, day, Precision.DAY)

    @classmethod
    def parse(cls, value: object) -> PartialDate:
        """Parse ISO-like ("2015-10-27..2015-10-29", "2016-Q3", "late 2015-11") or English
        ("27-29 October 2015", "early 2016", "last trimester of 2016") forms."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, date):
            return cls.on(value)
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 64:
            value = str(value)
        if not isinstance(value, str):
            raise InvalidDateError(
                f"a date must be text such as '2015-09-01', not {shown(value)}")
        if len(value) > MAX_DATE_TEXT:
            raise InvalidDateError(f"{shown(value, 30)} is too long for a date (at most "
                                   f"{MAX_DATE_TEXT} characters)")
        return _parse(value)

    def within_horizon(self, today: date) -> PartialDate:
        """This date, unless it lies more than HORIZON_YEARS after `today` (where it
        starts, or for "by" a date, that date): then FutureDateError. The domain has no
        clock, so the caller says what day it is."""
        if self.sort_key > _horizon(today):
            raise FutureDateError(
                f"{self} is more than {HORIZON_YEARS} years after today ({_day(today)}); "
                "a business date that far ahead is taken for a typo")
        return self

    # Reading --------------------------------------------------------------------------

    @property
    def is_by(self) -> bool:
        return self.start is None

    @property
    def earliest(self) -> date:
        return self.start if self.start is not None else date.min

    @property
    def latest(self) -> date:
        return self.end

    @property
    def sort_key(self) -> date:
        """Where the date sorts in a calendar: its start, or its end when only bounded."""
        return self.start if self.start is not None else self.end

    def certainly_by(self, day: date) -> bool:
        """Whether whatever this date covers was over by `day`."""
        return self.end <= day

    def overlaps(self, first: date, last: date) -> bool:
        return self.earliest <= last and self.end >= first

    def __str__(self) -> str:
        if self.text:
            return self.text
        words = _describe(self)
        return f"{words} (tentative)" if self.tentative else words

    # Serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat(),
            "precision": _PRECISION_TEXT[self.precision],
            "tentative": self.tentative,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PartialDate:
        # Frozen, and a log repeats its dates: each distinct one is made once.
        return _from_parts(data.get("start"), data["end"], data["precision"],
                           bool(data.get("tentative", False)), data.get("text"))


_PRECISION_TEXT = {p: p.value for p in Precision}  # reading .value is slow in a hot path


@functools.lru_cache(maxsize=65536)
def _from_parts(start: str | None, end: str, precision: str, tentative: bool,
                text: str | None) -> PartialDate:
    return PartialDate(date.fromisoformat(start) if start else None, date.fromisoformat(end),
                       Precision(precision), tentative, one_style(text) if text else text)


def _describe(value: PartialDate) -> str:
    start, end, precision = value.start, value.end, value.precision
    if start is None:
        if precision is Precision.YEAR:
            return f"by {end.year}"
        if precision is Precision.MONTH:
            return f"by {calendar.month_name[end.month]} {end.year}"
        return f"by {_day(end)}"
    if precision is Precision.DAY:
        if start == end:
            return _day(start)
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}–{end.day} {calendar.month_name[end.month]} {end.year}"
        if start.year == end.year:
            return (f"{start.day} {calendar.month_name[start.month]} – {end.day} "
                    f"{calendar.month_name[end.month]} {end.year}")
        return f"{_day(start)} – {_day(end)}"
    if precision is Precision.PART_OF_MONTH:
        part = "early" if start.day == 1 else "mid" if start.day == 11 else "late"
        return f"{part} {calendar.month_name[start.month]} {start.year}"
    if precision is Precision.MONTH:
        if start.month == end.month:
            return f"{calendar.month_name[start.month]} {start.year}"
        return f"{calendar.month_name[start.month]}–{calendar.month_name[end.month]} {end.year}"
    if precision is Precision.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if precision is Precision.TRIMESTER:
        return f"T{(start.month - 1) // 4 + 1} {start.year}"
    if precision is Precision.PART_OF_YEAR:
        part = {1: "early", 5: "mid", 9: "late"}.get(start.month, "part of")
        return f"{part} {start.year}"
    if start.year == end.year:
        return str(start.year)
    return f"{start.year}–{end.year}"


@functools.lru_cache(maxsize=4)
def _horizon(today: date) -> date:
    return years_after(today, HORIZON_YEARS)


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February), or the last day there is."""
    year = day.year + years
    if year > date.max.year:
        return date.max
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _day(value: date) -> str:
    return f"{value.day} {calendar.month_name[value.month]} {value.year}"


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _make_date(year: int, month: int, day: int, original: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDateError(f"no such day: {original!r}") from None


def _month(word: str, original: str) -> int:
    try:
        return MONTHS[word.lower().rstrip(".")]
    except KeyError:
        raise InvalidDateError(f"unknown month {word!r} in {original!r}") from None


_TENTATIVE = re.compile(
    r"\s*\((?:tentative|tbc|to be confirmed)\)\s*$|\s*\?\s*$|^\s*~\s*"
    r"|\b(?:most\s+)?probably\b|\btentatively\b|\btbc\b",
    re.IGNORECASE,
)
_BY = re.compile(r"^(?:by|no later than|not later than|on or before)\s+", re.IGNORECASE)
_DASH = r"\s*(?:-|–|—|to|until)\s*"
_YEAR = r"(\d{4})"


# The forms machines write most (a day, "by" a day, a year), read without the general
# path's passes; the result is the same (a machine form keeps no text).
_ISO_DAY = re.compile(r"(by )?(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_YEAR = re.compile(r"\d{4}")


@functools.lru_cache(maxsize=65536)  # a history repeats its dates; PartialDate is frozen
def _parse(original: str) -> PartialDate:
    if (m := _ISO_DAY.fullmatch(original)) is not None:
        day = _make_date(int(m[2]), int(m[3]), int(m[4]), original)
        return PartialDate(None if m[1] else day, day, Precision.DAY)
    if _ISO_YEAR.fullmatch(original) and (year := int(original)) > 0:  # "0000": refused below
        return PartialDate(date(year, 1, 1), date(year, 12, 31), Precision.YEAR)
    return _parse_any(original)


def _parse_any(original: str) -> PartialDate:
    """Any of the forms `PartialDate.parse` reads."""
    text = " ".join(original.split())
    if not text:
        raise InvalidDateError("a date is empty")
    cleaned, count = _TENTATIVE.subn(" ", text)
    tentative = count > 0
    cleaned = " ".join(cleaned.replace(",", " ").split()).removeprefix("in ")
    by = _BY.match(cleaned)
    if by:
        inner = _parse_plain(cleaned[by.end():], original)
        return PartialDate(None, inner.end, inner.precision, tentative, _keep(original))
    parsed = _parse_plain(cleaned, original)
    return PartialDate(parsed.start, parsed.end, parsed.precision, tentative, _keep(original))


def _keep(original: str) -> str | None:
    """Keep the source's own words, but not the machine forms we can say better."""
    if re.fullmatch(r"(?:by |early |mid |late |~)?[\d\-./QqTt]+\??", original.strip().lower()):
        return None
    return one_style(" ".join(original.split()))


_ZERO_DAY = re.compile(r"\b0(\d)(?=(?:\s*[-–]\s*\d{1,2})?\s+[A-Za-z])")


def one_style(words: str) -> str:
    """A date's words with its days said one way: "1 January 2020", never "01 January
    2020" (the month, year and everything else as the source said them)."""
    return _ZERO_DAY.sub(r"\1", words)


def _parse_plain(text: str, original: str) -> PartialDate:
    try:
        return _parse_form(text, original)
    except InvalidDateError:
        raise
    except ValueError:  # a year or day out of range, e.g. "0000"
        raise InvalidDateError(f"no such date: {original!r}") from None


def _parse_form(text: str, original: str) -> PartialDate:
    lowered = text.lower().removeprefix("the ")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:\.\.|/)(\d{4})-(\d{1,2})-(\d{1,2})", lowered)
    if m:
        y1, m1, d1, y2, m2, d2 = (int(g) for g in m.groups())
        return _range(_make_date(y1, m1, d1, original), _make_date(y2, m2, d2, original),
                      Precision.DAY, original)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", lowered)
    if m:
        year, month, day_of_month = (int(g) for g in m.groups())
        day = _make_date(year, month, day_of_month, original)
        return PartialDate(day, day, Precision.DAY)
    m = re.fullmatch(r"(?:(early|mid|late)\s+)?(\d{4})-(\d{1,2})", lowered)
    if m:
        part, year, month = m.group(1), int(m.group(2)), int(m.group(3))
        if not 1 <= month <= 12:
            raise InvalidDateError(f"no such month: {original!r}")
        return _month_span(year, month, part)
    m = re.fullmatch(r"(\d{4})-?([qt])([1-4])|([qt])([1-4])\s+(\d{4})", lowered)
    if m:
        year = int(m.group(1) or m.group(6))
        letter = m.group(2) or m.group(4)
        number = int(m.group(3) or m.group(5))
        return _period(year, letter, number, original)
    m = re.fullmatch(r"(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+"
                     r"(quarter|trimester)\s+(?:of\s+)?" + _YEAR, lowered)
    if m:
        letter = "q" if m.group(2) == "quarter" else "t"
        number = (4 if letter == "q" else 3) if m.group(1) == "last" else _ORDINALS[m.group(1)]
        return _period(int(m.group(3)), letter, number, original)
    m = re.fullmatch(r"(early|mid|middle of|late|end of|beginning of|start of)\s+" + _YEAR,
                     lowered)
    if m:
        part = {"middle of": "mid", "end of": "late", "beginning of": "early",
                "start of": "early"}.get(m.group(1), m.group(1))
        year = int(m.group(2))
        first_month = {"early": 1, "mid": 5, "late": 9}[part]
        return PartialDate(date(year, first_month, 1), _month_end(year, first_month + 3),
                           Precision.PART_OF_YEAR)
    m = re.fullmatch(r"(?:(early|mid|late)\s+)?([a-z]+\.?)\s+" + _YEAR, lowered)
    if m and m.group(2).rstrip(".") in MONTHS:
        return _month_span(int(m.group(3)), _month(m.group(2), original), m.group(1))
    m = re.fullmatch(r"([a-z]+\.?)" + _DASH + r"([a-z]+\.?)\s+" + _YEAR, lowered)
    if m and m.group(1).rstrip(".") in MONTHS:
        year = int(m.group(3))
        first = date(year, _month(m.group(1), original), 1)
        last = _month_end(year, _month(m.group(2), original))
        return _range(first, last, Precision.MONTH, original)
    m = re.fullmatch(r"(\d{1,2})\s+([a-z]+\.?)\s+" + _YEAR, lowered)
    if m:
        day = _make_date(int(m.group(3)), _month(m.group(2), original), int(m.group(1)), original)
        return PartialDate(day, day, Precision.DAY)
    m = re.fullmatch(r"(\d{1,2})" + _DASH + r"(\d{1,2})\s+([a-z]+\.?)\s+" + _YEAR, lowered)
    if m:
        year, month = int(m.group(4)), _month(m.group(3), original)
        return _range(_make_date(year, month, int(m.group(1)), original),
                      _make_date(year, month, int(m.group(2)), original), Precision.DAY, original)
    m = re.fullmatch(r"(\d{1,2})\s+([a-z]+\.?)" + _DASH + r"(\d{1,2})\s+([a-z]+\.?)\s+" + _YEAR,
                     lowered)
    if m:
        year = int(m.group(5))
        first = _make_date(year, _month(m.group(2), original), int(m.group(1)), original)
        last = _make_date(year, _month(m.group(4), original), int(m.group(3)), original)
        return _range(first, last, Precision.DAY, original)
    m = re.fullmatch(r"(\d{1,2})\s+([a-z]+\.?)\s+" + _YEAR + _DASH + r"(\d{1,2})\s+([a-z]+\.?)\s+"
                     + _YEAR, lowered)
    if m:
        first = _make_date(int(m.group(3)), _month(m.group(2), original), int(m.group(1)),
                           original)
        last = _make_date(int(m.group(6)), _month(m.group(5), original), int(m.group(4)),
                          original)
        return _range(first, last, Precision.DAY, original)
    m = re.fullmatch(_YEAR + _DASH + _YEAR, lowered)
    if m:
        return _range(date(int(m.group(1)), 1, 1), date(int(m.group(2)), 12, 31),
                      Precision.YEAR, original)
    m = re.fullmatch(_YEAR, lowered)
    if m:
        year = int(m.group(1))
        return PartialDate(date(year, 1, 1), date(year, 12, 31), Precision.YEAR)
    raise InvalidDateError(
        f"cannot read {original!r} as a date; write e.g. '2015-09-01', '27-29 October 2015', "
        "'2015-11', 'late November 2015', '2016-Q3', 'early 2016', '2016' or 'by 2015-09-01'"
    )


def _range(first: date, last: date, precision: Precision, original: str) -> PartialDate:
    if first > last:
        raise InvalidDateError(f"a date range cannot end before it starts: {original!r}")
    return PartialDate(first, last, precision)


def _month_span(year: int, month: int, part: str | None) -> PartialDate:
    if part is None:
        return PartialDate(date(year, month, 1), _month_end(year, month), Precision.MONTH)
    first_day, last_day = {"early": (1, 10), "mid": (11, 20)}.get(part, (21, 0))
    last = _month_end(year, month) if last_day == 0 else date(year, month, last_day)
    return PartialDate(date(year, month, first_day), last, Precision.PART_OF_MONTH)


def _period(year: int, letter: str, number: int, original: str) -> PartialDate:
    size = 3 if letter == "q" else 4
    if number > 12 // size:
        raise InvalidDateError(f"a year has no {letter.upper()}{number}: {original!r}")
    first_month = (number - 1) * size + 1
    precision = Precision.QUARTER if letter == "q" else Precision.TRIMESTER
    return PartialDate(date(year, first_month, 1), _month_end(year, first_month + size - 1),
                       precision)

"""Small shared wording for dates in messages."""

from __future__ import annotations

from datetime import date, datetime


def day(value: date | datetime) -> str:
    """"30 November 2026"."""
    return f"{value.day} {value:%B %Y}"

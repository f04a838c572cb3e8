"""The entries of a checked history file: its partners, items and their events, each
knowing where it is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmsbot.history_outline import OutlineEntry
from cmsbot.history_parsing import LinedMapping
from domain.catalogue import EventSpec
from domain.dates import PartialDate
from domain.provenance import Source
from domain.state import Kind


@dataclass(slots=True)
class PartnerEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    key: str
    name: str
    acronym: str | None
    aliases: list[str]
    category: str | None


@dataclass(slots=True)  # a large file has hundreds of thousands
class EventEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    id: str
    spec: EventSpec
    raw: dict[str, Any]
    occurred: PartialDate
    source: Source
    note: str | None


@dataclass(slots=True)
class ItemEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    key: str
    kind: Kind
    title: str
    occurred: PartialDate
    source: Source
    details: dict[str, Any]
    events: list[EventEntry] = field(default_factory=list)


@dataclass
class Header:
    """What a history file says of itself, and its partners, checked."""

    name: str
    document: str
    actor: str
    as_at: PartialDate | None
    partners: list[PartnerEntry]
    outline: OutlineEntry | None = field(default=None, kw_only=True)  # its `report:`

    def ref(self, *parts: str) -> str:
        return f"{self.document}#{'/'.join(parts)}"


@dataclass
class History(Header):
    """A checked history file."""

    items: list[ItemEntry]


def fact_key(name: str, occurred: PartialDate, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two entries the same fact: the event, its business date (as a date,
    however it was written) and the fields it sets (an empty or false one sets none)."""
    return (name, occurred.start, occurred.end, occurred.precision, occurred.tentative,
            tuple(sorted((k, _plain(v)) for k, v in values.items()
                         if v not in (None, "", [], False))))


def _plain(value: Any) -> Any:
    if isinstance(value, PartialDate):
        return (value.start, value.end, value.precision, value.tentative)
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    return value

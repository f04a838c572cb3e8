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
class _Written:
    """An entry of a history file, and where it is written."""

    at: LinedMapping  # `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line


@dataclass(slots=True)
class PartnerEntry(_Written):
    key: str
    name: str
    acronym: str | None
    aliases: list[str]
    category: str | None


@dataclass(slots=True)  # a large file has hundreds of thousands
class EventEntry(_Written):
    id: str
    spec: EventSpec
    raw: dict[str, Any]
    occurred: PartialDate
    source: Source
    note: str | None


@dataclass(slots=True)
class ItemEntry(_Written):
    key: str
    kind: Kind
    title: str
    occurred: PartialDate
    source: Source
    details: dict[str, Any]
    events: list[EventEntry] = field(default_factory=list)


# Fields whose values name partners by key; unknown keys are refused.
PARTNER_FIELDS = ("partner", "donor", "organisers")


def partners_named(fields: Mapping[str, Any]) -> list[Any]:
    """The partner keys an event's fields name (a field names one, or a list of them), as
    written: whether each is a key is the checks' business."""
    named: list[Any] = []
    for name in PARTNER_FIELDS:
        value = fields.get(name)
        if isinstance(value, list):
            named.extend(value)
        elif value is not None:
            named.append(value)
    return named


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


@dataclass(frozen=True)
class ItemGist:
    """What the whole file needs to know of an item before any is checked, as written:
    its line, key (None where it is not text), kind and title, weight (1 + its events)
    and the partner keys its mapping and its events name (each a value or a list)."""

    line: int
    key: str | None
    kind: Any
    title: Any
    weight: int
    named: list[Any]


def gist_of(mapping: Any) -> ItemGist:
    events = mapping.get("events")
    events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    return ItemGist(mapping.line, item_key_of(mapping), mapping.get("kind"),
                    mapping.get("title"), 1 + len(events),
                    [mapping.get("partners"), *(key for event in events
                                                for key in partners_named(event))])


def item_key_of(mapping: Any) -> str | None:
    """An item's key as the checker reads it, or None when it is not text."""
    value = mapping.get("key")
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None

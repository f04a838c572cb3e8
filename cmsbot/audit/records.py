"""An event of the log as plain values: what `audit log --json` prints and exports carry."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from cmsbot.audit.walk import Entry
from cmsbot.wording import cite
from domain import events as ev
from domain.dates import PartialDate
from domain.describe import describe
from domain.provenance import Source

# What every event carries besides its own data; `data` holds the rest.
PROVENANCE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic",
                        "occurred", "actor", "source", "note", "ref"})


@dataclass
class Book:
    """What the log has said so far about names: each aggregate's key, each partner's name.
    It grows with the number of aggregates, never with the number of events."""

    labels: dict[UUID, str] = field(default_factory=dict)
    kinds: dict[UUID, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def learn(self, event: Any) -> None:
        aggregate = event.originator_id
        if event.originator_version == 1:
            topic = str(getattr(event, "originator_topic", ""))
            self.kinds[aggregate] = topic.removeprefix("cmsbot.").lower() or "aggregate"
            label = getattr(event, "key", None) or getattr(event, "document", None)
            if label is None and getattr(event, "channel", None) is not None:
                # a channel, or a channel's digest for a period
                label = f"{event.channel} {getattr(event, 'period', '')}".strip()
            self.labels[aggregate] = str(label or aggregate)
        if isinstance(event, ev.PartnerRegistered):
            self.names[event.key] = event.acronym or event.name

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def recorded_of(event: Any) -> datetime:
    moment: datetime = event.timestamp
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def plain(value: Any) -> Any:
    """A field value as JSON-ready data."""
    if isinstance(value, PartialDate | Source):
        return value.to_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def occurred_of(event: Any) -> dict[str, Any] | None:
    occurred = getattr(event, "occurred", None)
    if not isinstance(occurred, PartialDate):
        return None
    return {**occurred.to_dict(), "words": str(occurred)}


def summary_of(event: Any, book: Book) -> str:
    if isinstance(event, ev.ItemEvent | ev.ItemRegistered | ev.VersionGapAcknowledged):
        return describe(event, book.name)
    if isinstance(event, ev.PartnerRegistered):
        acronym = f" ({event.acronym})" if event.acronym and event.acronym != event.name else ""
        return f"Began tracking partner {event.name}{acronym}"
    if isinstance(event, ev.PartnerAliasAdded):
        return f"Alias added: “{event.alias}”"
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(event).__name__).lower()
    return words.capitalize()


def record(entry: Entry, book: Book) -> dict[str, Any]:
    """The event at `entry` as plain values (call `book.learn` with it first)."""
    return record_of(entry.position, entry.log_id, entry.event, entry.hash, book)


def record_of(position: int, log_id: int, event: Any, chain_hash: str, book: Book,
              ) -> dict[str, Any]:
    source = getattr(event, "source", None)
    data = {k: plain(v) for k, v in vars(event).items() if k not in PROVENANCE}
    return {
        "position": position,
        "log_id": log_id,
        "recorded": recorded_of(event).isoformat(),
        "actor": getattr(event, "actor", None) or getattr(event, "claimed_by", None),
        "aggregate": book.kinds.get(event.originator_id, "aggregate"),
        "item": book.labels.get(event.originator_id, str(event.originator_id)),
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred": occurred_of(event),
        "source": source.to_json() if isinstance(source, Source) else None,
        "cite": cite([source]) if isinstance(source, Source) else None,
        "note": getattr(event, "note", None),
        "ref": getattr(event, "ref", None),
        "summary": summary_of(event, book),
        "data": data,
        "hash": chain_hash,
    }

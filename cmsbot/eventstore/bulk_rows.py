"""The bulk fast paths: events as plain rows, for the saves and reads of an import and a
rebuild, where the library makes an object or a statement per event.

Each stands for a slow path of the library and gives what it gives, which a differential
test holds (tests/integration/test_bulk_rows.py, test_transcoding.py, test_recorders.py):

- `encode_rows(mapper, aggregates)` is `event_row(mapper.to_stored_event(e))` for each new
  event, without a `StoredEvent` per event and with each aggregate's id written out once:
  70k events take 0.68–0.75 s of CPU instead of 0.80–0.85 s (about 3% of an import).
- A recorder's `bulk()` session inserts such rows as they come, part after part, in one
  transaction: an import's processes hand it their pieces without turning each row back
  into a `StoredEvent` and a UUID. The library's `save` also makes a recording of each
  event for followers, which an import has none of (a tenth of its time).
- A recorder's `select_existing(ids)` answers for a whole import in a few queries, where
  `Application.repository`'s `in` loads each aggregate.
- A recorder's `select_rows(after, limit)` reads the log undecoded, so that a rebuild can
  decode it in two processes (`Tracker.decode_rows` is the library's decoding of them).
- A recorder's `select_ranges(ranges)` reads the events of many aggregates, each between
  two versions, in one query, where the library's `select_events` takes a query (and on
  PostgreSQL a connection's ping) for each: an as-at reading folds a few dozen items.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from projections.logrows import LogRow

# An event as the bulk sessions insert it: the originator's id as 32 hex digits (how the
# library's SQLite recorder stores it), its version, its topic and its encoded state.
EventRow = tuple[str, int, str, bytes]

# The versions of one aggregate's events to read: those after the first and up to the
# second (`select_ranges`).
Range = tuple[UUID, int, int]

# What a bulk session adds rows with: it inserts them and returns their positions.
AddRows = Callable[[Sequence[EventRow]], list[int]]

# Each item's id made once however many of its events are read (a UUID is immutable).
uuid_of = functools.lru_cache(maxsize=65536)(UUID)


@runtime_checkable
class BulkRecorder(Protocol):
    """What the event store needs of its recorder beyond the library's interface: both
    recorders the settings choose (cmsbot.eventstore.sqliterecorder, .pgrecorder) have it."""

    def bulk(self) -> AbstractContextManager[AddRows]:
        """One save made of parts added in turn, all or nothing: each part is inserted when
        it is added, and the save commits when the block ends without an error."""
        ...

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates have events stored (one query)."""
        ...

    def select_rows(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` stored events after log position `after`, in log order,
        undecoded."""
        ...

    def select_last_positions(self, after: int, through: int) -> dict[str, int]:
        """Each aggregate with events after log position `after` up to `through`: the
        position of its last one there, by its id's 32 hex digits (one query)."""
        ...

    def select_ranges(self, ranges: Sequence[Range]) -> list[EventRow]:
        """The events of each (aggregate, after, through) whose version is after `after`
        and at most `through`, as event rows, by aggregate and version (one query)."""
        ...


def event_row(stored: StoredEvent) -> EventRow:
    return (hex_of(stored.originator_id), stored.originator_version, stored.topic,
            stored.state)


def hex_of(originator_id: UUID | str) -> str:
    """An id as the 32 hex digits SQLite stores."""
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex


def encode_rows(mapper: Mapper[Any], aggregates: Iterable[Any]) -> list[EventRow]:
    """The new events of these aggregates as `mapper.to_stored_event` encodes them, as
    rows: the same state bytes, without a StoredEvent for each event, and each
    aggregate's id written once (an import encodes a million events this way)."""
    if mapper.compressor is not None or mapper.cipher is not None:
        return [event_row(mapper.to_stored_event(event)) for aggregate in aggregates
                for event in aggregate.collect_events()]
    encode = mapper.transcoder.encode
    rows: list[EventRow] = []
    for aggregate in aggregates:
        events = aggregate.collect_events()
        if not events:
            continue
        originator = hex_of(events[0].originator_id)  # an aggregate's events share it
        for event in events:
            state = dict(vars(event))
            del state["originator_id"]
            version = state.pop("originator_version")
            kind = type(event)
            class_version = getattr(kind, "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            rows.append((originator, version, get_topic(kind), encode(state)))
    return rows

"""What the projector needs of the event log: its events in order, and one item's events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID


class Positioned(Protocol):
    """An event with its position in the log."""

    @property
    def position(self) -> int: ...

    @property
    def event(self) -> Any: ...


class EventSource(Protocol):
    """What the projector needs of the event store."""

    def read(self, after: int, limit: int) -> Sequence[Positioned]: ...

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]: ...


@runtime_checkable
class Ends(Protocol):
    """An event store that can say where the log ends and where each item's events in it
    end: what lets a bulk transaction write an item's rows as soon as it has applied the
    item's last event (`projections.batch.in_bulk`)."""

    def head(self) -> int: ...

    def last_positions(self, after: int, through: int) -> dict[str, int]: ...

"""What the projector needs of the event log: its events in order, and one item's events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
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

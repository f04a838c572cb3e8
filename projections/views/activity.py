"""The activity feed: a row for every item event, with a one-line summary, its business
date and its source; for "what changed since" and for history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as ev
from domain.describe import describe

EVENTS = (ev.ItemRegistered, ev.ItemEvent)


def row(position: int, item_id: str, event: Any, name: Callable[[str], str],
        ) -> dict[str, Any]:
    """The row of an item's event (one of `EVENTS`) at `position`; `name` says a partner's
    key as the partners view names it then."""
    return {
        "position": position, "item_id": item_id,
        "version": event.originator_version, "event_type": type(event).__name__,
        "summary": describe(event, name), "occurred": event.occurred.to_dict(),
        "occurred_end": event.occurred.end, "occurred_start": event.occurred.start,
        "recorded": event.timestamp,
        "actor": event.actor, "source": event.source.to_dict(), "note": event.note,
        "target_version": (getattr(event, "corrects", None) or getattr(event, "retracts", None)
                           or getattr(event, "corroborates", None)),
    }

"""The calendar: an item's meetings, deadlines and milestones, with the dates as the
source gave them, and the day a meeting was held."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from domain.state import ItemState
from projections import tables as t

TABLES = (t.calendar,)


def rows(states: Sequence[ItemState]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The calendar's rows of these items' states."""
    return [(t.calendar, [row for s in states for row in _entries(s)])]


def _entries(s: ItemState) -> list[dict[str, Any]]:
    entries = [(label, when, False) for label, when in s.agenda]
    if s.held_on is not None:
        entries.append((s.title, s.held_on, True))
    return [{"item_id": s.id, "label": label, "kind": s.kind.value, "held": held,
             "start": when.earliest if when.start else when.end, "end": when.end,
             "when": when.to_dict(), "venue": s.venue if s.kind.value == "meeting" else None}
            for label, when, held in entries]

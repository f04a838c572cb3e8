"""Not a view but a position (`NAMES`): that of the last event that changed how an item or
a partner is named, so that the question engine rebuilds its name index only when it
moves."""

from __future__ import annotations

from typing import Any

from domain.state import ItemState


def naming(s: ItemState) -> tuple[Any, ...]:
    """What names an item: when it changes, so does the name index."""
    return (s.key, s.title, s.kind, s.subtype, tuple(s.aliases), tuple(s.partners))

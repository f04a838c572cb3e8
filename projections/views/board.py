"""The status board: one row per item with its whole state as JSON and the columns
questions filter on, and `item_partners`, the partners of each item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from domain.state import ItemState
from projections import tables as t

TABLES = (t.board, t.item_partners)


def rows(states: Sequence[ItemState]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The board's rows of these items' states."""
    return [(t.board, [_board_row(s) for s in states]),
            (t.item_partners, [{"item_id": s.id, "partner_key": p}
                               for s in states for p in s.partners])]


def _board_row(s: ItemState) -> dict[str, Any]:
    return {
        "item_id": s.id, "key": s.key, "kind": s.kind.value, "title": s.title,
        "subtype": s.subtype, "aliases": list(s.aliases), "partner_keys": list(s.partners),
        "status": s.status, "status_since_end": s.status_since.end if s.status_since else None,
        "next_start": s.next_date.sort_key if s.next_date else None,
        "last_occurred_end": s.last_occurred.end if s.last_occurred else None,
        "last_recorded": s.last_recorded, "version": s.version, "state": s.to_dict(),
    }

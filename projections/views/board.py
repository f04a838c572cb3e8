"""The status board: one row per item with its whole state as JSON and the columns
questions filter on (and the date a slipped meeting is listed under as overdue), and
`item_partners`, the partners of each item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from domain.dates import PartialDate
from domain.overdue import may_slip, slip
from domain.state import ItemState
from projections import tables as t

TABLES = (t.board, t.item_partners)


def rows(states: Sequence[ItemState]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The board's rows of these items' states."""
    return [(t.board, [_board_row(s) for s in states]),
            (t.item_partners, [{"item_id": s.id, "partner_key": p}
                               for s in states for p in s.partners])]


def slip_listed(s: ItemState) -> PartialDate | None:
    """The date a meeting that slipped is listed under as overdue (when held, else now
    planned, else first planned), for an item with a dated entry (a calendar row); None
    when it did not slip. It does not depend on the day: `slip` compares the state's dates
    with its first plan."""
    if (not s.agenda and s.held_on is None) or not may_slip(s):
        return None
    slipped = slip(s, s.first_plan)
    return None if slipped is None else (slipped.now or slipped.first)


def _board_row(s: ItemState) -> dict[str, Any]:
    listed = slip_listed(s)
    return {
        "item_id": s.id, "key": s.key, "kind": s.kind.value, "title": s.title,
        "subtype": s.subtype, "workshop": s.is_workshop, "aliases": list(s.aliases),
        "partner_keys": list(s.partners),
        "status": s.status, "status_since_end": s.status_since.end if s.status_since else None,
        "next_start": s.next_date.sort_key if s.next_date else None,
        "last_occurred_end": s.last_occurred.end if s.last_occurred else None,
        "last_occurred": s.last_occurred.to_dict() if s.last_occurred else None,
        "submission_count": len(s.submissions),
        "last_recorded": s.last_recorded, "version": s.version,
        "slip_start": listed.sort_key if listed else None,
        "slip_end": listed.end if listed else None, "state": s.to_dict(),
    }

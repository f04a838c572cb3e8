"""Consultations and the submissions each received, numbered in the order received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from domain.state import ItemState
from projections import tables as t

TABLES = (t.consultations, t.submissions)


def rows(states: Sequence[ItemState]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows of these items' states that are consultations."""
    consultations = [s for s in states if s.kind.value == "consultation"]
    return [
        (t.consultations, [{
            "item_id": s.id, "key": s.key, "title": s.title, "status": s.status,
            "submission_count": len(s.submissions)} for s in consultations]),
        (t.submissions, [
            {"item_id": s.id, "number": n, "submitter": who, "title": title}
            for s in consultations for n, (who, title) in enumerate(s.submissions, 1)]),
    ]

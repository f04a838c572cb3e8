"""What a record form offers, read from the views: the items to record on (with their
kinds) and the partners an event can name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from projections import queries


@dataclass(frozen=True)
class Choice:
    """One thing to choose: its key, its name for people, and (for an item) its kind."""

    key: str
    label: str
    kind: str | None = None


class RecordChoices:
    """The items and partners that can be chosen when recording, as the views hold them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def items(self) -> list[Choice]:
        """Every item, by kind and then title."""
        with self.engine.connect() as conn:
            rows = queries.index_rows(conn)
        return [Choice(r.key, r.title, r.kind)
                for r in sorted(rows, key=lambda r: (r.kind, r.title))]

    def kind_of(self, key: str) -> str | None:
        """The kind of the item with this key (None when there is none)."""
        return next((c.kind for c in self.items() if c.key == key), None)

    def partners(self) -> list[Choice]:
        """Every partner, by key: its acronym and name, or its name alone."""
        with self.engine.connect() as conn:
            rows = queries.partner_rows(conn)
        return [Choice(r.key, f"{r.acronym} ({r.name})" if r.acronym and r.acronym != r.name
                       else r.name) for r in rows]

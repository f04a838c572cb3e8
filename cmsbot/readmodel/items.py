"""The items and their keys, as `record`, history files and `/cms list` need them: each
item's key, title, kind, partners and status now, of a kind or with a partner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cmsbot.readmodel.reader import ReadModel
from domain.errors import DomainError
from domain.state import Kind
from projections import queries as q


class UnknownListFilterError(DomainError):
    """Words that name neither a kind of item nor a partner."""


@dataclass(frozen=True)
class ItemRow:
    """One item as a listing shows it; `partners` are the partners' short names."""

    key: str
    title: str
    kind: str
    partners: tuple[str, ...]
    status: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "kind": self.kind,
                "partners": list(self.partners), "status": self.status}


@dataclass(frozen=True)
class ItemFilter:
    """Which items a listing holds: of a kind, with a partner (by key), or every one."""

    kind: str | None = None
    partner: str | None = None
    partner_label: str | None = None


def read_filter(reader: ReadModel, conn: Connection, words: str) -> ItemFilter:
    """"agreements", "meeting", "Ramsar", "whaling commission" or nothing: a kind (its
    name, singular or plural) or a partner (any name it goes by); else
    `UnknownListFilterError`."""
    text = words.strip().lower()
    if not text:
        return ItemFilter()
    for kind in Kind:
        if text in (kind.value, f"{kind.value}s"):
            return ItemFilter(kind=kind.value)
    index = reader.index(conn)
    partner = index.partners.get(text)
    found = [partner] if partner is not None else index.only_partners(text)
    if len(found) == 1:
        return ItemFilter(partner=found[0].key, partner_label=found[0].label)
    kinds = ", ".join(f"{k.value}s" for k in Kind)
    raise UnknownListFilterError(
        f"“{words.strip()[:80]}” is neither a kind of item ({kinds}) nor one partner")


def list_items(reader: ReadModel, conn: Connection,
               which: ItemFilter | None = None) -> list[ItemRow]:
    """The items now (from the views), by kind and title; it only reads."""
    which = which or ItemFilter()
    index = reader.index(conn)

    def short(key: str) -> str:
        partner = index.partners.get(key)
        return (partner.acronym or partner.name) if partner is not None else key

    return [ItemRow(row.key, row.title, row.kind, tuple(short(k) for k in row.partner_keys),
                    row.status)
            for row in q.item_rows(conn, kind=which.kind, partner_key=which.partner)]

"""The partners: each one's key, names, aliases and category; and how summaries name
them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from domain import events as ev
from projections import tables as t

EVENTS = (ev.PartnerRegistered, ev.PartnerAliasAdded)


def apply(conn: Connection, event: Any) -> None:
    """Write what a partner's event changes; other events change nothing here."""
    partner_id = str(event.originator_id)
    if isinstance(event, ev.PartnerRegistered):
        conn.execute(delete(t.partners).where(t.partners.c.partner_id == partner_id))
        conn.execute(insert(t.partners).values(
            partner_id=partner_id, key=event.key, acronym=event.acronym, name=event.name,
            aliases=list(event.aliases), category=event.category))
    elif isinstance(event, ev.PartnerAliasAdded):
        row = conn.execute(select(t.partners.c.aliases).where(
            t.partners.c.partner_id == partner_id)).first()
        if row is not None and event.alias not in row.aliases:
            conn.execute(update(t.partners).where(t.partners.c.partner_id == partner_id)
                         .values(aliases=[*row.aliases, event.alias]))


def name_of(acronym: str | None, name: str) -> str:
    """How summaries name a partner."""
    return acronym or name


def names(conn: Connection) -> dict[str, str]:
    """How summaries name each partner the view holds, by key."""
    rows = conn.execute(select(t.partners.c.key, t.partners.c.acronym, t.partners.c.name))
    return {r.key: name_of(r.acronym, r.name) for r in rows}

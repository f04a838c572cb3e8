"""Change notices owed to channels: one row per item event and channel that follows the
item or one of its partners, holding plain facts (the event's position, the channel, the
item and its title then). The digests side words and posts them (`cmsbot.digests.notices`),
from the activity row at the same position.

Not a view: kept from the log in the projector's transaction but never rebuilt, since a
rebuild must not notice the past again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, inspect, select, text

from domain import events as ev
from domain.state import ItemState
from projections import tables as t

Follows = set[tuple[str, str, str]]  # (channel, target kind, target key)


def follows(conn: Connection) -> Follows:
    """What every channel follows."""
    return {(r.channel, r.target_kind, r.target_key) for r in conn.execute(select(t.follows))}


def rows(position: int, item_id: str, event: Any, state: ItemState,
         follows: Callable[[], Follows]) -> list[dict[str, Any]]:
    """The notices of an item's event (`state` is the item's after it) for the channels
    that follow the item or one of its partners; none for the item's registration.
    `follows` says what every channel follows (asked only when needed)."""
    if isinstance(event, ev.ItemRegistered):
        return []
    following = follows()
    if not following:
        return []
    wanted = {("item", state.key)} | {("partner", p) for p in state.partners}
    channels = sorted({channel for channel, kind, key in following if (kind, key) in wanted})
    return [{"position": position, "channel": channel, "item_id": item_id,
             "title": state.title} for channel in channels]


def upgrade(conn: Connection) -> None:
    """Drop the worded text an older store's outbox holds beside each notice: the digests
    word a notice when they post it."""
    inspector = inspect(conn)
    if not inspector.has_table(t.notice_outbox.name):
        return
    if "text" in {column["name"] for column in inspector.get_columns(t.notice_outbox.name)}:
        conn.execute(text(f'ALTER TABLE {t.notice_outbox.name} DROP COLUMN "text"'))

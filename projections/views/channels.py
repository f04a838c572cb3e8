"""Channels: what each asked for (a digest subscription, the items and partners it
follows) and which digests were claimed and posted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from domain import channels as ch
from projections import tables as t

EVENTS = (ch.ChannelRegistered, ch.ChannelSubscribed, ch.ChannelUnsubscribed,
          ch.ChannelFollowed, ch.ChannelUnfollowed, ch.DigestClaimed, ch.DigestReclaimed,
          ch.DigestPosted)


def apply(conn: Connection, event: Any) -> None:
    """Write what a channel's or a digest's event changes; other events change nothing
    here."""
    uuid = str(event.originator_id)
    if isinstance(event, ch.ChannelRegistered):
        conn.execute(insert(t.channels).values(channel_uuid=uuid, channel=event.channel))
    elif isinstance(event, ch.DigestClaimed):
        conn.execute(insert(t.digests).values(
            digest_uuid=uuid, channel=event.channel, period=event.period,
            claimed_by=event.claimed_by))
    elif isinstance(event, ch.DigestReclaimed):
        conn.execute(update(t.digests).where(t.digests.c.digest_uuid == uuid)
                     .values(claimed_by=event.claimed_by))
    elif isinstance(event, ch.DigestPosted):
        conn.execute(update(t.digests).where(t.digests.c.digest_uuid == uuid)
                     .values(message_ts=event.message_ts))
    elif isinstance(event, ch.ChannelSubscribed | ch.ChannelUnsubscribed):
        channel = _channel(conn, uuid)
        conn.execute(delete(t.subscriptions).where(t.subscriptions.c.channel == channel))
        if isinstance(event, ch.ChannelSubscribed):
            conn.execute(insert(t.subscriptions).values(
                channel=channel, changed_by=event.actor, changed_at=event.timestamp,
                **event.schedule))
    elif isinstance(event, ch.ChannelFollowed):
        conn.execute(insert(t.follows).values(
            channel=_channel(conn, uuid), target_kind=event.target_kind,
            target_key=event.target_key))
    elif isinstance(event, ch.ChannelUnfollowed):
        f = t.follows.c
        conn.execute(delete(t.follows).where(
            (f.channel == _channel(conn, uuid)) & (f.target_kind == event.target_kind)
            & (f.target_key == event.target_key)))


def _channel(conn: Connection, uuid: str) -> str:
    """The channel that registered as `uuid`."""
    return str(conn.execute(select(t.channels.c.channel).where(
        t.channels.c.channel_uuid == uuid)).scalar_one())

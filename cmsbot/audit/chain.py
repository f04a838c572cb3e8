"""The hash chain over the log, and the keeper that extends it right after events are recorded.

Each event's hash covers a canonical encoding of its content (aggregate id, version, topic
and stored state, with JSON keys sorted), its position and the previous event's hash. The
keeper runs from `Container.catch_up` (after a write, and in the projector's loop): in one
transaction it locks the chain's head row (`FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on
SQLite), reads the events after it, and writes their hashes and the new head, so a second
keeper waits and then finds the work done. A read carries the chain over events not stored
in it yet in memory (`head_now`), and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from sqlalchemy import Connection, Engine, select, update

from cmsbot.audit import tables as t
from cmsbot.eventstore.tracker import Tracker
from projections.rows import RowWriter
from projections.writing import writing

_DOMAIN = b"cmsbot-audit-chain-1"
_ROWS = RowWriter()


class HeadFormatError(ValueError):
    """A chain head was not written as HASH@POSITION."""


@dataclass(frozen=True)
class Head:
    """The chain's hash at a position: what gets published, and later checked."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.hash}@{self.position}"

    @classmethod
    def parse(cls, text: str) -> Head:
        match = re.fullmatch(r"\s*([0-9a-fA-F]{64})@(\d+)\s*", text)
        if not match:
            raise HeadFormatError(
                f"a chain head is HASH@POSITION (64 hex digits, @, a number), not {text!r}")
        return cls(int(match.group(2)), match.group(1).lower())


def plain_state(stored: StoredEvent, mapper: Mapper[Any]) -> Any:
    """The event's stored state as plain JSON values (decrypted and decompressed if the
    store does either)."""
    state = stored.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    try:
        return orjson.loads(state)  # the same values as json.loads, several times faster
    except orjson.JSONDecodeError:  # e.g. an integer beyond 64 bits, which json reads
        pass
    try:
        return json.loads(state)
    except ValueError:
        # Not JSON, which no command writes: chained as its bytes, so that the chain still
        # covers it and every command still runs; verify says it cannot be read.
        return {"_unreadable_": bytes(state).hex()}


def content(stored: StoredEvent, mapper: Mapper[Any]) -> dict[str, Any]:
    """What an event is, independent of how a backend stores it."""
    originator = stored.originator_id
    if isinstance(originator, UUID):
        originator = str(originator)
    else:
        try:
            originator = str(UUID(str(originator)))  # SQLite keeps hex, PostgreSQL a uuid
        except ValueError:
            originator = str(originator)
    return {"originator_id": originator, "originator_version": stored.originator_version,
            "topic": stored.topic, "state": plain_state(stored, mapper)}


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def digest_of(value: dict[str, Any]) -> str:
    """The digest of an event's content (from `content`)."""
    return hashlib.sha256(canonical(value)).hexdigest()


def link(previous: str, position: int, digest: str) -> str:
    """The chain hash at `position`, given the one before it and the event's digest."""
    data = b"\n".join((_DOMAIN, str(position).encode(), previous.encode(), digest.encode()))
    return hashlib.sha256(data).hexdigest()


class ChainKeeper:
    """Extends the stored chain over events recorded since it last ran."""

    def __init__(self, engine: Engine, tracker: Tracker, *, batch_size: int = 5000) -> None:
        self.engine, self.tracker, self.batch_size = engine, tracker, batch_size

    def _lock(self, conn: Connection) -> Any:
        query = select(t.chain_head).where(t.chain_head.c.name == t.HEAD_ROW)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            t.ensure_head(conn)
            row = conn.execute(query).one()
        return row

    def run_once(self) -> int:
        """Chain one batch in one transaction; returns how many events it chained."""
        with writing(self.engine) as conn:
            head = self._lock(conn)
            page = self._page(head.log_id)
            if not page:
                return 0
            rows = self._links(head.position, head.hash, page)
            _ROWS.insert(conn, t.chain, rows)
            conn.execute(update(t.chain_head).where(t.chain_head.c.name == t.HEAD_ROW)
                         .values(position=rows[-1]["position"], log_id=page[-1].id,
                                 hash=rows[-1]["hash"]))
            return len(page)

    def _page(self, after: int) -> Sequence[Any]:
        page: Sequence[Any] = self.tracker.recorder.select_notifications(
            start=after, limit=self.batch_size, inclusive_of_start=False)
        return page

    def _links(self, position: int, previous: str, page: Sequence[Any],
               ) -> list[dict[str, Any]]:
        """The chain's rows for `page`, the events after `position` (whose hash is
        `previous`)."""
        rows = []
        for notification in page:
            position += 1
            digest = digest_of(content(notification, self.tracker.mapper))
            previous = link(previous, position, digest)
            rows.append({"position": position, "log_id": notification.id,
                         "digest": digest, "hash": previous})
        return rows

    def catch_up(self) -> int:
        """Chain everything recorded so far; returns how many events were chained."""
        total = 0
        while count := self.run_once():
            total += count
        return total

    def log_id(self) -> int:
        """The store's id of the last chained event (compare with `Tracker.head()`)."""
        with self.engine.connect() as conn:
            value = conn.execute(select(t.chain_head.c.log_id).where(
                t.chain_head.c.name == t.HEAD_ROW)).scalar()
        return int(value or 0)

    def head(self) -> Head:
        """The stored chain's head (position 0 and the genesis hash when empty)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.chain_head).where(
                t.chain_head.c.name == t.HEAD_ROW)).first()
        return Head(row.position, row.hash) if row else Head(0, t.GENESIS)

    def head_now(self) -> Head:
        """The chain's head over the whole log as it is now, without writing: the stored
        head, carried in memory over the events recorded since (which `catch_up` stores)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.chain_head).where(
                t.chain_head.c.name == t.HEAD_ROW)).first()
        position, log_id, previous = (row.position, row.log_id, row.hash) if row else (
            0, 0, t.GENESIS)
        while page := self._page(log_id):
            rows = self._links(position, previous, page)
            position, log_id, previous = rows[-1]["position"], page[-1].id, rows[-1]["hash"]
        return Head(position, previous)

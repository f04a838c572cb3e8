"""The event store: an eventsourcing application over SQLite or PostgreSQL.

The application name and every topic are pinned, so the stored history outlives any
refactoring. Partial dates and sources are transcoded explicitly (`transcoding`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Transcoder
from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT, SQLiteDatastore
from eventsourcing.utils import EnvType

from cmsbot.eventstore import transcoding
from cmsbot.eventstore.bulk_rows import AddRows, BulkRecorder, hex_of, uuid_of
from domain.errors import UnknownItemError
from domain.events import ItemEvent, ItemRegistered
from domain.items import Item, Partner, item_id, partner_id
from domain.outlines import ReportOutlined, ReportOutlineRevised, outline_id
from projections.logrows import LogRow

LAST_VERSION = 2**62  # beyond any item's last version


@dataclass(frozen=True)
class Positioned:
    """An event with its position in the application log."""

    position: int
    event: Any


class Tracker(Application[UUID]):
    """The Secretariat's log of everything that happened to what it tracks."""

    name = "cmsbot"
    # Long-lived items stay fast to load: the cache keeps them, and fast-forwards
    # from the store when another process recorded since. Threads never share an aggregate
    # they change: a writer checks the cached one out to itself (`checked_out`), under the
    # aggregate's lock, and every other caller gets a copy of its own, made under that lock.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        if not isinstance(self.recorder, BulkRecorder):
            raise TypeError(f"{type(self.recorder).__name__} has no bulk paths; choose "
                            "cmsbot.eventstore's recorders (Database.eventsourcing_env)")
        self.bulk_recorder: BulkRecorder = self.recorder
        # The library fast-forwards a cached aggregate under a lock of its own, but copies
        # it after releasing that lock, and a writer changes it in place: one lock per
        # aggregate covers the fast-forward, the copy and the writer's command and save.
        self._locks = AggregateLocks()
        datastore = getattr(self.recorder, "datastore", None)
        if isinstance(datastore, SQLiteDatastore):
            # SQLite has one writer at a time. A save waits for the file's lock for up to
            # SQLITE_LOCK_TIMEOUT; the pool's own writer slot must wait as long, or writers
            # queued behind it fail after the pool's 5 s instead of taking their turn.
            datastore.pool.pool_timeout = float(
                self.env.get("SQLITE_LOCK_TIMEOUT") or SQLITE3_DEFAULT_LOCK_TIMEOUT)

    def construct_transcoder(self) -> Transcoder:
        transcoder = transcoding.FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoding.register_transcodings(transcoder)

    # Reading ------------------------------------------------------------------------

    def item(self, key: str) -> Item:
        return self._get(item_id(key), key)  # type: ignore[no-any-return]

    def partner(self, key: str) -> Partner:
        return self._get(partner_id(key), key)  # type: ignore[no-any-return]

    def _get(self, aggregate_id: UUID, key: str) -> Any:
        try:
            return self.get(aggregate_id)
        except AggregateNotFoundError:
            raise UnknownItemError(self._unknown(key)) from None

    def get(self, aggregate_id: UUID) -> Any:
        """The aggregate as the store has it now, as a copy the caller alone may change
        (raises AggregateNotFoundError)."""
        with self._locks.holding(aggregate_id):
            return self.repository.get(aggregate_id)

    def checked_out(self, aggregate_id: UUID) -> AbstractContextManager[Any]:
        """The cached aggregate itself, as the store has it now, for one command and its
        save inside the block (raises AggregateNotFoundError). No other thread of this
        process loads, copies or changes it until the block ends: a writer of one event
        need not copy a long item's lists. If the block raises, or leaves events unsaved,
        the cached aggregate is dropped (the command may have changed it, the save may
        have failed), and the next load folds it afresh from the store."""
        return self._checked_out(aggregate_id, None)

    def item_checked_out(self, key: str) -> AbstractContextManager[Item]:
        """`checked_out` of the item with this key (raises UnknownItemError)."""
        return self._checked_out(item_id(key), key)

    @contextlib.contextmanager
    def _checked_out(self, aggregate_id: UUID, key: str | None) -> Iterator[Any]:
        with self._locks.holding(aggregate_id):
            try:
                aggregate: Any = self.repository.get(aggregate_id, deepcopy_from_cache=False)
            except AggregateNotFoundError:
                if key is None:
                    raise
                raise UnknownItemError(self._unknown(key)) from None
            try:
                yield aggregate
            except BaseException:
                self._forget(aggregate_id)
                raise
            if aggregate.pending_events:
                self._forget(aggregate_id)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save; a save that fails drops its aggregates from the cache, so
        that an aggregate changed by a command whose event was not stored is never handed
        out again (the save has taken its pending events by then)."""
        try:
            return super().save(*objs, **kwargs)
        except BaseException:
            for obj in objs:
                if isinstance(obj, BaseAggregate):
                    self._forget(obj.id)
            raise

    @staticmethod
    def _unknown(key: str) -> str:
        return f"nothing is tracked under the key {key!r}"

    def _forget(self, aggregate_id: UUID) -> None:
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate has been saved: one look at the store, no aggregate
        loaded (the library's `in repository` loads and copies it)."""
        return bool(self.bulk_recorder.select_existing([aggregate_id]))

    def existing(self, aggregate_ids: Collection[UUID], *, chunk: int = 500) -> set[UUID]:
        """Which of these aggregates have been saved (`exists` of each): a few queries for
        a whole import, where `exists` would load each aggregate."""
        wanted = list(aggregate_ids)
        found: set[UUID] = set()
        for start in range(0, len(wanted), chunk):
            found.update(self.bulk_recorder.select_existing(wanted[start:start + chunk]))
        return found

    def insert_in_parts(self) -> AbstractContextManager[AddRows]:
        """One save made of parts added in turn, all or nothing: each part (event rows,
        `bulk_rows.encode_rows` of events this application's mapper encodes) is inserted
        when it is added, and the save commits when the block ends without an error. What
        `save` records of the same events, without its recordings for followers."""
        return self.bulk_recorder.bulk()

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    after_version: int | None = None) -> list[ItemRegistered | ItemEvent]:
        """One item's events in version order (those after `after_version` only, when
        given): the only read an as-at question needs."""
        stored = self.recorder.select_events(aggregate_id, gt=after_version, lte=up_to_version)
        return [self.mapper.to_domain_event(s) for s in stored]  # type: ignore[misc]

    def items_events(self, wanted: Mapping[UUID, tuple[int | None, int | None]], *,
                     chunk: int = 300,
                     ) -> Iterator[tuple[UUID, list[ItemRegistered | ItemEvent]]]:
        """Each item's id and events as `item_events` reads them, in the order of `wanted`,
        which gives each item's (`after_version`, `up_to_version`). A query for `chunk`
        items, where `item_events` takes one an item; only one chunk's events are held."""
        ranges = [(aggregate, after or 0, LAST_VERSION if up_to is None else up_to)
                  for aggregate, (after, up_to) in wanted.items()]
        to_domain_event = self.mapper.to_domain_event
        for start in range(0, len(ranges), chunk):
            part = ranges[start:start + chunk]
            found: dict[UUID, list[Any]] = {aggregate: [] for aggregate, _, _ in part}
            for row in self.bulk_recorder.select_ranges(part):
                aggregate = uuid_of(row[0])
                found[aggregate].append(to_domain_event(StoredEvent(aggregate, *row[1:])))
            yield from found.items()

    def outline_events(self, document: str) -> list[ReportOutlined | ReportOutlineRevised]:
        """The events of the document's report outline, in version order (none when no file
        declared one)."""
        stored = self.recorder.select_events(outline_id(document))
        return [self.mapper.to_domain_event(s) for s in stored]  # type: ignore[misc]

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        """Up to `limit` events after log position `after`, in log order."""
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False)
        return [Positioned(n.id, self.mapper.to_domain_event(n)) for n in notifications]

    def read_rows(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` stored events after log position `after`, in log order, undecoded:
        what a rebuild hands another process to decode (`decode_rows` of them is `read`)."""
        return self.bulk_recorder.select_rows(after, limit)

    def decode_rows(self, rows: Sequence[LogRow]) -> list[Positioned]:
        """Rows of `read_rows`, decoded; reads nothing (another process may do it)."""
        to_domain_event = self.mapper.to_domain_event
        return [Positioned(row[0], to_domain_event(StoredEvent(uuid_of(row[1]), *row[2:])))
                for row in rows]

    def originators_of(self, *event_types: type[Any]) -> set[str]:
        """The ids (32 hex digits) of whatever recorded an event of these types."""
        topics = [event_type.TOPIC for event_type in event_types]  # pinned topics
        return {hex_of(n.originator_id) for n in self.recorder.select_notifications(
            start=None, limit=2**62, topics=topics)}

    def head(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def last_positions(self, after: int, through: int) -> dict[str, int]:
        """Each aggregate with events in the log after position `after` up to `through`:
        the position of its last one there, by its id as `str(UUID)` spells it."""
        return {str(UUID(hex_id)): position for hex_id, position
                in self.bulk_recorder.select_last_positions(after, through).items()}

    def iter_log(self, after: int = 0, batch: int = 1000) -> Iterator[Positioned]:
        while True:
            page = self.read(after, batch)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].position


class AggregateLocks:
    """One lock per aggregate, kept while a thread holds or waits for it. Re-entrant: a
    thread that holds an aggregate may load it again. Each aggregate has a lock of its own,
    not one of a few shared stripes: a writer holding an item loads partners (to name
    them), and with stripes two such writers could each wait for a stripe the other holds."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: dict[UUID, tuple[threading.RLock, list[int]]] = {}

    @contextlib.contextmanager
    def holding(self, aggregate_id: UUID) -> Iterator[None]:
        with self._guard:
            entry = self._held.get(aggregate_id)
            if entry is None:
                entry = self._held[aggregate_id] = (threading.RLock(), [0])
            entry[1][0] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1][0] -= 1
                if not entry[1][0]:
                    del self._held[aggregate_id]

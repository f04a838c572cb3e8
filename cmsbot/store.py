"""The event store: an eventsourcing application over SQLite or PostgreSQL.

The application name and every topic are pinned, so the stored history outlives any
refactoring. Partial dates and sources are transcoded explicitly.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteAggregateRecorder,
    SQLiteDatastore,
)
from eventsourcing.utils import EnvType, get_topic

from cmsbot.sqliterecorder import EventRow, event_row, hex_of, uuid_of
from domain.dates import PartialDate
from domain.errors import UnknownItemError
from domain.events import ItemEvent, ItemRegistered
from domain.items import Item, Partner, item_id, partner_id
from domain.provenance import Source
from projections.parallel_rebuild import LogRow


class PartialDateAsDict(Transcoding):
    type = PartialDate
    name = "partial_date"

    def encode(self, obj: PartialDate) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> PartialDate:
        return PartialDate.from_dict(data)


class SourceAsDict(Transcoding):
    type = Source
    name = "source"

    def encode(self, obj: Source) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Source:
        return Source.from_dict(data)


class FastJSONTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoding, with orjson doing the work: the same stored form
    (compact, UTF-8, custom types as {"_type_", "_data_"}), several times faster. Dates,
    times and dataclasses are passed to the registered transcodings as before."""

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def __init__(self) -> None:
        super().__init__()
        # Dates and sources are frozen values that a log repeats: each distinct one is
        # encoded once (equal values have equal encodings).
        self._encode_value = functools.lru_cache(maxsize=65536)(super()._encode_obj)

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=self._OPTIONS)

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        if type(o) is PartialDate or type(o) is Source:
            return self._encode_value(o)
        return super()._encode_obj(o)

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        """What json's object_hook does: innermost objects first. An event's state is a flat
        mapping whose objects are mostly values of this application's own types, whose data
        holds no objects; those are decoded where they are met, without descending."""
        if type(value) is dict:
            flat = self._flat
            for key, inner in value.items():
                kind = type(inner)
                if kind is dict:
                    name = inner.get("_type_") if len(inner) == 2 else None
                    decode = flat.get(name) if type(name) is str else None
                    if decode is not None and "_data_" in inner:
                        value[key] = decode(inner["_data_"])
                    else:
                        value[key] = self._revive(inner)
                elif kind is list:
                    value[key] = self._revive(inner)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)
            return value
        return [self._revive(v) if type(v) is dict or type(v) is list else v for v in value]

    # The registered types whose stored data is text, or a mapping of plain values.
    _FLAT_TYPES = ("partial_date", "source", "datetime_iso", "uuid_hex", "decimal_str")

    @functools.cached_property
    def _flat(self) -> dict[str, Any]:
        """Each flat type's decode, by the name it is stored under."""
        return {name: self.names[name].decode for name in self._FLAT_TYPES
                if name in self.names}


def encode_rows(mapper: Mapper[Any], aggregates: Iterable[Any]) -> list[EventRow]:
    """The new events of these aggregates as `mapper.to_stored_event` encodes them, as
    rows: the same state bytes, without a StoredEvent for each event, and each
    aggregate's id written once (an import encodes a million events this way)."""
    if mapper.compressor is not None or mapper.cipher is not None:
        return [event_row(mapper.to_stored_event(event)) for aggregate in aggregates
                for event in aggregate.collect_events()]
    encode = mapper.transcoder.encode
    rows: list[EventRow] = []
    for aggregate in aggregates:
        events = aggregate.collect_events()
        if not events:
            continue
        originator = hex_of(events[0].originator_id)  # an aggregate's events share it
        for event in events:
            state = dict(vars(event))
            del state["originator_id"]
            version = state.pop("originator_version")
            kind = type(event)
            class_version = getattr(kind, "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
            rows.append((originator, version, get_topic(kind), encode(state)))
    return rows


@dataclass(frozen=True)
class Positioned:
    """An event with its position in the application log."""

    position: int
    event: Any


class Tracker(Application[UUID]):
    """The Secretariat's log of everything that happened to what it tracks."""

    name = "cmsbot"
    # Long-lived items stay fast to load: the cache keeps them, and fast-forwards
    # from the store when another process recorded since. Each caller gets a copy of its
    # own (the library's default), so that threads never share an aggregate they change.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        # The library fast-forwards a cached aggregate under a lock of its own, but copies
        # it after releasing that lock, so a copy could catch another thread's fast-forward
        # half done: one lock per aggregate (striped) covers both.
        self._loading = tuple(threading.Lock() for _ in range(64))
        datastore = getattr(self.recorder, "datastore", None)
        if isinstance(datastore, SQLiteDatastore):
            # SQLite has one writer at a time. A save waits for the file's lock for up to
            # SQLITE_LOCK_TIMEOUT; the pool's own writer slot must wait as long, or writers
            # queued behind it fail after the pool's 5 s instead of taking their turn.
            datastore.pool.pool_timeout = float(
                self.env.get("SQLITE_LOCK_TIMEOUT") or SQLITE3_DEFAULT_LOCK_TIMEOUT)

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PartialDateAsDict())
        transcoder.register(SourceAsDict())

    # Reading ------------------------------------------------------------------------

    def item(self, key: str) -> Item:
        return self._get(item_id(key), key)  # type: ignore[no-any-return]

    def partner(self, key: str) -> Partner:
        return self._get(partner_id(key), key)  # type: ignore[no-any-return]

    def _get(self, aggregate_id: UUID, key: str) -> Any:
        try:
            return self.get(aggregate_id)
        except AggregateNotFoundError:
            raise UnknownItemError(f"nothing is tracked under the key {key!r}") from None

    def get(self, aggregate_id: UUID) -> Any:
        """The aggregate as the store has it now, as a copy the caller alone may change
        (raises AggregateNotFoundError)."""
        with self._loading[aggregate_id.int % len(self._loading)]:
            return self.repository.get(aggregate_id)

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def existing(self, aggregate_ids: Collection[UUID], *, chunk: int = 500) -> set[UUID]:
        """Which of these aggregates have been saved: a few queries for a whole import,
        where `exists` would load each aggregate."""
        wanted = list(aggregate_ids)
        found: set[UUID] = set()
        for start in range(0, len(wanted), chunk):
            found.update(self._existing(wanted[start:start + chunk]))
        return found

    def _existing(self, ids: list[UUID]) -> set[UUID]:
        recorder: Any = self.recorder
        table = recorder.events_table_name  # the recorder's own name, never user input
        if isinstance(recorder, SQLiteAggregateRecorder):
            marks = ",".join("?" * len(ids))
            statement = (f"SELECT originator_id FROM {table} "  # noqa: S608 - names are ours
                         f"WHERE originator_version = 1 AND originator_id IN ({marks})")
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [i.hex for i in ids])
                return {UUID(row[0]) for row in cursor.fetchall()}
        from psycopg.sql import SQL, Identifier

        query = SQL("SELECT originator_id FROM {}.{} WHERE originator_version = 1 "
                    "AND originator_id = ANY(%s)").format(
            Identifier(recorder.datastore.schema), Identifier(table))
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (ids,))
            return {UUID(str(row["originator_id"])) for row in cursor.fetchall()}

    def save_all(self, *aggregates: Item | Partner) -> None:
        """Record the new events of many aggregates in one insert, all or nothing: an
        import's save. `save` does the same and also makes a recording of each event for
        followers, which nothing here has; at an import's size that costs a tenth of it."""
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        self.recorder.insert_events([self.mapper.to_stored_event(e) for e in events])

    @contextlib.contextmanager
    def insert_in_parts(self) -> Iterator[Callable[[Sequence[EventRow]], object]]:
        """One save made of parts added in turn, all or nothing: each part (event rows,
        `encode_rows` of events this application's mapper encodes) is inserted when it is
        added, and the save commits when the block ends without an error. Both of the
        recorders the settings choose (cmsbot.sqliterecorder, cmsbot.pgrecorder) hold such
        sessions."""
        recorder: Any = self.recorder
        with recorder.bulk() as add:
            yield add

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[ItemRegistered | ItemEvent]:
        """One item's events in version order: the only read an as-at question needs."""
        stored = self.recorder.select_events(aggregate_id, lte=up_to_version)
        return [self.mapper.to_domain_event(s) for s in stored]  # type: ignore[misc]

    def read(self, after: int, limit: int) -> Sequence[Positioned]:
        """Up to `limit` events after log position `after`, in log order."""
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False)
        return [Positioned(n.id, self.mapper.to_domain_event(n)) for n in notifications]

    def read_rows(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` stored events after log position `after`, in log order, undecoded:
        what a rebuild hands another process to decode."""
        recorder: Any = self.recorder
        if isinstance(recorder, SQLiteAggregateRecorder):
            table = recorder.events_table_name  # the recorder's own name, never user input
            statement = (f"SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                         f"FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?")
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, (after, limit))
                return [tuple(row) for row in cursor.fetchall()]
        return [(n.id, n.originator_id.hex, n.originator_version, n.topic, n.state)
                for n in recorder.select_notifications(start=after, limit=limit,
                                                       inclusive_of_start=False)]

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

    def iter_log(self, after: int = 0, batch: int = 1000) -> Iterator[Positioned]:
        while True:
            page = self.read(after, batch)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].position

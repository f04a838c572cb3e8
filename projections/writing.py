"""The one way to open a transaction that writes to the views' database, and the gate that
puts a process's SQLite writers in one queue.

SQLite lets one connection write at a time. A transaction begun plainly (BEGIN) that reads
and then writes fails at once ("database is locked") when another connection wrote since
its read, without waiting its turn. A transaction begun by `writing` asks for the write
lock first (BEGIN IMMEDIATE, by the `write_lock` option that `cmsbot.db.make_engine`
honours), so it waits behind other writers up to the busy timeout instead.

A process writes to one SQLite file through two pools: the event store's and the views'
engine. The event store's pool hands out connections in the order they were asked for, so
a save waiting there for the file's lock holds up the pool's readers too; a projector that
holds the file's lock and reads the log through that pool would then wait for the save
that waits for it, until the busy timeout. So each writer of the process first takes the
file's gate (`sqlite_gate`), and only then the file's lock: in-process writers queue at the
gate, and whoever holds the file's lock can always read. Other processes still meet at the
file's lock, where SQLite's busy timeout queues them. On PostgreSQL there is no gate.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine

_gates: dict[str, threading.RLock] = {}
_named: dict[str, threading.RLock] = {}  # each name a gate was asked by, as given
_gates_lock = threading.Lock()


def sqlite_gate(database: str) -> threading.RLock:
    """The gate of this process's writers to the SQLite file named by `database`: a path,
    or an SQLite URI (`file:/path?mode=rw`), which names the same file as its path."""
    gate = _named.get(database)  # every write asks: the file's real path is found once
    if gate is not None:
        return gate
    path = unquote(urlsplit(database).path) if database.startswith("file:") else database
    name = os.path.realpath(path)
    with _gates_lock:
        gate = _gates.get(name)
        if gate is None:
            gate = _gates[name] = threading.RLock()
        _named[database] = gate
        return gate


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that may write; it commits when the block ends
    without an error, and rolls back otherwise."""
    database = engine.url.database
    gate = sqlite_gate(database) if engine.dialect.name == "sqlite" and database else None
    with (gate or nullcontext()), \
            engine.connect().execution_options(write_lock=True) as conn, conn.begin():
        yield conn

"""Connections to the database that holds both the event log and the views."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.persistence import ConnectionPoolClosedError, PersistenceError
from sqlalchemy import Engine, create_engine, delete, event, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from cmsbot.settings import Database, Reading
from cmsbot.storefile import StoreUnhealthyError
from projections.positions import ensure_positions
from projections.tables import VIEW_TABLES, VIEWS_VERSION, metadata, positions, schema_info
from projections.views import VIEWS, notices
from projections.writing import writing


class StoreNotInitialisedError(Exception):
    """The database has no cmsbot schema yet: run `cmsbot db init`."""


class StoreMissingError(StoreNotInitialisedError):
    """The SQLite store's file does not exist, and only `cmsbot db init` makes a new one."""


# What the store raises when it is down, full, read-only, damaged, gone or not set up: said
# in words (see `store_problem`), never swallowed and never a traceback. A closed pool is
# what a request still at work meets when its container was closed because the store went
# away (`cmsbot.slack.app.LazyContainer`).
STORE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError, PersistenceError, ConnectionPoolClosedError, StoreNotInitialisedError,
    StoreUnhealthyError, sqlite3.Error)


def store_problem(error: BaseException, database: Database) -> str:
    """One line for a person: which store, what its database said, and what that means."""
    if isinstance(error, StoreUnhealthyError):
        return f"the store {database.redacted} {error}"
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    said = next((line.strip() for line in str(cause).splitlines() if line.strip()),
                type(cause).__name__)
    hint = ""
    if database.is_sqlite:
        path = database.sqlite_path
        folder = path.parent if path.parent.exists() else Path(".")
        if "full" in said or "disk I/O" in said:
            hint = " (is its disk full? Free some space, then try again)"
        if "malformed" in said or "not a database" in said:
            hint = " (its file is damaged: restore it from a backup)"
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            hint = " (its file system is read-only)"
        elif "readonly" in said or (path.exists() and not os.access(path, os.W_OK)):
            hint = " (its file cannot be written)"
        elif not path.exists():
            hint = " (its file is gone: it was deleted or moved)"
        elif not os.access(path.parent, os.W_OK):
            hint = " (its folder cannot be written)"
    elif "connect" in said or "timeout" in said.lower():
        hint = " (is the database server running? Try again when it is)"
    return f"the store {database.redacted} did not work: {said}{hint}"


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (states, dates, sources) written and read by orjson: a rebuild writes
# hundreds of thousands of them.
_JSON_COLUMNS: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


def make_engine(database: Database, *, create: bool = False,
                reading: Reading | None = None) -> Engine:
    """An engine for the views. On SQLite, a connection asked for `write_lock` begins
    with BEGIN IMMEDIATE, so that two projectors serialise instead of racing; only
    with `create` does connecting make the file (and its folder) when there is none; and
    with `reading` the file is opened read-only (see `Reading`)."""
    if database.is_sqlite:
        if create:
            database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database.sqlalchemy_url(create=create, reading=reading),
                               connect_args={"timeout": 30}, **_JSON_COLUMNS)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            if reading is None:  # `db init` made it a WAL store; a reader changes nothing
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("write_lock")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # The views' queries are short: a parallel plan's workers cost more to start than they
    # save, and PostgreSQL picks one on a misestimate ("coming up as at D" at a million
    # events: a parallel scan of the agenda, 47 ms, where its index gives 8).
    settings = ["-cmax_parallel_workers_per_gather=0"]
    if database.schema:
        settings.append(f"-csearch_path={database.schema}")
    options = {"connect_timeout": 5, "options": " ".join(settings)}
    return create_engine(database.sqlalchemy_url(), connect_args=options, pool_pre_ping=True,
                         pool_size=5, max_overflow=5, **_JSON_COLUMNS)


def create_views(engine: Engine) -> None:
    """Create the view tables; views of an older shape are dropped first, and the
    projector then rebuilds them from the log."""
    with writing(engine) as conn:
        inspector = inspect(conn)
        stale = inspector.has_table("board") and _views_version(conn) != str(VIEWS_VERSION)
        if stale:
            for table in reversed(VIEW_TABLES):
                table.drop(conn, checkfirst=True)
            conn.execute(delete(positions).where(positions.c.name.in_(VIEWS)))
        notices.upgrade(conn)
    metadata.create_all(engine)
    with writing(engine) as conn:
        # Written only when it changes: a store that is current is not written to on
        # start, so that it can still be read on a full disk.
        if _views_version(conn) != str(VIEWS_VERSION):
            conn.execute(delete(schema_info).where(schema_info.c.name == "views_version"))
            conn.execute(insert(schema_info).values(name="views_version",
                                                    value=str(VIEWS_VERSION)))
    with writing(engine) as conn:
        ensure_positions(conn)


def views_current(engine: Engine) -> bool:
    """Whether the view tables are of this version's shape (`create_views` makes them so)."""
    with engine.connect() as conn:
        return _views_version(conn) == str(VIEWS_VERSION)


def _views_version(conn: Any) -> str | None:
    if not inspect(conn).has_table(schema_info.name):
        return None
    value = conn.execute(select(schema_info.c.value).where(
        schema_info.c.name == "views_version")).scalar()
    return None if value is None else str(value)


def views_exist(engine: Engine) -> bool:
    return inspect(engine).has_table("projection_positions")

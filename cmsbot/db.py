"""Connections to the database that holds both the event log and the views."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect

from cmsbot.settings import Database
from projections.tables import metadata


class StoreNotInitialisedError(Exception):
    """The database has no cmsbot schema yet: run `cmsbot db init`."""


def make_engine(database: Database) -> Engine:
    """An engine for the views. On SQLite, a connection asked for `write_lock` begins
    with BEGIN IMMEDIATE, so that two projectors serialise instead of racing."""
    if database.is_sqlite:
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database.sqlalchemy_url(), connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("write_lock")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    options = {"connect_timeout": 5}
    if database.schema:
        options["options"] = f"-csearch_path={database.schema}"  # type: ignore[assignment]
    return create_engine(database.sqlalchemy_url(), connect_args=options, pool_pre_ping=True,
                         pool_size=5, max_overflow=5)


def create_views(engine: Engine) -> None:
    metadata.create_all(engine)


def views_exist(engine: Engine) -> bool:
    return inspect(engine).has_table("projection_positions")

"""Shared fixtures: real stores only (a SQLite file, or a fresh PostgreSQL schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container, bootstrap, init_schema
from cmsbot.history import SEED, read_history_file
from cmsbot.settings import Database, Settings

POSTGRES_URL = os.environ.get("CMSBOT_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CMSBOT_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL unavailable and CMSBOT_SKIP_POSTGRES=1: {problem}")
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} does not answer ({problem}); start it "
                    "or set CMSBOT_SKIP_POSTGRES=1 to skip its tests locally")
    return POSTGRES_URL


def postgres_schema_url(server: str) -> Iterator[str]:
    schema = f"t_{uuid4().hex[:16]}"
    separator = "&" if "?" in server else "?"
    yield f"{server}{separator}schema={schema}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cmsbot.sqlite"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    yield from postgres_schema_url(postgres_server)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cmsbot.sqlite"
        return
    server = request.getfixturevalue("postgres_server")
    yield from postgres_schema_url(server)


def new_store(url: str) -> str:
    """`url`, with a store made there if there is none (what `cmsbot db init` does; nothing
    else makes one)."""
    init_schema(Settings(database=Database(url)))
    return url


def make_container(url: str) -> Container:
    """A container over the store at `url`, made first if it is new."""
    return bootstrap(Settings(database=Database(new_store(url))))


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    built = make_container(database_url)
    yield built
    built.close()


@pytest.fixture
def seeded(container: Container) -> Container:
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    return container


def view_rows(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the main views, sorted: two of these are equal when the views are."""
    from sqlalchemy import select

    from projections import tables as t

    with container.engine.connect() as conn:
        return {table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
                for table in (t.board, t.calendar, t.submissions, t.activity, t.partners)}

"""The record of handled deliveries lives in the database: a claim is won once, also by
another process or after a restart, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from cmsbot.bootstrap import init_schema
from cmsbot.db import make_engine
from cmsbot.settings import Database, Settings
from cmsbot.slack.deliveries import Deliveries, deliveries

POSTGRES = os.environ.get("CMSBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite:///{tmp_path}/cmsbot.sqlite")
        return
    schema = f"bot_{uuid.uuid4().hex[:12]}"
    database = Database(f"{POSTGRES}?schema={schema}")
    try:
        init_schema(Settings(database=database))
        yield database
    finally:
        admin = create_engine(Database(POSTGRES).sqlalchemy_url())
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    if database.is_sqlite:
        init_schema(Settings(database=database))
    engine = make_engine(database)
    yield engine
    engine.dispose()


def test_db_init_creates_the_table(engine: Engine) -> None:
    assert inspect(engine).has_table(deliveries.name)


def test_a_key_is_claimed_once_even_by_a_restarted_process(database: Database,
                                                           engine: Engine) -> None:
    assert Deliveries(engine).claim("event:Ev1")
    assert not Deliveries(engine).claim("event:Ev1", retry_num=1, retry_reason="http_timeout")
    restarted = make_engine(database)
    try:
        assert not Deliveries(restarted).claim("event:Ev1", retry_num=2)
        assert Deliveries(restarted).claim("event:Ev2")
    finally:
        restarted.dispose()


def test_old_claims_are_pruned(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    store = Deliveries(engine)
    store.claim("event:old")
    assert store.prune(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert store.claim("event:old")

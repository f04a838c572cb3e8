"""The writers of one SQLite file share one gate, however the file is named."""

from __future__ import annotations

from pathlib import Path

from cmsbot.bootstrap import Container
from cmsbot.settings import Database
from projections.writing import sqlite_gate


def test_a_path_and_its_uris_name_one_gate(tmp_path: Path) -> None:
    path = tmp_path / "a store" / "cmsbot.sqlite"
    database = Database(f"sqlite:///{path}")
    gate = sqlite_gate(str(path))
    assert sqlite_gate(database.sqlite_uri(create=False)) is gate
    assert sqlite_gate(database.sqlite_uri(create=True)) is gate
    assert sqlite_gate(str(tmp_path / "other.sqlite")) is not gate


def test_the_event_store_and_the_views_pass_one_gate(container: Container) -> None:
    recorder = container.tracker.recorder
    datastore = getattr(recorder, "datastore", None)
    if container.engine.dialect.name != "sqlite" or datastore is None:
        return  # PostgreSQL has no gate
    database = container.engine.url.database
    assert database is not None
    assert sqlite_gate(datastore.pool.db_name) is sqlite_gate(database)

"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsbot.bootstrap import Container
from tests.conftest import make_container, postgres_schema_url
from tests.integration import rebuilds


@pytest.fixture
def other_store(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A second, empty store of the same kind as `container`'s: what a differential test
    compares it with."""
    if database_url.startswith("sqlite"):
        store = make_container(f"sqlite:///{tmp_path}/other.sqlite")
        yield store
        store.close()
        return
    urls = postgres_schema_url(database_url.split("?")[0])
    store = make_container(next(urls))
    yield store
    store.close()
    next(urls, None)  # drops the schema


@pytest.fixture
def long_history(seeded: Container, tmp_path: Path) -> Container:
    """The seed with a synthetic history beside it, corrected and retracted
    (`rebuilds.long_history`)."""
    return rebuilds.long_history(seeded, tmp_path)

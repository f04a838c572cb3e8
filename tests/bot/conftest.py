from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsbot.bootstrap import Container, bootstrap
from cmsbot.history import SEED, read_history_file
from cmsbot.services import LOCAL_OPERATOR
from cmsbot.settings import Database, Settings

from .fakes import FakeSlack


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Container]:
    """A real SQLite store holding the StC44 report."""
    container = bootstrap(Settings(database=Database(f"sqlite:///{tmp_path}/cmsbot.sqlite")))
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    yield container
    container.close()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    yield slack
    slack.stop()

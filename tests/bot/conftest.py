from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, read_history_file
from tests.conftest import make_container

from .fakes import FakeSlack


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Container]:
    """A real SQLite store holding the StC44 report."""
    container = make_container(f"sqlite:///{tmp_path}/cmsbot.sqlite")
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    yield container
    container.close()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    yield slack
    slack.stop()

"""Two projector processes at once on PostgreSQL apply every event exactly once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from cmsbot.history import SEED, read_history_file
from cmsbot.services import LOCAL_OPERATOR
from domain.provenance import Source
from projections import tables as t
from tests.conftest import make_container, view_rows


@pytest.mark.postgres
def test_two_projectors_at_once_give_the_views_of_one(postgres_url: str) -> None:
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        for number in range(60):
            container.recorder.record(
                LOCAL_OPERATOR, key="unep-mts", what="progress noted",
                fields={"summary": f"contact {number}"}, occurred="2016",
                source=Source("test", str(number)))
        head = container.tracker.head()
        env = {**os.environ, "CMSBOT_DATABASE_URL": postgres_url}
        command = [sys.executable, "-m", "cmsbot.cli", "projector", "--once",
                   "--batch-size", "7"]
        runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        applied = sorted(int(out.split()[2]) for out, _ in outputs)
        assert sum(applied) == head  # each event applied by exactly one of them

        with container.engine.connect() as conn:
            partner_events = conn.execute(select(func.count()).select_from(t.partners)
                                          ).scalar_one()
            activity = conn.execute(select(func.count()).select_from(t.activity)).scalar_one()
            assert activity + partner_events == head  # one row per item event
            for row in conn.execute(select(t.board.c.version, t.board.c.state)):
                assert row.state["event_count"] == row.version  # no event counted twice
        concurrent = view_rows(container)
        container.projector.rebuild()
        assert view_rows(container) == concurrent
    finally:
        container.close()

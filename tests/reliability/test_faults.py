"""Faults with real processes and a real PostgreSQL: concurrent writers, killed projectors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from domain.items import item_id
from domain.provenance import Source
from projections import tables as t
from tests.conftest import make_container, view_rows

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_four_concurrent_writers_lose_nothing_and_duplicate_nothing(postgres_url: str) -> None:
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        before = len(container.tracker.item_events(item_id("unep-mts")))
        env = {**os.environ, "CMSBOT_DATABASE_URL": postgres_url}
        writers = [subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.writer", postgres_url, f"w{n}", "15"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in range(4)]
        results = [w.communicate(timeout=180) for w in writers]
        assert [w.returncode for w in writers] == [0, 0, 0, 0], results
        lines = [line for out, _ in results for line in out.split()]
        acknowledged = [line for line in lines if not line.startswith("refused:")]
        assert len(lines) == 60 and len(acknowledged) >= 50  # conflicts are mostly retried
        events = container.tracker.item_events(item_id("unep-mts"))
        summaries = [str(getattr(e, "summary", "")) for e in events[before:]]
        assert sorted(summaries) == sorted(acknowledged)  # each exactly once
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        container.catch_up()
        with container.engine.connect() as conn:
            versions = conn.execute(select(t.activity.c.version).where(
                t.activity.c.item_id == str(item_id("unep-mts")))
                .order_by(t.activity.c.version)).scalars().all()
            board = conn.execute(select(t.board.c.version, t.board.c.state).where(
                t.board.c.key == "unep-mts")).one()
        assert versions == list(range(1, len(events) + 1))  # no gap, no duplicate
        assert board.version == board.state["event_count"] == len(events)
    finally:
        container.close()


def test_a_projector_killed_mid_catch_up_converges_when_restarted(postgres_url: str) -> None:
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        for number in range(400):
            container.recorder.record(LOCAL_OPERATOR, key="sdgs", what="progress noted",
                                      fields={"summary": f"input {number}"}, occurred="2016",
                                      source=Source("TEST/K", str(number)))
        head = container.tracker.head()
        env = {**os.environ, "CMSBOT_DATABASE_URL": postgres_url}
        command = [sys.executable, "-m", "cmsbot.cli", "projector", "--once",
                   "--batch-size", "5"]
        victim = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while container.projector.position() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert 0 < container.projector.position() < head  # it died half way
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=120)
        assert container.projector.position() == head
        with container.engine.connect() as conn:
            activity = conn.execute(select(func.count()).select_from(t.activity)).scalar_one()
            partners = conn.execute(select(func.count()).select_from(t.partners)).scalar_one()
            for row in conn.execute(select(t.board.c.version, t.board.c.state)):
                assert row.state["event_count"] == row.version  # nothing applied twice
        # the seed's report outline is in no view
        assert activity + partners + len(container.tracker.outline_events(
            "UNEP/CMS/StC44/18")) == head
        converged = view_rows(container)
        container.projector.rebuild()
        assert view_rows(container) == converged
    finally:
        container.close()


def test_a_rebuild_killed_half_way_leaves_the_old_views(postgres_url: str) -> None:
    container = make_container(postgres_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        for number in range(300):
            container.recorder.record(LOCAL_OPERATOR, key="sdgs", what="progress noted",
                                      fields={"summary": f"input {number}"}, occurred="2016",
                                      source=Source("TEST/R", str(number)))
        container.catch_up()
        before = view_rows(container)
        env = {**os.environ, "CMSBOT_DATABASE_URL": postgres_url}
        victim = subprocess.Popen([sys.executable, "-m", "cmsbot.cli", "projections",
                                   "rebuild"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # started (it takes longer than this to import and rebuild)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert view_rows(container) == before  # the killed transaction changed nothing
        container.projector.rebuild()
        assert view_rows(container) == before
    finally:
        container.close()

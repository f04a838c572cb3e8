"""Two projector processes at once on PostgreSQL apply every event exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from domain.provenance import Source
from projections import tables as t
from tests.conftest import make_container, new_store, view_rows


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
            # one row per item event or partner; the seed's report outline is in no view
            outlines = len(container.tracker.outline_events("UNEP/CMS/StC44/18"))
            assert activity + partner_events + outlines == head
            for row in conn.execute(select(t.board.c.version, t.board.c.state)):
                assert row.state["event_count"] == row.version  # no event counted twice
        concurrent = view_rows(container)
        container.projector.rebuild()
        assert view_rows(container) == concurrent
    finally:
        container.close()


def test_catching_up_in_bulk_gives_the_views_of_a_rebuild(database_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    """Views well behind the log (after a large import) catch up in one transaction, the
    items' states kept from batch to batch: the views equal those the log rebuilds, with
    the items that were current before extended, not replaced."""
    from bench.synth import Shape, write_history
    from cmsbot import bootstrap

    container = make_container(database_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        container.catch_up()  # batch by batch: a little behind
        for number in range(5):
            container.recorder.record(
                LOCAL_OPERATOR, key="unep-mts", what="progress noted",
                fields={"summary": f"contact {number}"}, occurred="2016",
                source=Source("test", str(number)))
        path = tmp_path / "large.json"
        write_history(Shape(items=80, partners=10, events=900, long_item_events=120), path)
        container.importer.run_file(LOCAL_OPERATOR, path)
        calls: list[str] = []

        def batch_by_batch() -> int:
            calls.append("batch by batch")
            return 0

        monkeypatch.setattr(bootstrap, "BULK_CATCH_UP", 500)
        monkeypatch.setattr(container.projector, "catch_up", batch_by_batch)
        applied = container.catch_up()
        assert calls == [] and applied > 900
        assert container.projector.position() == container.tracker.head()
        caught_up = view_rows(container)
        container.projector.rebuild()
        assert view_rows(container) == caught_up
        with container.engine.connect() as conn:
            versions = conn.execute(select(t.board.c.version).where(
                t.board.c.key == "unep-mts")).scalar_one()
        assert versions > 5
    finally:
        container.close()


def test_the_cli_says_when_it_has_a_long_way_to_catch_up(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        ) -> None:
    from cmsbot import bootstrap, cli

    url = new_store(sqlite_url)
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    monkeypatch.setattr(bootstrap, "BULK_CATCH_UP", 50)
    assert cli.main(["import", "--seed"]) == 0
    said = capsys.readouterr().err
    container = make_container(url)
    try:
        assert f"up to date with {container.tracker.head()} new events" in said
        assert container.projector.position() == container.tracker.head()
    finally:
        container.close()
    assert cli.main(["import", "--seed"]) == 0  # recorded already: nothing behind
    assert capsys.readouterr().err == ""

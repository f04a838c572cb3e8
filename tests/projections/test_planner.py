"""PostgreSQL's planner and the views: their statistics are made after a bulk transaction
(a freshly loaded table is otherwise planned blind until autovacuum gets to it), the agenda
and the board are vacuumed then (their index-only reads need it), and their short queries
are never planned in parallel."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cmsbot.bootstrap import Container
from projections.projector import Projector


def _analyzed(container: Container) -> set[str]:
    with container.engine.connect() as conn:
        return {name for (name,) in conn.execute(text(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND last_analyze IS NOT NULL"))}


@pytest.mark.parametrize("bulk", ["rebuild", "catch_up_in_bulk"])
def test_a_bulk_transaction_analyzes_the_views(seeded: Container, bulk: str) -> None:
    if seeded.engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    assert not {"board", "agenda", "activity"} & _analyzed(seeded)
    getattr(Projector(seeded.engine, seeded.tracker), bulk)()
    assert {"board", "calendar", "agenda", "activity", "state_checkpoints"} <= _analyzed(seeded)
    with seeded.engine.connect() as conn:  # their rows are read from their indexes alone
        assert set(conn.execute(text(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND last_vacuum IS NOT NULL")).scalars()) >= {"agenda", "board"}


def test_the_views_queries_are_not_planned_in_parallel(container: Container) -> None:
    if container.engine.dialect.name != "postgresql":
        pytest.skip("parallel plans are PostgreSQL's")
    with container.engine.connect() as conn:
        assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        assert conn.execute(text("SELECT current_schema()")).scalar() != "public"

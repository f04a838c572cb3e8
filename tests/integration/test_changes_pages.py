"""The change questions' rows read in SQL (`changes_sql.changed`) are the plain path's
(`changes.changed_by_rows`): every page of them, and the counts, on both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.readmodel.changes import Changed, changed_by_rows
from cmsbot.readmodel.changes_sql import changed
from projections import queries as q

from .support import seed_and_later_files


def _wanted(container: Container) -> list[Changed]:
    with container.engine.connect() as conn:
        some = sorted({r.item_id for r in q.activity_since(
            conn, occurred_from=date(2015, 1, 1), occurred_to=None, recorded_by=None)})[:7]
        latest = q.latest_recorded(conn)
    assert latest is not None
    return [Changed(date(2000, 1, 1)), Changed(date(2015, 9, 1)),
            Changed(date(2015, 9, 2)),  # a "by 1 September 2015" fact is before it
            Changed(date(2015, 10, 14), last=date(2016, 12, 31)),
            Changed(date(2016, 3, 1), item_ids=tuple(some)),
            Changed(date(2000, 1, 1), recorded=True),
            Changed(date(2000, 1, 1), recorded=True, last=date(2016, 1, 1)),
            Changed(date(2000, 1, 1), known_at=latest.replace(microsecond=0)),
            Changed(date(2000, 1, 1), recorded=True,
                    known_at=datetime(2000, 1, 1, tzinfo=UTC)),
            Changed(date(2000, 1, 1), item_ids=())]


def assert_the_same(container: Container) -> int:
    """Each `_wanted` whole, in pages of 20 (and one past the end), and its first and last
    rows in pages of 7 and one by one: the same rows in the same order, and the same
    counts; returns how many rows were compared."""
    compared = 0
    with container.engine.connect() as conn:
        for wanted in _wanted(container):
            plain, events, items = changed_by_rows(conn, wanted)
            fast, fast_events, fast_items = changed(conn, wanted)
            assert [r.position for r in fast] == [r.position for r in plain], wanted
            assert (fast_events, fast_items) == (events, items) == (
                len(plain), len({r.item_id for r in plain}))
            columns = list(plain[0]._mapping) if plain else []
            assert [[r._mapping[c] for c in columns] for r in fast] == [
                [r._mapping[c] for c in columns] for r in plain]
            for size in (1, 7, 20):
                # Every page of 20 (and one past the end); of 7 and 1, the first 30 rows
                # and the last 30.
                firsts = list(range(0, len(plain) + size, size))
                if size < 20:
                    every = range(0, len(plain), size)
                    firsts = sorted({*every[:30 // size], *every[-(30 // size):]})
                for first in firsts:
                    page = changed(conn, wanted, first, size)
                    assert [r.position for r in page[0]] == [
                        r.position for r in plain[first:first + size]], (wanted, first)
                    assert page[1:] == (events, items)
            for first in {1, len(plain) // 2, max(len(plain) - 1, 0)}:  # the rest of the list
                rest = changed(conn, wanted, first)
                assert [r.position for r in rest[0]] == [
                    r.position for r in plain[first:]], (wanted, first)
            compared += len(plain)
    return compared


def test_the_seed_and_later_histories(container: Container) -> None:
    seed_and_later_files(container)
    assert assert_the_same(container) > 60


def test_a_synthetic_history(container: Container, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    write_history(Shape(items=150, partners=12, events=1_500, long_item_events=100), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    assert assert_the_same(container) > 1_000

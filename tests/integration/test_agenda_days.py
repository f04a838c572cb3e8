"""The agenda's entries as at a day found level by level (`projections.agenda_days`) are
the plain query's (`queries.agenda_rows`), a page and a count at a time, for every shape
of question, as known now and at a time, on a synthetic history on both stores; and the
levels find exactly the spans that hold a day. (Rows replaced since a time are
`tests/integration/test_agenda.py`'s and `test_stale_asat.py`'s to test, on histories
recorded over time.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from projections import agenda_days
from projections import queries as q
from projections import tables as t

# Days from before the first date to after the last, a prime number of days apart so that
# they fall at every place in a span; and the ends of some years.
DAYS = [date(2011, 12, 31) + timedelta(days=97 * n) for n in range(52)] + [
    date(2014, 1, 1), date(2016, 1, 1), date(2020, 1, 1), date(2023, 12, 31)]


def _questions(day: date, item_ids: list[str]) -> list[dict[str, Any]]:
    """Every filter the readers ask with, alone and together, paged and whole."""
    year = date(day.year, 1, 1)
    window = {"first": year, "last": date(day.year, 12, 31)}
    return [
        {}, {"limit": 20}, {"first": day, "held": False, "limit": 20},
        {"first": day, "held": False, "limit": 20, "offset": 20},
        {"first": day, "held": False, "limit": 5, "offset": 100_000},
        {"first": day, "kinds": {"meeting"}, "workshops": True, "held": False, "limit": 20},
        {**window, "kinds": {"meeting"}, "limit": 20},
        {**window, "held": True, "limit": 3, "offset": 2},
        {"last": day, "kinds": {"meeting", "engagement"}},
        {"held_or_before": day, "kinds": {"meeting"}, "offset": 3},
        {"first": year, "item_ids": item_ids, "limit": 7},
        {"item_ids": [], "limit": 20},
        {"workshops": True, "limit": None, "offset": 1}, {"workshops": True, "held": False},
    ]


def _rows(found: tuple[Any, int]) -> tuple[list[tuple[Any, ...]], int]:
    rows, total = found
    return [(r.item_id, r.label, r.when, r.held, r.start, r.end) for r in rows], total


def _both(conn: Connection, **asked: Any) -> tuple[Any, Any]:
    shape = {"first": None, "last": None, "kinds": None, "workshops": False,
             "item_ids": None, **asked}
    return (_rows(agenda_days.agenda_rows(conn, **shape)),
            _rows(q.agenda_rows(conn, **shape)))


def _synthetic(container: Container, tmp_path: Path) -> list[str]:
    """A synthetic history imported; a seventh of its dated items' ids, to ask about."""
    path = tmp_path / "history.json"
    write_history(Shape(items=150, partners=12, events=1_500, long_item_events=120), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    with container.engine.connect() as conn:
        return sorted(set(conn.execute(select(t.agenda.c.item_id)).scalars()))[::7]


def _whole(asked: dict[str, Any]) -> dict[str, Any]:
    """The question without its page."""
    return {"first": None, "last": None, "kinds": None, "workshops": False,
            "item_ids": None, **{k: v for k, v in asked.items() if k not in ("limit", "offset")}}


class TestOnASyntheticHistory:
    def test_every_question_as_at_every_day_is_answered_as_the_plain_query_answers(
            self, container: Container, tmp_path: Path) -> None:
        item_ids = _synthetic(container, tmp_path)
        compared = 0
        with container.engine.connect() as conn:
            levels = set(conn.execute(select(t.agenda.c.span_level)).scalars())
            for day in DAYS:
                for asked in _questions(day, item_ids):
                    fast, plain = _both(conn, as_at=day, known_at=None, **asked)
                    assert fast == plain, (day, asked)
                    compared += len(plain[0])
            # As known at a time, as at some of the days and at none (after every date):
            # after every event, and in the import, when some rows recorded by then were
            # replaced since; and now (the plain query's own answer).
            a = t.agenda.c
            replaced = sorted(conn.execute(select(a.recorded_from).where(
                a.recorded_to > a.recorded_from)).scalars())
            midway = replaced[len(replaced) // 2]
            midway = midway if midway.tzinfo else midway.replace(tzinfo=UTC)  # SQLite's
            assert conn.execute(select(func.count()).where(
                a.recorded_from <= midway, a.recorded_to > midway)).scalar()
            for known_at in (datetime.now(UTC), midway):
                for known_day in [*DAYS[::4], None]:
                    for asked in _questions(known_day or date(2016, 1, 1), item_ids):
                        fast, plain = _both(conn, as_at=known_day, known_at=known_at,
                                            **asked)
                        assert fast == plain, (known_day, known_at, asked)
            fast, plain = _both(conn, as_at=None, known_at=None, limit=20)
            assert fast == plain and plain[1] > 0
        assert compared > 1_000
        assert len(levels) >= 8, levels  # spans of many lengths, the open ones among them

    def test_the_items_of_every_question_s_entries_are_those_of_the_plain_query_s_rows(
            self, container: Container, tmp_path: Path) -> None:
        item_ids = _synthetic(container, tmp_path)
        found = 0
        with container.engine.connect() as conn:
            times: list[tuple[date | None, datetime | None]] = [(day, None) for day in DAYS]
            times += [(None, None), (date(2016, 1, 1), datetime.now(UTC))]
            for as_at, known_at in times:
                for asked in _questions(as_at or date(2016, 1, 1), item_ids):
                    shape = _whole(asked)
                    rows, _ = q.agenda_rows(conn, as_at=as_at, known_at=known_at, **shape)
                    plain = sorted({row.item_id for row in rows})
                    ids = agenda_days.agenda_entry_item_ids(conn, as_at=as_at, known_at=known_at,
                                                      **shape)
                    assert len(ids) == len(set(ids)) and sorted(ids) == plain, (as_at, asked)
                    found += len(plain)
            for asked in _questions(date(2016, 1, 1), item_ids):
                rows, _ = q.calendar_rows(conn, **_whole(asked))
                assert sorted(q.calendar_entry_item_ids(conn, **_whole(asked))) == sorted(
                    {row.item_id for row in rows}), asked
        assert found > 1_000


@given(first=st.dates(date(2000, 1, 1), date(2030, 1, 1)),
       days=st.one_of(st.integers(1, 10_000), st.just(None)),
       day=st.dates(date(1999, 1, 1), date(2031, 1, 1)))
def test_a_level_holds_a_day_exactly_when_its_span_does(
        first: date, days: int | None, day: date) -> None:
    to_day = agenda_days.OPEN if days is None else first + timedelta(days=days)
    level = agenda_days.span_level(first, to_day)
    by_level = agenda_days.earliest_from(level, day) <= first <= day < to_day
    assert by_level == (first <= day < to_day)
    assert level == agenda_days.LONG or (days is not None and days <= 2 ** level)


def test_the_earliest_start_of_a_level_is_never_before_the_first_day() -> None:
    assert agenda_days.earliest_from(5, date.min + timedelta(days=3)) == date.min
    assert agenda_days.earliest_from(agenda_days.LONG, date(2020, 1, 1)) == date.min

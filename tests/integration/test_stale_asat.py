"""The overdue list at a past time (`cmsbot.readmodel.stale_asat`, from the agenda view's
rows, through `stale_rows.stale_page`) gives every page the plain path (`stale.stale_page`,
folding every dated item) gives, entries and the whole count: as at many days known now,
and as known at past times both as at those days and now, on histories with relocations, held
meetings, steps that wait on a meeting, events told late, corrections (of dates, venues
and a meeting's title) and retractions; scripted on both stores, and by property on random
histories, whose view kept event by event is also the view rebuilt from zero."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.readmodel import stale, stale_asat, stale_rows
from domain.errors import DomainError
from domain.provenance import Source
from tests.conftest import make_container
from tests.integration.support import agenda_rows

DAYS = [date(2014, 12, 31), date(2015, 6, 30), date(2015, 10, 16), date(2015, 11, 30),
        date(2016, 1, 1), date(2016, 3, 31), date(2016, 7, 20), date(2016, 12, 1),
        date(2017, 6, 1), date(2019, 1, 1)]
KINDS = [frozenset(), frozenset({"meeting"}), frozenset({"agreement"})]
SOURCE = Source("P/1", "1")


def _plain(entries: list[stale.Stale]) -> list[tuple[Any, ...]]:
    return [(e.state, e.when, e.late, e.slip) for e in entries]


def assert_same_pages(container: Container, times: list[datetime | None],
                      days: list[date] = DAYS) -> list[stale.Stale]:
    """Every page of the fast path, as at each day and as known at each time (None: now),
    of each kind, equals the plain path's slice with the same count; as known at a past
    time, also as at no day (now, as known then). Returns the entries of the unfiltered
    lists as at the days, known now."""
    seen: list[stale.Stale] = []
    with container.engine.connect() as conn:
        def snapshot(day: date | None, known_at: datetime | None) -> Any:
            return container.readmodel.snapshot(conn, as_at=day, known_at=known_at,
                                                shortcut=False)

        ids = [[i.item_id for i in snapshot(DAYS[0], None).index.items][:2]]
        for known_at in times:
            for day in (days if known_at is None else [*days, None]):
                for kinds, item_ids in [*((k, None) for k in KINDS), (frozenset(), ids[0])]:
                    whole, total = stale.stale_page(snapshot(day, known_at), kinds=kinds,
                                                    item_ids=item_ids, first=0, count=None)
                    assert total == len(whole)
                    if known_at is None and not kinds and item_ids is None:
                        seen.extend(whole)
                    for size in (1, 3, None):
                        step = size or total or 1
                        for first in range(0, total + step, step):
                            page, count = stale_rows.stale_page(
                                snapshot(day, known_at), kinds=kinds, item_ids=item_ids,
                                first=first, count=size)
                            wanted = whole[first:] if size is None else \
                                whole[first:first + size]
                            assert (_plain(page), count) == (_plain(wanted), total), (
                                day, known_at, kinds, first, size)
    return seen


def _record(container: Container, key: str, what: str, occurred: str,
            **fields: Any) -> datetime:
    container.recorder.record(LOCAL_OPERATOR, key=key, what=what, fields=fields,
                              occurred=occurred, source=SOURCE)
    return datetime.now(UTC)


def _history(folder: Path) -> Path:
    """A meeting StC44 (whose endorsements wait on it), MIKT1 and a workshop; an agreement
    submitted for endorsement at StC44, and one with a milestone-like deadline."""
    path = folder / "history.json"
    path.write_text(json.dumps({"document": "P/1", "as_at": "2014-01-01", "items": [
        {"key": "stc44", "kind": "meeting", "title": "StC44", "events": [
            {"type": "planned", "when": "early 2015", "venue": "Bonn, Germany",
             "occurred": "2014-01-01"}]},
        {"key": "mikt-1", "kind": "meeting", "title": "MIKT1", "events": [
            {"type": "planned", "when": "early 2016", "venue": "Cairo",
             "venue_tentative": True, "occurred": "2014-06-01"}]},
        {"key": "workshop", "kind": "meeting", "title": "Caribbean workshop", "events": [
            {"type": "planned", "when": "2016-03", "venue": "Kingston, Jamaica",
             "occurred": "2015-01-10"}]},
        {"key": "mou", "kind": "agreement", "title": "Sharks MOU", "events": [
            {"type": "proposed", "occurred": "2014-01-01"}]},
        {"key": "plan", "kind": "agreement", "title": "Eel plan", "events": [
            {"type": "proposed", "occurred": "2014-01-01"}]}]}))
    return path


def test_a_scripted_history(container: Container, tmp_path: Path) -> None:
    container.importer.run_file(LOCAL_OPERATOR, _history(tmp_path))
    container.catch_up()
    times: list[datetime | None] = [None]
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("mou", "submitted for endorsement", "2015-02-01",
         {"body": "StC", "meeting": "StC44", "meeting_date": "2015-11"}),
        ("plan", "submitted for endorsement", "2015-02-01",
         {"body": "StC", "meeting": "StC44", "meeting_date": "2015-06"}),
        ("stc44", "rescheduled", "2015-03-01", {"dates": "14-15 October 2015"}),
        ("stc44", "held", "2015-10-15", {"dates": "14-15 October 2015", "venue": "Bonn"}),
        ("mikt-1", "rescheduled", "2015-12-01", {"dates": "2016-07"}),
        # Told late: a relocation dated before the reschedule already recorded.
        ("workshop", "relocated", "2015-06-01", {"venue": "Bridgetown, Barbados"}),
        ("workshop", "rescheduled", "2015-09-01", {"dates": "2016-02"}),
        ("mikt-1", "held", "2016-07-15", {"dates": "12-15 July 2016", "venue": "Cairo"}),
        ("workshop", "held", "2016-09-02", {"dates": "2016-08-31..2016-09-02"}),
        # Corrections: MIKT1's first plan later (no longer slipped), StC44 renamed (its
        # steps no longer name a meeting), the relocation retracted.
        ("mikt-1", "corrected", "2017-01-01",
         {"corrects": 2, "changes": {"when": "2016-07"}, "reason": "typo"}),
        ("stc44", "corrected", "2017-01-02",
         {"corrects": 1, "changes": {"title": "StC44 (Bonn)"}, "reason": "name"}),
        ("workshop", "retracted", "2017-01-03", {"retracts": 3, "reason": "wrong item"}),
    ]
    for number, (key, what, occurred, fields) in enumerate(steps):
        times.append(_record(container, key, what, occurred, **fields))
        if number % 3 == 2:
            container.catch_up()
            assert_same_pages(container, [None], DAYS[::3])
    container.catch_up()
    seen = assert_same_pages(container, times[::4])
    kinds = {"slip" if e.slip else "settled step" if e.late and e.late.met else "late"
             for e in seen}
    assert kinds == {"slip", "settled step", "late"}
    kept = agenda_rows(container)
    container.projector.rebuild()
    assert agenda_rows(container) == kept


def test_a_synthetic_history(container: Container, tmp_path: Path) -> None:
    from bench.synth import Shape, write_history

    path = tmp_path / "history.json"
    write_history(Shape(items=150, partners=12, events=2_000, long_item_events=150), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    days = [date(year, month, 1) for year in range(2012, 2021) for month in (1, 7)]
    seen = assert_same_pages(container, [None], days)
    assert {e.slip is not None for e in seen} == {True, False}


# Neither in the order of their items' ids nor in its reverse, in code point order.
TITLES = ("Zeta", "alpha", "Ärger", "Beta", "Nu", "Alpha", "Éclair", "zeta", "Omega", "mu",
          "beta", "éta")


@pytest.mark.parametrize("past_shown", [0, 2, stale_asat.PAST_SHOWN])
def test_entries_tied_on_their_dates(container: Container, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, past_shown: int) -> None:
    """Entries on the same dates, slipped and late, are ordered by title across a page's
    end: the fast path breaks ties among the rows tied with the page's last date, whether
    it read them all with the page's rows or they ran past what it read (`PAST_SHOWN`)."""
    monkeypatch.setattr(stale_asat, "PAST_SHOWN", past_shown)
    items = []
    for number, title in enumerate(TITLES):
        events: list[dict[str, str]] = [
            {"type": "planned", "when": "2015-03" if number % 2 else "2015-06",
             "venue": "Bonn", "occurred": "2014-01-01"}]
        if number % 2:  # slipped to one later month, and held then
            events += [{"type": "rescheduled", "dates": "2015-05", "occurred": "2015-02-01"},
                       {"type": "held", "dates": "2015-05", "venue": "Bonn",
                        "occurred": "2015-05-30"}]
        items.append({"key": f"m{number}", "kind": "meeting", "title": title,
                      "events": events})
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"document": "P/1", "as_at": "2014-01-01", "items": items}))
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    seen = assert_same_pages(container, [None], [date(2015, 4, 1), date(2015, 8, 1),
                                                 date(2016, 1, 1)])
    assert sorted(e.slip is not None for e in seen) == [False] * 12 + [True] * 18


# Random histories, by property --------------------------------------------------------------

_FORMS = ("{y}-{m:02d}-{d:02d}", "{y}-{m:02d}", "by {y}-{m:02d}-{d:02d}", "{y}", "early {y}")
OPERATIONS = ("planned", "rescheduled", "relocated", "held", "cancelled", "submitted",
              "noted", "corrected", "retracted")
STEP = st.tuples(st.sampled_from(OPERATIONS), st.dates(date(2014, 1, 1), date(2017, 12, 31)),
                 st.dates(date(2014, 1, 1), date(2017, 12, 31)), st.integers(0, 40),
                 st.booleans())
VENUES = ("Bonn", "Cairo", "Bonn, Germany", None)


def _date(day: date, form: int) -> str:
    return _FORMS[form % len(_FORMS)].format(y=day.year, m=day.month, d=min(day.day, 27))


def _fields(what: str, when: str, number: int, versions: list[tuple[int, str]],
            ) -> tuple[str, dict[str, Any]] | None:
    venue = VENUES[number % len(VENUES)]
    meeting = ("stc44", "mikt")[number % 2]
    if what == "planned":
        return meeting, {"when": when, "venue": venue, "venue_tentative": number % 3 == 0}
    if what in ("rescheduled", "held"):
        return meeting, {"dates": when, "venue": venue}
    if what == "relocated":
        return meeting, {"venue": venue or "Nairobi"}
    if what == "cancelled":
        return meeting, {}
    if what == "submitted":
        return "mou", {"body": "StC", "meeting": ("StC44", "MIKT")[number % 2],
                       "meeting_date": when}
    if what == "noted":
        return meeting, {"note": f"contact {number}"}
    if not versions:
        return None
    version, target = versions[number % len(versions)]
    if what == "retracted":
        return meeting, {"retracts": version, "reason": "recorded in error"}
    corrections: dict[str, dict[str, Any]] = {
        "planned": {"when": when, "venue": venue}, "rescheduled": {"dates": when},
        "held": {"dates": when}, "relocated": {"venue": venue or "Nairobi"},
        "registered": {"title": f"Renamed {number}"}}
    changes = corrections.get(target)
    if changes is not None and target != "registered" and number % 3 == 0:
        changes = {**changes, "occurred": when}  # when the fact happened, moved
    return None if changes is None else (meeting, {"corrects": version, "changes": changes,
                                                   "reason": "corrected"})


# A correction that moved a rescheduling's business date from 2017 to early 2014: the
# meeting was late as at the end of 2014, which the plain path once missed, as it chose the
# items to fold by the dates of their events' rows alone.
MOVED_EARLIER = [("relocated", date(2014, 4, 8), date(2014, 8, 30), 13, False),
                 ("retracted", date(2014, 2, 27), date(2015, 12, 7), 11, False),
                 ("rescheduled", date(2017, 6, 2), date(2015, 9, 5), 5, False),
                 ("cancelled", date(2015, 1, 24), date(2016, 5, 23), 13, True),
                 ("retracted", date(2014, 1, 1), date(2014, 1, 1), 19, False),
                 ("corrected", date(2014, 1, 1), date(2014, 1, 1), 39, False)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
@example(steps=MOVED_EARLIER)
def test_random_histories(steps: list[tuple[str, date, date, int, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        container = make_container(f"sqlite:///{folder}/store.sqlite")
        try:
            path = Path(folder) / "history.json"
            path.write_text(json.dumps({"document": "P/1", "as_at": "2014-01-01", "items": [
                {"key": "stc44", "kind": "meeting", "title": "StC44", "events": [
                    {"type": "planned", "when": "2016", "venue": "Bonn",
                     "occurred": "2014-01-01"}]},
                {"key": "mikt", "kind": "meeting", "title": "MIKT", "events": []},
                {"key": "mou", "kind": "agreement", "title": "MOU", "events": []}]}))
            container.importer.run_file(LOCAL_OPERATOR, path)
            container.catch_up()
            versions: dict[str, list[tuple[int, str]]] = {
                "stc44": [(1, "registered"), (2, "planned")], "mikt": [(1, "registered")]}
            times: list[datetime | None] = [None]
            for what, occurred, when, number, catch_up in steps:
                found = _fields(what, _date(when, number), number,
                                versions[("stc44", "mikt")[number % 2]])
                if found is None:
                    continue
                key, fields = found
                try:
                    times.append(_record(container, key, what if what != "submitted"
                                         else "submitted for endorsement",
                                         _date(occurred, number + 1), **fields))
                except DomainError:
                    continue
                if key in versions:
                    versions[key].append((len(versions[key]) + 1, what))
                if catch_up:
                    container.catch_up()
            container.catch_up()
            assert_same_pages(container, [*times[1::4], None])
            kept = agenda_rows(container)
            container.projector.rebuild()
            assert agenda_rows(container) == kept
        finally:
            container.close()

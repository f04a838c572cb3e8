"""The agenda view (`projections.views.agenda`) and the readings made from it
(`cmsbot.readmodel.agenda`) say what folding the items' events says
(`cmsbot.readmodel.snapshot.dated_by_fold`, `Snapshot.states`), whole and a page at a time
(an offset and a limit): on a synthetic history on both stores, and by property on random
histories with corrections, retractions and events recorded after others dated later; and
the view kept event by event (or caught up in bulk) is the view rebuilt from zero, in one
page or in many."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.readmodel import agenda
from cmsbot.readmodel.snapshot import Dated, dated_by_fold
from domain.errors import DomainError
from domain.provenance import Source
from projections import queries as q
from projections import tables as t
from projections.projector import Projector
from tests.conftest import make_container
from tests.integration.support import agenda_rows

DAYS = [date(2013, 6, 30), date(2015, 1, 1), date(2016, 1, 1), date(2016, 7, 15),
        date(2018, 3, 1), date(2024, 12, 31)]


def _wanted(day: date | None) -> list[Dated]:
    """Every entry; what is ahead of `day`, its first page and its second; what was held or
    over before it, from its fourth; a window, and a page past its last."""
    reference = day or date(2016, 1, 1)
    return [Dated(), Dated(first=reference, held=False, limit=25),
            Dated(first=reference, held=False, limit=25, offset=25),
            Dated(held_or_before=reference, kinds=frozenset({"meeting"}), offset=3),
            Dated(first=date(2016, 1, 1), last=date(2016, 12, 31), limit=3),
            Dated(first=date(2016, 1, 1), last=date(2016, 12, 31), limit=3, offset=10_000)]


PAGE = 9  # entries a page of `assert_pages_are_slices`


def assert_pages_are_slices(snap: Any, wanted: Dated) -> None:
    """The fast path's pages of `wanted`, read one by one, are the plain path's entries
    cut into pages, each with the whole count."""
    whole, count = dated_by_fold(snap, wanted)
    for offset in range(0, max(count, 1), PAGE):
        page, total = agenda.dated(snap, replace(wanted, offset=offset, limit=PAGE))
        assert (_plain(page), total) == (_plain(whole[offset:offset + PAGE]), count), (
            offset, wanted)


def _plain(entries: list[Any]) -> list[tuple[str, str, str, bool]]:
    return [(label, str(when.to_dict()), state.id, held) for label, when, state, held in entries]


def assert_same_answers(container: Container, times: list[datetime | None]) -> int:
    """The fast readings equal the folds at every day of DAYS (and none) as known at each
    of `times` (None: now); returns how many entries were compared."""
    compared = 0
    with container.engine.connect() as conn:
        for known_at in times:
            for day in [None, *DAYS]:
                snap = container.readmodel.snapshot(conn, as_at=day, known_at=known_at,
                                                    shortcut=False)
                for wanted in _wanted(day):
                    fast, fast_total = agenda.dated(snap, wanted)
                    slow, slow_total = dated_by_fold(snap, wanted)
                    assert (_plain(fast), fast_total) == (_plain(slow), slow_total), (
                        day, known_at, wanted)
                    assert [e[2] for e in fast] == [e[2] for e in slow]  # the whole states
                    compared += len(slow)
                assert_pages_are_slices(snap, Dated(last=day))
                ids = [i.item_id for i in snap.index.items]
                assert agenda.states(snap, ids) == snap.states(ids)
                for wanted in [*_wanted(day), *_whole(day, ids[::3])]:
                    assert_same_items(snap, replace(wanted, limit=None, offset=0))
        assert_settled_alike(conn, [i.item_id for i in container.readmodel.index(conn).items])
    return compared


def assert_settled_alike(conn: Any, ids: list[str]) -> None:
    """Every item's settled items (read without their ids) are those of the items' ids
    asked for, by the test days and by days on which an item's last event ends."""
    ends = sorted(set(conn.execute(select(t.agenda_marks.c.last_end)).scalars()) - {None})
    for by in [*DAYS, *ends[::max(1, len(ends) // 12)]]:
        assert q.settled_item_ids(conn, None, by=by) & set(ids) == q.settled_item_ids(
            conn, ids, by=by), by


def _whole(day: date | None, item_ids: list[str]) -> list[Dated]:
    """What a digest reads the items of: the entries late by a day, and those of a few
    items dated before it."""
    reference = day or date(2016, 1, 1)
    return [Dated(held=False, held_or_before=reference),
            Dated(last=reference, item_ids=tuple(item_ids))]


def assert_same_items(snap: Any, wanted: Dated) -> None:
    """The items of the entries `wanted` (`agenda.dated_item_ids`) are those of the plain
    path's entries, each once."""
    ids = agenda.dated_item_ids(snap, wanted)
    entries, _ = dated_by_fold(snap, wanted)
    assert len(ids) == len(set(ids)), wanted
    assert set(ids) == {state.id for _, _, state, _ in entries}, wanted


class TestOnASyntheticHistory:
    def test_the_view_answers_as_the_fold_does_as_at_and_as_known_at(
            self, container: Container, tmp_path: Path) -> None:
        path = tmp_path / "history.json"
        write_history(Shape(items=120, partners=12, events=1_000, long_item_events=80), path)
        container.importer.run_file(LOCAL_OPERATOR, path)
        container.catch_up()
        imported = datetime.now(UTC)
        key = next(item["key"] for item in json.loads(path.read_text())["items"]
                   if item["kind"] == "meeting" and len(item["events"]) >= 3
                   and all(e["type"] != "held" for e in item["events"]))
        # Told late: a reschedule dated before the meeting's last news; then corrected, and
        # a retraction of its first reschedule.
        steps: list[tuple[str, dict[str, Any], str]] = [
            ("rescheduled", {"dates": "2016-03-01..2016-03-03"}, "2013-02-01"),
            ("corrected", {"corrects": 2, "changes": {"when": "2017"},
                           "reason": "typo"}, "2019-01-01"),
            ("retracted", {"retracts": 3, "reason": "wrong item"}, "2019-01-02")]
        for what, fields, occurred in steps:
            container.recorder.record(LOCAL_OPERATOR, key=key, what=what, fields=fields,
                                      occurred=occurred, source=Source("T/1", "1"))
        container.catch_up()
        assert assert_same_answers(container, [None, imported]) > 100
        kept = agenda_rows(container)
        container.projector.rebuild()
        assert agenda_rows(container) == kept


# Random histories, by property --------------------------------------------------------------

_FORMS = ("{y}-{m:02d}-{d:02d}", "{y}-{m:02d}", "by {y}-{m:02d}-{d:02d}", "{y}", "early {y}",
          "{y}-{m:02d}-{d:02d}..{y}-{m:02d}-28")


def _date(day: date, form: int) -> str:
    return _FORMS[form % len(_FORMS)].format(y=day.year, m=day.month, d=min(day.day, 27))


OPERATIONS = ("planned", "rescheduled", "held", "cancelled", "milestone planned",
              "milestone reached", "progress noted", "corrected", "retracted")
STEP = st.tuples(st.sampled_from(OPERATIONS), st.dates(date(2014, 1, 1), date(2017, 12, 31)),
                 st.dates(date(2014, 1, 1), date(2017, 12, 31)), st.integers(0, 11),
                 st.integers(0, 40), st.booleans())


def _fields(what: str, when: str, number: int, versions: list[tuple[int, str]],
            ) -> dict[str, Any] | None:
    if what == "planned":
        return {"when": when, "venue": "Bonn"}
    if what in ("rescheduled", "held"):
        return {"dates": when}
    if what in ("milestone planned", "milestone reached"):
        return {"milestone": f"milestone {number % 2}",
                **({"when": when} if what == "milestone planned" else {})}
    if what == "progress noted":
        return {"summary": f"contact {number}"}
    if what == "cancelled":
        return {}
    if not versions:
        return None
    version, target = versions[number % len(versions)]
    if what == "retracted":
        return {"retracts": version, "reason": "recorded in error"}
    changes = {"planned": {"when": when}, "rescheduled": {"dates": when},
               "held": {"dates": when}, "milestone planned": {"when": when},
               "registered": {"title": f"Renamed {number}"}}.get(target)
    if target not in ("registered", "retracted", "corrected") and number % 3 == 0:
        changes = {**(changes or {}), "occurred": when}  # when the fact happened, moved
    return None if changes is None else {"corrects": version, "changes": changes,
                                          "reason": "corrected"}


def in_small_pages(container: Container) -> Projector:
    """A projector whose bulk transactions read the log 5 events a page: a row opened on one
    page and closed on another is written with the page that closes it
    (`Items.finished_rows`), a row read from the table closed at the end."""
    return Projector(container.engine, container.tracker, batch_size=1)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_kept_equals_rebuilt_and_the_view_answers_as_the_fold(
        steps: list[tuple[str, date, date, int, int, bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        container = make_container(f"sqlite:///{folder}/store.sqlite")
        try:
            history = {"document": "P/1", "as_at": "2014-01-01", "items": [
                {"key": "meeting", "kind": "meeting", "title": "Bonn workshop",
                 "events": [{"type": "planned", "when": "2016", "occurred": "2014-01-01"}]},
                {"key": "engagement", "kind": "engagement", "title": "Talks",
                 "events": [{"type": "started", "occurred": "2014-01-01"}]}]}
            path = Path(folder) / "history.json"
            path.write_text(json.dumps(history))
            container.importer.run_file(LOCAL_OPERATOR, path)
            container.catch_up()
            versions: dict[str, list[tuple[int, str]]] = {
                "meeting": [(1, "registered"), (2, "planned")],
                "engagement": [(1, "registered")]}
            times: list[datetime | None] = [None, datetime.now(UTC)]
            for what, occurred, when, form, number, catch_up in steps:
                key = "engagement" if what.startswith(("milestone", "progress")) else (
                    "meeting" if what in ("planned", "rescheduled", "held", "cancelled")
                    else ("meeting", "engagement")[number % 2])
                fields = _fields(what, _date(when, form), number, versions[key])
                if fields is None:
                    continue
                try:
                    container.recorder.record(LOCAL_OPERATOR, key=key, what=what,
                                              fields=fields, occurred=_date(occurred, form + 1),
                                              source=Source("P/1", str(number)))
                except DomainError:
                    continue
                versions[key].append((len(versions[key]) + 1, what))
                times.append(datetime.now(UTC))
                if catch_up and number % 3 == 0:
                    in_small_pages(container).catch_up_in_bulk()
                elif catch_up:
                    container.catch_up()
            container.catch_up()
            assert_same_answers(container, [*times[::3], times[-1]])
            kept = agenda_rows(container)
            in_small_pages(container).rebuild()
            assert agenda_rows(container) == kept
            container.projector.rebuild()
            assert agenda_rows(container) == kept
        finally:
            container.close()

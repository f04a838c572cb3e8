"""The as-at fold from a checkpoint (`cmsbot.readmodel.checkpoints`, kept by
`projections.views.checkpoints`) is the plain fold (`Snapshot.states` as at a date): on the
bench's synthetic TINY history with a checkpoint every few versions, then a correction of
the longest item's registration and a retraction of a late version, on both stores; and
by property on random histories of two long items with corrections, retractions and events
told late, on both stores. The checkpoints kept event by event are the ones a rebuild
makes."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bench.synth import TINY, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.readmodel import agenda, checkpoints
from domain.errors import DomainError
from domain.provenance import Source
from projections import queries as q
from projections import tables as t
from projections.projector import Projector
from projections.views import checkpoints as kept_view
from tests.conftest import make_container, postgres_schema_url

EVERY = 4  # a checkpoint every few versions, so that short histories have several
DAYS = [date(2012, 6, 30), date(2014, 1, 1), date(2015, 3, 1), date(2015, 9, 30),
        date(2016, 6, 30), date(2017, 1, 1), date(2018, 12, 31), date(2030, 1, 1)]
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def every_few_versions() -> Iterator[None]:
    was = kept_view.EVERY
    kept_view.EVERY = EVERY
    try:
        yield
    finally:
        kept_view.EVERY = was


@contextlib.contextmanager
def fresh_store(store: str, request: pytest.FixtureRequest) -> Iterator[Container]:
    """A container over a new, empty store of this kind."""
    with contextlib.ExitStack() as stack:
        if store == "sqlite":
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{folder}/store.sqlite"
        else:
            urls = postgres_schema_url(request.getfixturevalue("postgres_server"))
            url = next(urls)
            stack.callback(lambda: next(urls, None))
        container = make_container(url)
        stack.callback(container.close)
        yield container


def checkpoint_rows(container: Container) -> list[tuple[Any, ...]]:
    with container.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(t.state_checkpoints)))


def assert_folds_agree(container: Container, days: list[date]) -> list[str]:
    """As at each day, every item's state read from its checkpoint (and through
    `agenda.states`) is its plain fold; returns the items read from a checkpoint, once a
    day each."""
    from_checkpoints: list[str] = []
    with container.engine.connect() as conn:
        for day in days:
            snap = container.readmodel.snapshot(conn, as_at=day, shortcut=False)
            ids = [i.item_id for i in snap.index.items]
            reach = q.visible_versions(conn, ids, occurred_by=day, recorded_by=None)
            fast = checkpoints.states(snap, ids, reach)
            for item_id, state in fast.items():
                assert state == snap.state(item_id), (day, item_id)
            assert agenda.states(snap, ids) == snap.states(ids), day
            from_checkpoints.extend(fast)
    return from_checkpoints


def record(container: Container, key: str, what: str, occurred: str, **fields: Any) -> None:
    container.recorder.record(LOCAL_OPERATOR, key=key, what=what, fields=fields,
                              occurred=occurred, source=Source("T/1", "1"),
                              note="noted" if what == "noted" else None)


@pytest.mark.parametrize("store", STORES)
def test_the_synthetic_history_folds_from_checkpoints_as_from_its_registration(
        store: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    write_history(TINY, path)
    with every_few_versions(), fresh_store(store, request) as container:
        container.importer.run_file(LOCAL_OPERATOR, path)
        container.catch_up()
        with container.engine.connect() as conn:
            longest, longest_id = conn.execute(select(t.board.c.key, t.board.c.item_id).order_by(
                t.board.c.version.desc()).limit(1)).one()
        assert len(assert_folds_agree(container, DAYS)) > 50
        # Revisions of an early version and of a late one: the checkpoints from each on
        # are made again, and a fold from one made before would keep what was revised.
        record(container, longest, "noted", "2013-01-01")
        record(container, longest, "corrected", "2019-01-01", corrects=1,
               changes={"title": "Renamed"}, reason="typo")
        with container.engine.connect() as conn:
            last = conn.execute(select(t.board.c.version).where(
                t.board.c.key == longest)).scalar_one()
        record(container, longest, "retracted", "2019-01-02", retracts=last - 1,
               reason="recorded in error")
        container.catch_up()
        assert longest_id in assert_folds_agree(container, DAYS)
        kept = checkpoint_rows(container)
        container.projector.rebuild()
        assert checkpoint_rows(container) == kept


# Random histories, by property --------------------------------------------------------------

_FORMS = ("{y}-{m:02d}-{d:02d}", "{y}-{m:02d}", "by {y}-{m:02d}-{d:02d}", "{y}",
          "{y}-{m:02d}-{d:02d}..{y}-{m:02d}-28")
OPERATIONS = ("rescheduled", "noted", "noted", "milestone planned", "milestone reached",
              "progress noted", "corrected", "retracted")
STEP = st.tuples(st.sampled_from(OPERATIONS), st.dates(date(2014, 1, 1), date(2017, 12, 31)),
                 st.dates(date(2014, 1, 1), date(2017, 12, 31)), st.integers(0, 40),
                 st.booleans())


def _date(day: date, form: int) -> str:
    return _FORMS[form % len(_FORMS)].format(y=day.year, m=day.month, d=min(day.day, 27))


def _step(what: str, when: str, number: int, versions: dict[str, list[str]],
          ) -> tuple[str, dict[str, Any]] | None:
    """The item a step is recorded for and its fields; None for a revision of nothing it
    can revise."""
    if what == "rescheduled":
        return "meeting", {"dates": when}
    if what == "milestone planned":
        return "engagement", {"milestone": f"milestone {number % 3}", "when": when}
    if what == "milestone reached":
        return "engagement", {"milestone": f"milestone {number % 3}"}
    if what == "progress noted":
        return "engagement", {"summary": f"contact {number}"}
    key = ("meeting", "engagement")[number % 2]
    if what == "noted":
        return key, {}
    version = 1 + number % len(versions[key])
    if what == "retracted":
        return key, {"retracts": version, "reason": "recorded in error"}
    changes = {"registered": {"title": f"Renamed {number}"}, "planned": {"when": when},
               "rescheduled": {"dates": when}, "milestone planned": {"when": when},
               "progress noted": {"summary": f"corrected {number}"},
               }.get(versions[key][version - 1])
    if changes is not None and version > 1 and number % 3 == 0:
        changes = {**changes, "occurred": when}  # when the fact happened, moved
    return None if changes is None else (key, {"corrects": version, "changes": changes,
                                               "reason": "corrected"})


HISTORY = {"document": "P/1", "as_at": "2014-01-01", "items": [
    {"key": "meeting", "kind": "meeting", "title": "Bonn workshop",
     "events": [{"type": "planned", "when": "2016", "occurred": "2014-01-01"}]},
    {"key": "engagement", "kind": "engagement", "title": "Talks",
     "events": [{"type": "started", "occurred": "2014-01-01"}]}]}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=4, max_size=40))
@pytest.mark.parametrize("store", STORES)
def test_random_histories_fold_from_checkpoints_as_from_their_registration(
        store: str, request: pytest.FixtureRequest,
        steps: list[tuple[str, date, date, int, bool]]) -> None:
    with every_few_versions(), fresh_store(store, request) as container, \
            tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.json"
        path.write_text(json.dumps(HISTORY))
        container.importer.run_file(LOCAL_OPERATOR, path)
        container.catch_up()
        versions = {"meeting": ["registered", "planned"],
                    "engagement": ["registered", "started"]}
        for what, occurred, when, number, catch_up in steps:
            step = _step(what, _date(when, number), number, versions)
            if step is None:
                continue
            key, fields = step
            try:
                record(container, key, what, _date(occurred, number + 1), **fields)
            except DomainError:
                continue
            versions[key].append(what)
            if catch_up and number % 3 == 0:  # in bulk, 5 events a page
                Projector(container.engine, container.tracker, batch_size=1).catch_up_in_bulk()
            elif catch_up:
                container.catch_up()
        container.catch_up()
        assert_folds_agree(container, DAYS)
        kept = checkpoint_rows(container)
        Projector(container.engine, container.tracker, batch_size=1).rebuild()
        assert checkpoint_rows(container) == kept
        container.projector.rebuild()
        assert checkpoint_rows(container) == kept

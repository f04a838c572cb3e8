"""A large history file is checked and recorded by several processes; the store must hold
exactly what one process would have recorded, and a bad file must leave no trace.

The pools here are the real `ImportPool`, whose pieces' work is wrapped to choose who does
what: `TwoWorkers` makes this process and one helper each take a piece before either goes
on, so that both do pieces whatever the scheduler does."""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.synth import Shape, history, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.app.import_pool import ImportFailedError, ImportPool
from cmsbot.app.importing import Importer
from cmsbot.bootstrap import Container
from cmsbot.history import HistoryFileError
from projections import tables as t
from tests.conftest import view_rows

SHAPE = Shape(items=60, partners=12, events=700, long_item_events=150)


def parallel(container: Container, pool: ImportPool | None = None) -> Importer:
    """An importer that gives however small a file to `pool` (three workers), in many
    pieces of 40 events, done in turn by every process."""
    return Importer(container.tracker, pool=pool or ImportPool(3), piece_events=40,
                    parallel_from=0)


def serial(container: Container) -> Importer:
    return Importer(container.tracker, pool=ImportPool(1))


def logged(container: Container) -> list[tuple[Any, ...]]:
    """Every event in log order, without the time it was recorded."""
    rows = []
    for stored in container.tracker.recorder.select_notifications(start=1, limit=10**6):
        state = json.loads(stored.state)
        state.pop("timestamp")
        rows.append((str(stored.originator_id), stored.originator_version, stored.topic,
                     state))
    return rows


def test_several_processes_record_what_one_records(container: Container,
                                                   other_store: Container,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    events = write_history(SHAPE, path)
    one = serial(container).run_file(LOCAL_OPERATOR, path)
    several = parallel(other_store).run_file(LOCAL_OPERATOR, path)
    assert one == several
    assert several.events == events
    assert logged(other_store) == logged(container)
    container.catch_up()
    other_store.catch_up()
    assert timeless_views(other_store) == timeless_views(container)


def timeless_views(container: Container) -> dict[str, list[Any]]:
    """The views' rows without the times the events were recorded (which differ)."""
    views = view_rows(container)
    with container.engine.connect() as conn:
        for table in (t.board, t.activity):
            names = [c.name for c in table.c if c.name not in ("recorded", "last_recorded",
                                                                "state")]
            views[table.name] = sorted(map(tuple, conn.execute(
                select(*(table.c[n] for n in names)))), key=repr)
    return views


def test_items_recorded_before_are_extended_as_by_one_process(container: Container,
                                                              other_store: Container,
                                                              tmp_path: Path) -> None:
    data = history(SHAPE, seed=7)
    first = {**data, "items": data["items"][::2]}  # every other item, with half its events
    first["items"] = [{**item, "events": item["events"][:len(item["events"]) // 2]}
                      for item in first["items"]]
    (tmp_path / "first.json").write_text(json.dumps(first))
    (tmp_path / "all.json").write_text(json.dumps(data))
    for importer in (serial(container), parallel(other_store)):
        importer.run_file(LOCAL_OPERATOR, tmp_path / "first.json")
        result = importer.run_file(LOCAL_OPERATOR, tmp_path / "all.json")
        assert result.skipped > 0 and result.items == len(data["items"]) - len(first["items"])
    assert logged(other_store) == logged(container)


def problems_of(importer: Importer, path: Path) -> list[tuple[int, str]]:
    with pytest.raises(HistoryFileError) as raised:
        importer.run_file(LOCAL_OPERATOR, path)
    return raised.value.problems


@pytest.mark.parametrize("damage", ["checks and commands", "commands"])
def test_problems_are_those_one_process_reports_with_their_lines(
        container: Container, tmp_path: Path, damage: str) -> None:
    data = history(SHAPE, seed=3)
    items = data["items"]
    first, middle, last = items[0], items[len(items) // 2], items[-1]  # other processes'
    if damage == "checks and commands":  # reported with the commands', in one run
        first["events"][0]["type"] = "teleported"
        last["events"][-1]["occurred"] = "2015-13-45"
    for item in (first, middle, last):
        item["partners"] = ["nobody-has-this-key"]  # found only when the commands run
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=1))
    found = problems_of(parallel(container), path)
    assert found == problems_of(serial(container), path)
    reasons = [reason for _, reason in found]
    if damage == "checks and commands":
        assert len(found) == 5
        assert reasons.count("no partner has the key 'nobody-has-this-key'") == 3
        assert sum("has no event 'teleported'" in r for r in reasons) == 1
        assert sum("no such day" in r for r in reasons) == 1
    else:
        assert reasons == ["no partner has the key 'nobody-has-this-key'"] * 3
    lines = path.read_text().splitlines()
    for line, reason in found:
        assert lines[line - 1].strip() in ("{", '"occurred": "2015-13-45",'), (line, reason)
    assert container.tracker.head() == 0


def test_a_problem_found_after_this_process_began_the_save_records_nothing(
        container: Container, tmp_path: Path) -> None:
    data = history(SHAPE, seed=5)
    data["items"][-1]["events"][-1]["occurred"] = "2015-13-45"  # in the last piece
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(HistoryFileError, match="no such"):
        parallel(container, ImportPool(2)).run_file(LOCAL_OPERATOR, path)
    assert container.tracker.head() == 0


@pytest.mark.parametrize("where", ["item's partners", "event's partner"])
def test_partners_named_by_what_is_not_text_are_reported_as_by_one_process(
        container: Container, tmp_path: Path, where: str) -> None:
    data = history(SHAPE, seed=3)
    item = data["items"][len(data["items"]) // 2]
    if where == "item's partners":
        item["partners"] = 5
    else:
        item["events"][0]["partner"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=1))
    found = problems_of(parallel(container), path)
    assert found == problems_of(serial(container), path)
    assert len(found) == 1
    assert container.tracker.head() == 0


def wait(ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60  # a safety net against a hang, not a timing
    while not ready():
        assert time.monotonic() < deadline, "the other process did not do its part"
        time.sleep(0.001)


class TwoWorkers(ImportPool):
    """This process and one helper. Each, at its first piece, waits until the other has
    taken one, so both hold one of the first two pieces; then the `slow` one (if any)
    finishes its first piece only once the other has finished a later one. `in_helper`
    runs in the helper instead of a piece's work, if given. `finished` records the
    pieces in the order they were finished."""

    def __init__(self, *, slow: str | None = None,
                 in_helper: Callable[[], None] | None = None) -> None:
        super().__init__(2)
        fork = multiprocessing.get_context("fork")
        self.slow, self.in_helper = slow, in_helper
        self.importing = os.getpid()
        self.started = {"helper": fork.Event(), "this process": fork.Event()}
        self.latest = {"helper": fork.Value("l", -1), "this process": fork.Value("l", -1)}
        self.finished = fork.Array("l", 1000)
        self.count = fork.Value("l", 0)

    def pieces(self, do: Callable[[int], Any], count: int) -> Any:
        def in_turns(number: int) -> Any:
            me = "this process" if os.getpid() == self.importing else "helper"
            other = "helper" if me == "this process" else "this process"
            first = not self.started[me].is_set()
            self.started[me].set()
            if first:
                wait(self.started[other].is_set)
                if me == self.slow:
                    wait(lambda: self.latest[other].value > number)
            if me == "helper" and self.in_helper is not None:
                self.in_helper()
            result = do(number)
            self.latest[me].value = max(self.latest[me].value, number)
            with self.count.get_lock():
                self.finished[self.count.value] = number
                self.count.value += 1
            return result

        return super().pieces(in_turns, count)

    def finished_order(self) -> list[int]:
        return list(self.finished[:self.count.value])


@pytest.mark.parametrize("slow", ["helper", "this process"])
def test_pieces_done_out_of_turn_are_saved_in_the_files_order(
        container: Container, other_store: Container, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, slow: str) -> None:
    """Whoever finishes a piece first, the save takes the pieces in the file's order, and
    the pieces' files are removed. The slow process's first piece is finished only once
    the other has finished a later one."""
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    serial(container).run_file(LOCAL_OPERATOR, path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pool = TwoWorkers(slow=slow)
    parallel(other_store, pool).run_file(LOCAL_OPERATOR, path)
    assert logged(other_store) == logged(container)
    finished = pool.finished_order()
    assert sorted(finished) == list(range(len(finished))) and len(finished) > 3
    assert finished != sorted(finished)  # some piece was finished after a later one
    assert pool.latest["helper"].value >= 0 and pool.latest["this process"].value >= 0
    assert not list(tmp_path.glob("cmsbot-import-*"))


def test_a_process_that_dies_leaves_nothing_recorded(container: Container, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pool = TwoWorkers(in_helper=lambda: os._exit(3))
    with pytest.raises(ImportFailedError,
                       match="ended without an answer; nothing was recorded"):
        parallel(container, pool).run_file(LOCAL_OPERATOR, path)
    assert container.tracker.head() == 0
    assert not list(tmp_path.glob("cmsbot-import-*"))


def test_a_process_that_fails_says_why_and_nothing_is_recorded(
        container: Container, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    write_history(SHAPE, path)

    def fail() -> None:
        raise MemoryError("out of memory in a worker")

    with pytest.raises(ImportFailedError,
                       match=r"failed \(MemoryError: out of memory in a worker\)") as raised:
        parallel(container, TwoWorkers(in_helper=fail)).run_file(LOCAL_OPERATOR, path)
    assert "Traceback" in (raised.value.trace or "")
    assert container.tracker.head() == 0


class Unused(ImportPool):
    def pieces(self, do: Callable[[int], Any], count: int) -> Any:
        pytest.fail("a small file was given to the pool")


def test_a_small_file_is_done_in_this_process(container: Container, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    events = write_history(SHAPE, path)
    assert events < Importer.PARALLEL_FROM
    result = Importer(container.tracker, pool=Unused(4)).run_file(LOCAL_OPERATOR, path)
    assert result.events == events

"""A large history file is checked and recorded by several processes; the store must hold
exactly what one process would have recorded, and a bad file must leave no trace."""

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
from cmsbot.bootstrap import Container
from cmsbot.history import HistoryFileError, read_draft_file
from cmsbot.services import LOCAL_OPERATOR, Importer, _cut, _PieceWork
from projections import tables as t
from tests.conftest import make_container, view_rows

SHAPE = Shape(items=60, partners=12, events=700, long_item_events=150)


def parallel(container: Container, workers: int = 3) -> Importer:
    importer = Importer(container.tracker, workers=workers)
    importer.PARALLEL_FROM = 0  # however small the file
    importer.PIECE_EVENTS = 40  # many pieces, done in turn by every process
    return importer


def serial(container: Container) -> Importer:
    return Importer(container.tracker, workers=1)


def logged(container: Container) -> list[tuple[Any, ...]]:
    """Every event in log order, without the time it was recorded."""
    rows = []
    for stored in container.tracker.recorder.select_notifications(start=1, limit=10**6):
        state = json.loads(stored.state)
        state.pop("timestamp")
        rows.append((str(stored.originator_id), stored.originator_version, stored.topic,
                     state))
    return rows


@pytest.fixture
def other_store(database_url: str, tmp_path: Path) -> Any:
    """A second, empty store of the same kind as `container`'s."""
    if database_url.startswith("sqlite"):
        store = make_container(f"sqlite:///{tmp_path}/other.sqlite")
    else:
        from tests.conftest import postgres_schema_url

        urls = postgres_schema_url(database_url.split("?")[0])
        store = make_container(next(urls))
    yield store
    store.close()


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
    if damage == "checks and commands":  # the checks' problems are reported, alone
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
        assert len(found) == 2 and "has no event 'teleported'" in reasons[0]
        assert "no such" in reasons[1]
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
        parallel(container, workers=2).run_file(LOCAL_OPERATOR, path)
    assert container.tracker.head() == 0


@pytest.mark.parametrize("slow", ["helper", "this process"])
def test_pieces_done_out_of_turn_are_saved_in_the_files_order(
        container: Container, other_store: Container, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, slow: str) -> None:
    """Whoever finishes a piece first, the save takes the pieces in the file's order, and
    the pieces' files are removed. Which process does which piece is not left to the
    scheduler: the helper starts only once this process is at work on the first piece,
    and the slow one, on its first piece, waits until the other has done a later one."""
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    serial(container).run_file(LOCAL_OPERATOR, path)
    importing, do, serve = os.getpid(), _PieceWork.do, _PieceWork.serve
    fork = multiprocessing.get_context("fork")
    helper_may_start, helper_took = fork.Event(), fork.Event()
    done_here, done_by_helper = fork.Value("l", -1), fork.Value("l", -1)
    firsts = {numbers[0]: n for n, numbers in enumerate(
        _cut(list(range(SHAPE.items)), read_draft_file(path), 40))}
    here: list[int] = []

    def wait(ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60  # a safety net against a hang, not a timing
        while not ready():
            assert time.monotonic() < deadline, "the other process did no piece"
            time.sleep(0.001)

    def helper(self: _PieceWork, *args: Any) -> None:
        helper_may_start.wait(60)
        serve(self, *args)

    def in_turns(self: _PieceWork, numbers: list[int]) -> Any:
        piece = firsts[numbers[0]]
        if os.getpid() == importing:
            here.append(piece)
            if piece == 0:  # the first piece is this process's: the helper takes the next
                helper_may_start.set()
                helper_took.wait(60)
            if slow == "this process" and piece == 0:
                wait(lambda: done_by_helper.value > piece)
            result = do(self, numbers)
            done_here.value = max(done_here.value, piece)
            return result
        first = not helper_took.is_set()
        helper_took.set()
        if slow == "helper" and first:
            wait(lambda: done_here.value > piece)
        result = do(self, numbers)
        done_by_helper.value = max(done_by_helper.value, piece)
        return result

    monkeypatch.setattr(_PieceWork, "serve", helper)
    monkeypatch.setattr(_PieceWork, "do", in_turns)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    importer = parallel(other_store, workers=2)
    importer.run_file(LOCAL_OPERATOR, path)
    assert logged(other_store) == logged(container)
    assert here[0] == 0 and 1 not in here  # the helper's first piece was the second
    if slow == "helper":
        assert 2 in here  # done here while the helper held the piece before it
    assert not list(tmp_path.glob("cmsbot-import-*"))


def test_a_process_that_dies_leaves_nothing_recorded(container: Container, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    monkeypatch.setattr(_PieceWork, "serve", lambda *args: os._exit(3))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="ended without an answer; nothing was recorded"):
        parallel(container).run_file(LOCAL_OPERATOR, path)
    assert container.tracker.head() == 0
    assert not list(tmp_path.glob("cmsbot-import-*"))


def test_a_process_that_fails_says_why_and_nothing_is_recorded(
        container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    def do(self: _PieceWork, numbers: list[int]) -> Any:
        raise MemoryError("out of memory in a worker")

    monkeypatch.setattr(_PieceWork, "do", do)
    with pytest.raises((RuntimeError, MemoryError), match="out of memory in a worker"):
        parallel(container).run_file(LOCAL_OPERATOR, path)
    assert container.tracker.head() == 0


def test_a_small_file_is_done_in_this_process(container: Container, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    monkeypatch.setattr(_PieceWork, "do", lambda *args: pytest.fail("forked"))
    result = Importer(container.tracker, workers=4).run_file(LOCAL_OPERATOR, path)
    assert result.events > 0

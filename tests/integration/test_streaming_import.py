"""A JSON history read as a stream (`cmsbot.history_stream`) says what the same text read
whole says, and an import's peak memory does not grow with its file as the file does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.synth import Shape, history, write_history
from cmsbot import history_stream
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import HistoryFileError, read_draft_file
from cmsbot.history_parsing import parse_json
from cmsbot.history_stream import ItemTexts
from tests.conftest import make_container

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read a few characters at a time, so that values, keys, numbers and whitespace are
    cut between pieces everywhere."""
    monkeypatch.setattr(history_stream, "PIECE_CHARACTERS", 7)


def entries(found: Any) -> list[Any]:
    return [(item.line, item.key, item.kind, item.title, item.occurred, item.source,
             item.details, [(event.line, event.id, event.spec.name, event.raw,
                             event.occurred, event.source, event.note)
                            for event in item.events]) for item in found.items]


def written(tmp_path: Path, data: dict[str, Any]) -> tuple[Path, str]:
    path = tmp_path / "history.json"
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    return path, text


def test_a_file_read_as_a_stream_holds_what_it_holds_read_whole(tmp_path: Path) -> None:
    data = history(Shape(items=40, partners=8, events=400, long_item_events=120))
    path, text = written(tmp_path, data)
    draft = read_draft_file(path)
    assert isinstance(draft.items, ItemTexts)  # read as a stream, not whole
    as_yaml = path.with_suffix(".yaml")  # JSON is YAML: the same text, read whole
    as_yaml.write_text(text, encoding="utf-8")
    streamed, whole = draft.check(), read_draft_file(as_yaml).check()
    assert entries(streamed) == entries(whole) and len(streamed.items) == 40
    assert [(p.at.line, p.key, p.name) for p in streamed.partners] == [
        (p.at.line, p.key, p.name) for p in whole.partners]


def test_every_problem_of_a_streamed_file_is_found_with_its_line(tmp_path: Path) -> None:
    """Problems of new items and of items recorded before (checked apart, each kind in
    pieces of items far apart in the file)."""
    data = history(Shape(items=30, partners=6, events=300, long_item_events=60))
    store = make_container(f"sqlite:///{tmp_path}/store.sqlite")
    earlier, _ = written(tmp_path, {**data, "items": data["items"][::3]})
    store.importer.run_file(LOCAL_OPERATOR, earlier)
    head = store.tracker.head()
    items = data["items"]
    items[3]["events"][1]["type"] = "blessed"  # recorded before, as items 6, 9 …
    items[6]["title"] = "Not its title"
    items[17]["events"][-1]["colour"] = "blue"
    items[20] = {**items[20], "key": items[4]["key"], "title": "Another title"}
    items[25]["events"][0]["occurred"] = "2015-13-45"
    data["partners"][2]["colour"] = "red"
    items.insert(9, 42)  # not a mapping
    path, text = written(tmp_path, data)
    as_yaml = path.with_suffix(".yaml")
    as_yaml.write_text(text, encoding="utf-8")
    try:
        with pytest.raises(HistoryFileError) as streamed:
            store.importer.check_file(path)
        with pytest.raises(HistoryFileError) as whole:
            store.importer.check_file(as_yaml)
        assert streamed.value.problems == whole.value.problems
        assert len(streamed.value.problems) >= 7
        with pytest.raises(HistoryFileError):
            store.importer.run_file(LOCAL_OPERATOR, path)
        assert store.tracker.head() == head
    finally:
        store.close()


@pytest.mark.parametrize("broken", ['"meeting": "x", "meeting": "y"', '"a": 1,, "b": 2',
                                    '"n": 12345678901234567890123'])
def test_a_file_the_stream_cannot_read_is_refused_as_when_read_whole(tmp_path: Path,
                                                                      broken: str) -> None:
    data = history(Shape(items=20, partners=4, events=160, long_item_events=40))
    path, text = written(tmp_path, data)
    cut = text.index('"events"', len(text) // 2)
    text = text[:cut] + broken + ", " + text[cut:]
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HistoryFileError) as whole:
        parse_json(text, str(path))
    with pytest.raises(HistoryFileError) as streamed:
        read_draft_file(path)
    assert streamed.value.problems == whole.value.problems
    assert streamed.value.problems[0][0] == text.count("\n", 0, cut) + 1


PEAK = """
import sys
from pathlib import Path
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import bootstrap
from cmsbot.settings import Database, Settings

def kb(name):
    with open("/proc/self/status") as status:
        return next(int(row.split()[1]) for row in status if row.startswith(name))

container = bootstrap(Settings(database=Database(sys.argv[1])))
before = kb("VmRSS")
print(container.importer.run_file(LOCAL_OPERATOR, Path(sys.argv[2])).events, flush=True)
print(kb("VmHWM") - before)
"""


def import_peak_kb(tmp_path: Path, events: int) -> int:
    """The memory an import of a synthetic file of about `events` events adds to its
    process at its peak (VmHWM, this process's own), in kB."""
    path = tmp_path / f"history-{events}.json"
    written_events = write_history(Shape(items=events // 100, partners=30, events=events,
                                         long_item_events=300), path)
    url = f"sqlite:///{tmp_path}/peak-{events}.sqlite"
    make_container(url).close()
    result = subprocess.run([sys.executable, "-c", PEAK, url, str(path)], cwd=ROOT,
                            capture_output=True, text=True, check=True, timeout=120)
    recorded, added = result.stdout.split()
    assert int(recorded) == written_events
    return int(added)


def test_a_file_eight_times_larger_does_not_need_four_times_the_memory(tmp_path: Path,
                                                                         ) -> None:
    """The file is read piece by piece and its items parsed one import piece at a time,
    so what grows with the file is its items' text alone (held as UTF-8): a file eight
    times larger needs about 2.4 times the memory. Read whole, it needed 4.2 times. The
    bound sits between the two, far enough from each for the few MB an import's peak
    varies by under load."""
    small, large = import_peak_kb(tmp_path, 25_000), import_peak_kb(tmp_path, 200_000)
    assert large < 3.2 * small, f"{small} kB for 25,000 events, {large} kB for 200,000"

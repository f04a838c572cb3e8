"""Input written to hurt: history files that expand, nest, overflow or hold what no store
keeps, far dates, and items with a great many names. Each file is refused whole with
`FILE:LINE: reason`, exit status 2 and no traceback, and nothing is recorded. Where the old
code ran out of memory or time, the file is read in a process with a memory limit of its
own, so that a regression fails the test rather than the machine."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bench.synth import Shape, history
from cmsbot import cli
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.app.recording import Recorder
from cmsbot.bootstrap import Container
from cmsbot.history import HistoryFileError, read_history
from cmsbot.history_parsing import (
    MAX_ALIASES,
    MAX_ITEMS,
    MAX_JSON_BYTES,
    MAX_VALUES,
    MAX_YAML_BYTES,
)
from cmsbot.readmodel.resolve import Index
from domain.errors import FutureDateError
from domain.limits import MAX_DEPTH, MAX_LIST, MAX_TEXT
from domain.provenance import Source
from tests.conftest import make_container
from tests.reliability.support import BoardRow

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 2 * 2**30  # for the processes reading a file: the old code took 4 GB and more

YAML = """\
document: TEST/HOSTILE
as_at: 2016-03-01
partners:
  - key: iwc
    name: International Whaling Commission
items:
  - key: iwc-jwp
    kind: agreement
    title: IWC JWP
    partners: [iwc]
    events:
      - type: endorsed
        occurred: 2016-02-01
        body: IWC Commission
        meeting: IWC66
"""
# Lines: 1 the file, 4 the partner, 7 the item (title on 9), 12 the event (meeting on 15).

JSON = """\
{"document": "TEST/HOSTILE", "as_at": "2016-03-01",
 "partners": [{"key": "iwc", "name": "International Whaling Commission"}],
 "items": [
  {"key": "iwc-jwp", "kind": "agreement", "title": "IWC JWP", "partners": ["iwc"],
   "events": [
    {"type": "endorsed", "occurred": "2016-02-01", "body": "IWC Commission",
     "meeting": "IWC66"}]}]}
"""
# Lines: 1 the file, 4 the item, 6 the event (meeting on 7).

CORRECTION = """\
    {"type": "corrected", "occurred": "2016-02-02", "corrects": "endorsed",
     "reason": "typo", "changes": {"meeting": MEETING}}]}]}
"""  # appended to JSON as a second event, on lines 8 and 9


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def corrected(meeting: str) -> str:
    return JSON.replace("}]}]}\n", "},\n") + CORRECTION.replace("MEETING", meeting)


def aliases(count: int) -> str:
    return "[" + ", ".join(f"name {number}" for number in range(count)) + "]"


# name: (suffix, text, the line named, the reason)
HOSTILE: dict[str, tuple[str, str, int, str]] = {
    "YAML: an alias": (
        ".yaml", YAML.replace("body: IWC", "body: &body IWC").replace("meeting: IWC66",
                                                                        "meeting: *body"),
        15, "an alias (*body) repeats a value written before"),
    "YAML: a merge key naming an anchor": (
        ".yaml", YAML.replace("  - key: iwc\n", "  - &partner\n    key: iwc\n").replace(
            "items:\n", "  - <<: *partner\n    key: iwc2\nitems:\n"),
        7, "an alias (*partner)"),
    "YAML: a 5,000-digit key": (
        ".yaml", YAML.replace("key: iwc-jwp", "key: " + "9" * 5000), 7,
        "a number of more than 19 digits; write it in quotes if it is text"),
    "YAML: a 5,000-digit version to correct": (
        ".yaml", YAML + "      - type: corrected\n        corrects: " + "1" * 5000
        + "\n        changes: {meeting: IWC67}\n        reason: typo\n", 17,
        "a number of more than 19 digits"),
    "YAML: .nan as a title": (".yaml", YAML.replace("title: IWC JWP", "title: .nan"), 9,
                              ".nan is not a number a history file can hold"),
    "YAML: .inf as a key": (".yaml", YAML.replace("key: iwc-jwp", "key: -.inf"), 7,
                            "-.inf is not a number a history file can hold"),
    "YAML: a number too large for a float": (
        ".yaml", YAML.replace("title: IWC JWP", "title: 1.0e+999"), 9,
        "1.0e+999 is not a number a history file can hold"),
    "YAML: nested past the limit": (
        ".yaml", YAML.replace("meeting: IWC66", "meeting: " + nested(MAX_DEPTH)), 15,
        f"nested more than {MAX_DEPTH} levels deep"),
    "YAML: nested 900 levels": (".yaml", YAML.replace("meeting: IWC66",
                                                      "meeting: " + nested(900)),
                                15, f"nested more than {MAX_DEPTH} levels deep"),
    "YAML: a list as a key": (
        ".yaml", YAML.replace("        meeting: IWC66\n",
                              "        meeting: IWC66\n        ? [a, b]\n        : c\n"),
        16, "a key must be text"),
    "YAML: a field too long": (
        ".yaml", YAML.replace("title: IWC JWP", "title: " + "x" * (MAX_TEXT + 1)), 7,
        f"'title' is {MAX_TEXT + 1:,} characters long; a field holds at most {MAX_TEXT:,}"),
    "YAML: too many aliases": (
        ".yaml", YAML.replace("    partners: [iwc]\n", f"    partners: [iwc]\n    aliases: "
                              f"{aliases(MAX_ALIASES + 1)}\n"), 7,
        f"'aliases' has {MAX_ALIASES + 1:,} entries; at most {MAX_ALIASES:,} are taken"),
    "YAML: too long a list": (
        ".yaml", YAML.replace("    partners: [iwc]\n", f"    partners: [iwc]\n    mandates: "
                              f"{aliases(MAX_LIST + 1)}\n"), 7,
        f"'mandates' has {MAX_LIST + 1:,} entries"),
    "YAML: an event on 9999-12-31": (
        ".yaml", YAML.replace("occurred: 2016-02-01", "occurred: 9999-12-31"), 12,
        "occurred: 31 December 9999 is more than 10 years after today"),
    "YAML: as_at 3000": (".yaml", YAML.replace("as_at: 2016-03-01", "as_at: 3000"), 1,
                         "as_at: 3000 is more than 10 years after today"),
    "YAML: late 2100": (".yaml", YAML.replace("occurred: 2016-02-01", "occurred: late 2100"),
                        12, "occurred: late 2100 is more than 10 years after today"),
    "YAML: a date of 200 characters": (
        ".yaml", YAML.replace("occurred: 2016-02-01", "occurred: 2016" + " x" * 100), 12,
        "is too long for a date (at most 100 characters)"),
    "JSON: a 5,000-digit key": (".json", JSON.replace('"key": "iwc-jwp"', '"key": ' + "9" * 5000),
                                4, "a number of more than 19 digits"),
    "JSON: a 4,000-digit value to correct to": (".json", corrected("1" * 4000), 9,
                                                "a number of more than 19 digits"),
    "JSON: nested 100,000 levels": (
        ".json", JSON.replace('"IWC66"', nested(100_000)), 7,
        f"nested more than {MAX_DEPTH} levels deep"),
    "JSON: a correction nested 300 levels": (".json", corrected(nested(300)), 8,
                                             f"'changes' nests more than {MAX_DEPTH} levels"),
    "JSON: a field name too long in a correction": (
        ".json", corrected('"x"').replace('{"meeting": "x"}',
                                          '{"' + "m" * (MAX_TEXT + 1) + '": "x"}'), 8,
        f"'changes' is {MAX_TEXT + 1:,} characters long"),
    "JSON: NaN as a key": (".json", JSON.replace('"key": "iwc-jwp"', '"key": NaN'), 4,
                           "NaN is not a number a history file can hold"),
    "JSON: Infinity as a title": (".json", JSON.replace('"IWC JWP"', "Infinity"), 4,
                                  "Infinity is not a number a history file can hold"),
    "JSON: -Infinity as a meeting": (".json", JSON.replace('"IWC66"', "-Infinity"), 7,
                                     "-Infinity is not a number"),
    "JSON: a number too large for a float": (".json", JSON.replace('"IWC66"', "1e999"), 7,
                                             "1e999 is too large for a number"),
    "JSON: an event on 9999-12-31": (".json", JSON.replace("2016-02-01", "9999-12-31"), 6,
                                     "is more than 10 years after today"),
    "JSON: too many items": (
        ".json", '{"document": "TEST/HOSTILE", "as_at": "2016", "items": [\n' + ",\n".join(
            f'{{"key": "post-{n}", "kind": "post", "title": "Post {n}"}}'
            for n in range(MAX_ITEMS + 1)) + "]}\n", MAX_ITEMS + 2,
        f"item {MAX_ITEMS + 1:,} of {MAX_ITEMS + 1:,}: a history file holds at most "
        f"{MAX_ITEMS:,} items"),
}

def import_file(path: Path, url: str, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    status = cli.main(["import", str(path)])
    out, err = capsys.readouterr()
    assert out == ""
    return status, err


def assert_refused(status: int, err: str, path: Path, line: int, reason: str) -> None:
    assert status == 2, err
    assert "Traceback" not in err
    assert err.startswith(f"cmsbot: {path} was not imported; nothing was recorded:\n"), err
    located = [row for row in err.splitlines()[1:] if row.startswith(f"{path}:{line}: ")]
    assert any(reason in row for row in located), (line, reason, err[:2000])


def new_store(url: str) -> str:
    """`url`, with an empty store made there (as `cmsbot db init` makes one)."""
    make_container(url).close()
    return url


def recorded(url: str) -> int:
    container = make_container(url)
    try:
        return container.tracker.head()
    finally:
        container.close()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_file_is_refused_with_its_line(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    suffix, text, line, reason = HOSTILE[case]
    path = tmp_path / f"hostile{suffix}"
    path.write_text(text, encoding="utf-8")
    url = new_store(f"sqlite:///{tmp_path}/cmsbot.sqlite")
    status, err = import_file(path, url, monkeypatch, capsys)
    assert_refused(status, err, path, line, reason)
    assert recorded(url) == 0


def test_the_same_files_written_well_are_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The cases above differ from these files in the one thing each is about."""
    url = new_store(f"sqlite:///{tmp_path}/cmsbot.sqlite")
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    for name, text in (("good.yaml", YAML),
                       ("good.json", corrected('"IWC 66"').replace("iwc-jwp", "iwc-jwp-2"))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert cli.main(["import", str(path)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Recorded 1 event on 1 new item" in out and "Recorded 2 events on 1 new item" in out
    assert recorded(url) == 6  # a partner; an item, endorsed; another, endorsed, corrected


# The file that starts these tests: 684 bytes in the report, 4 GB and more when read.
LAUGHS = "\n".join([
    "document: TEST/LAUGHS",
    "as_at: 2016-03-01",
    "lol: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    *(f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)),
    "items:",
    "  - key: laughs",
    "    kind: meeting",
    "    title: Laughs",
    "    events:",
    "      - type: planned",
    "        when: *a8",
    "",
])


def limited(command: list[str], url: str = "sqlite:///:memory:",
            ) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit, env={"PATH": "/usr/bin:/bin",
                                                 "CMSBOT_DATABASE_URL": url,
                                                 "PYTHONPATH": str(ROOT)})


def test_a_billion_laughs_is_refused_at_its_first_alias(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    assert path.stat().st_size < 1000
    url = new_store(f"sqlite:///{tmp_path}/cmsbot.sqlite")
    result = limited([sys.executable, "-m", "cmsbot.cli", "import", str(path)], url)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{path}:4: an alias (*a0) repeats a value written before" in result.stderr
    assert "Traceback" not in result.stderr
    assert recorded(url) == 0


READ = """\
import sys
from pathlib import Path
from cmsbot.history import HistoryFileError, read_draft_file, read_history_file
read = read_history_file if sys.argv[1] == "check" else read_draft_file
for name in sys.argv[2:]:
    try:
        read(Path(name))
        print(name, "read")
    except HistoryFileError as error:
        print(name, error.problems[0][0], error.problems[0][1])
with open("/proc/self/status") as status:  # ru_maxrss would count the parent's peak too
    print(next(int(row.split()[1]) for row in status if row.startswith("VmHWM")) // 1024)
"""


def read_in_a_process(files: list[Path], *, check: bool) -> tuple[list[str], int]:
    """What reading each file said, and the reading process's peak memory in MB."""
    result = limited([sys.executable, "-c", READ, "check" if check else "read",
                      *map(str, files)])
    assert result.returncode == 0, result.stderr[-3000:]
    *said, peak = result.stdout.splitlines()
    return said, int(peak)


def test_files_over_their_bounds_are_refused_before_they_are_parsed(tmp_path: Path) -> None:
    yaml_50_mb = tmp_path / "fifty.yaml"  # the report's case: one bad line at the end
    with yaml_50_mb.open("w") as out:
        for _ in range(50):
            out.write("- {key: a, kind: post, title: T}\n" * 30_000)
        out.write("- [unclosed\n")
    sparse = tmp_path / "sparse.json"
    with sparse.open("wb") as out:
        out.truncate(MAX_JSON_BYTES + 1)
    endless = tmp_path / "endless.yaml"  # a device: its size on disk says nothing
    endless.symlink_to("/dev/zero")
    tiny_values = tmp_path / "values.json"  # within the size, but each value costs memory
    tiny_values.write_text('{"items": [' + "{}," * (MAX_VALUES // 2) + "{}]}")
    yaml_values = tmp_path / "values.yaml"
    yaml_values.write_text("items:\n" + "- {}\n" * (MAX_VALUES // 4))
    assert tiny_values.stat().st_size < MAX_JSON_BYTES
    assert yaml_values.stat().st_size < MAX_YAML_BYTES
    said, peak = read_in_a_process([yaml_50_mb, sparse, endless, tiny_values, yaml_values],
                                   check=False)
    too_large = "the file is larger than {} MB, the most a {} history file may be"
    assert said[:3] == [f"{yaml_50_mb} 0 {too_large.format(8, 'YAML')}; split it into "
                        "several files",
                        f"{sparse} 0 {too_large.format(64, 'JSON')}; split it into several files",
                        f"{endless} 0 {too_large.format(8, 'YAML')}; split it into several "
                        "files"]
    for said_of, most, kind in ((said[3], MAX_VALUES, "JSON"), (said[4], MAX_VALUES // 2,
                                                               "YAML")):
        assert re.fullmatch(rf".* 0 the file holds about [\d,]+ values, more than the "
                            rf"{most:,} a {kind} history file may hold; split it into several "
                            "files", said_of), said_of
    assert peak < 150, f"{peak} MB to refuse them"


def test_checking_the_largest_json_file_allowed_stays_under_500_mb(tmp_path: Path) -> None:
    """A realistic history at the bound (about 38 MB; one of 50 MB is refused unread, as
    above), whose last event is wrong, so that all of it is checked."""
    data = history(Shape(items=10_000, partners=300, events=255_000, long_item_events=5_000))
    data["items"][-1]["events"][-1]["type"] = "blessed"
    path = tmp_path / "largest.json"
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path.write_text(text)
    line = text.count("\n", 0, text.rfind("{", 0, text.rfind('"blessed"'))) + 1
    del data, text
    said, peak = read_in_a_process([path], check=True)
    assert len(said) == 1 and said[0].startswith(f"{path} {line} "), said
    assert "has no event 'blessed'" in said[0]
    assert peak < 500, f"{peak} MB to check a file of {path.stat().st_size:,} bytes"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('far')}/cmsbot.sqlite"
    container = make_container(url)
    container.importer.run(LOCAL_OPERATOR, read_history(YAML, "seed.yaml"))
    container.catch_up()
    container.close()
    return url


@pytest.fixture(scope="module")
def seeded(seeded_url: str) -> Iterator[Container]:
    container = make_container(seeded_url)
    yield container
    container.close()


class TestFarDates:
    """Business dates far ahead are taken for typos; as-at dates at the calendar's ends
    are answered, not a traceback."""

    def test_a_history_file_keeps_partial_dates_and_the_next_ten_years(self) -> None:
        text = YAML.replace("as_at: 2016-03-01", "as_at: 2016").replace(
            "occurred: 2016-02-01", "occurred: 2036")
        history = read_history(text, "near.yaml", today=date(2026, 12, 6))
        assert str(history.items[0].events[0].occurred) == "2036"
        with pytest.raises(HistoryFileError, match=r"near\.yaml:12: occurred: 2037 is more"):
            read_history(text.replace("2036", "2037"), "near.yaml", today=date(2026, 12, 6))

    def test_a_form_or_the_command_line_cannot_record_one(self, seeded_url: str) -> None:
        container = make_container(seeded_url)
        try:
            recorder = Recorder(container.tracker, today=lambda: date(2026, 12, 6))
            with pytest.raises(FutureDateError, match="3016 is more than 10 years"):
                recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="progress reported",
                                fields={"summary": "typo"}, occurred="3016",
                                source=Source("TEST/1"))
            with pytest.raises(FutureDateError, match="meeting_date: 9999"):
                recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="submitted for "
                                "endorsement", fields={"body": "StC", "meeting": "StC46",
                                                       "meeting_date": "9999"},
                                occurred="2016", source=Source("TEST/1"))
            assert container.tracker.head() == 3
        finally:
            container.close()

    def test_the_command_line_says_so_in_one_line(
            self, seeded_url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("CMSBOT_DATABASE_URL", seeded_url)
        assert cli.main(["record", "iwc-jwp", "progress reported", "--occurred",
                         "9999-12-31", "--field", "summary=typo"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("cmsbot: 31 December 9999 is more than 10 years after today")
        assert "Traceback" not in err

    @pytest.mark.parametrize("as_at", [date.max, date.min, date(2999, 12, 31)])
    @pytest.mark.parametrize("question", [
        "what is coming up in the next 99999999 days", "meetings next year",
        "meetings next quarter", "meetings next month", "meetings next week",
        "what happened last week", "what changed recently", "what changed yesterday",
        "what changed", "status of IWC JWP", "history of IWC JWP", "what is coming up"])
    def test_a_question_at_the_ends_of_the_calendar_is_answered(
            self, seeded: Container, as_at: date, question: str) -> None:
        assert seeded.questions.answer(question, as_at=as_at).text

    @pytest.mark.parametrize("command", [["ask", "--as-at", "9999-12-31", "what changed"],
                                         ["digest", "preview", "--channel", "C1",
                                          "--as-at", "9999-12-31"]])
    def test_an_as_at_date_out_of_range_is_a_usage_error(
            self, command: list[str], seeded_url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("CMSBOT_DATABASE_URL", seeded_url)
        with pytest.raises(SystemExit) as exited:
            cli.main(command)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "9999-12-31 is outside the dates this takes (1900-01-01 to 2999-12-31)" in err


class TestManyAliases:
    def test_each_name_is_kept_once_in_the_order_met(self) -> None:
        index = Index([BoardRow("iwc-jwp", "IWC JWP",
                                ["IWC plan", "the IWC JWP", "IWC Plan", "", "whaling plan"])], [])
        assert index.names == ["iwc joint work plan", "iwc plan", "whaling plan",
                               "piwc joint work plan"]

    def test_an_item_of_200_000_aliases_is_indexed_and_found(self) -> None:
        # At this size, comparing each name with all those before it takes hours, past
        # the limit of `limited`: keeping each name once must be linear in their number.
        result = limited([sys.executable, "-c", """
from cmsbot.readmodel.resolve import Index, resolve
from tests.reliability.support import BoardRow
index = Index([BoardRow("big-plan", "Big plan", [f"alias {n}" for n in range(200_000)]),
               BoardRow("iwc-jwp", "IWC JWP", ["whaling plan"])], [])
print(len(index.names), resolve(index, "alias 199999").winner.key,
      resolve(index, "whaling plan").winner.key)
"""])
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == ["200005", "big-plan", "iwc-jwp"]

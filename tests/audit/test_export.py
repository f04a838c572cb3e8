"""`audit export` and `cmsbot import FILE.jsonl`: the round trip gives the same store."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError as SQLIntegrityError

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.transfer import CSV_COLUMNS, export_jsonl, import_jsonl
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, HistoryFileError, read_history_file
from tests.audit.helpers import cli, correct_and_retract, record_progress, views_of
from tests.conftest import make_container, new_store, postgres_schema_url

QUESTIONS = ["status of IWC JWP", "history of the CITES JWP", "upcoming workshops",
             "what do we have with Ramsar?", "who submitted on civil society?",
             "Panama workshop", "what changed since 1 June 2015"]


def answers_of(container: Container) -> list[dict[str, Any]]:
    return [container.questions.answer(question, as_at=as_at).to_json()
            for question in QUESTIONS for as_at in (None, date(2015, 9, 1))]


def stored_events(container: Container) -> list[tuple[Any, ...]]:
    log = container.tracker.recorder.select_notifications(start=0, limit=10_000,
                                                          inclusive_of_start=False)
    return [(str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
            for n in log]


@pytest.fixture
def history(seeded: Container) -> Container:
    correct_and_retract(seeded)
    return seeded


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest, ) -> Iterator[str]:
    """A second, empty store on the same backend as the one under test."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/copy.sqlite"
    else:
        yield from postgres_schema_url(request.getfixturevalue("postgres_server"))


@pytest.fixture
def other_url(database_url: str, tmp_path: Path, postgres_server: str) -> Iterator[str]:
    """A second, empty store on the other backend than the one under test."""
    if database_url.startswith("sqlite"):
        yield from postgres_schema_url(postgres_server)
    else:
        yield f"sqlite:///{tmp_path}/other.sqlite"


class TestTheRoundTrip:
    def test_gives_the_same_views_answers_chain_head_and_recorded_times(
            self, history: Container, fresh_url: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        export = tmp_path / "log.jsonl"
        run = cli(history.settings.database.url, "audit", "export", "--format", "jsonl",
                  "--output", str(export), monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 0, run.err
        head = history.chain.head()
        assert f"chain head {head}" in run.out
        target = fresh_url
        copy = make_container(target)  # PostgreSQL needs `db init` first
        run = cli(target, "import", str(export), monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 0, run.err
        assert f"Recorded {head.position} events" in run.out
        try:
            assert copy.chain.head() == head
            assert stored_events(copy) == stored_events(history)  # byte for byte
            assert views_of(copy) == views_of(history)  # recorded times included
            assert answers_of(copy) == answers_of(history)
            run = cli(target, "audit", "verify", "--head", str(head),
                      monkeypatch=monkeypatch, capsys=capsys)
            assert run.code == 0 and f"Chain head: {head}" in run.out
        finally:
            copy.close()

    def test_crosses_backends(self, history: Container, other_url: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
        export = tmp_path / "log.jsonl"
        cli(history.settings.database.url, "audit", "export", "--output", str(export),
            monkeypatch=monkeypatch, capsys=capsys)
        copy = make_container(other_url)  # PostgreSQL needs `db init` first
        try:
            run = cli(other_url, "import", str(export), monkeypatch=monkeypatch,
                      capsys=capsys)
            assert run.code == 0, run.err
            assert copy.chain.head() == history.chain.head()
            assert views_of(copy) == views_of(history)
        finally:
            copy.close()

    def test_importing_again_adds_nothing_and_a_longer_export_adds_the_rest(
            self, history: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
        url = history.settings.database.url
        cli(url, "audit", "export", "--output", str(first), monkeypatch=monkeypatch,
            capsys=capsys)
        record_progress(history, 3)
        cli(url, "audit", "export", "--output", str(second), monkeypatch=monkeypatch,
            capsys=capsys)
        target = new_store(f"sqlite:///{tmp_path}/mirror.sqlite")
        for path in (first, first):
            run = cli(target, "import", str(path), monkeypatch=monkeypatch, capsys=capsys)
        assert "Nothing new" in run.out
        run = cli(target, "import", str(second), monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 0 and "Recorded 3 events" in run.out
        assert f"chain head {history.chain.head()}" in run.out


class TestAFileThatCannotBeImported:
    @pytest.fixture
    def export(self, seeded: Container, tmp_path: Path) -> Path:
        path = tmp_path / "log.jsonl"
        with path.open("w", encoding="utf-8") as out:
            export_jsonl(seeded.tracker, out)
        return path

    def refused(self, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> str:
        target = new_store(f"sqlite:///{tmp_path}/refused.sqlite")
        run = cli(target, "import", str(path), monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 2 and "nothing was recorded" in run.err
        empty = make_container(target)
        try:
            assert empty.tracker.head() == 0
        finally:
            empty.close()
        return run.err

    def test_an_edited_stored_event_breaks_the_chain(self, export: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
        lines = export.read_text(encoding="utf-8").splitlines()
        line = json.loads(lines[40])
        line["stored"]["state"]["source"]["_data_"]["paragraph"] = "99"
        lines[40] = json.dumps(line, ensure_ascii=False)
        export.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert f"{export}:41: the chain breaks here" in self.refused(export, tmp_path,
                                                                     monkeypatch, capsys)

    def test_an_edited_readable_field_is_caught_too(self, export: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
        lines = export.read_text(encoding="utf-8").splitlines()
        lines[40] = lines[40].replace('"UNEP/CMS/StC44/18', '"UNEP/CMS/StC44/99', 1)
        export.write_text("\n".join(lines) + "\n", encoding="utf-8")
        error = self.refused(export, tmp_path, monkeypatch, capsys)
        assert f"{export}:41: the line's readable fields (source) do not say what its " \
               "stored event says" in error

    def test_a_cut_short_file(self, export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
        lines = export.read_text(encoding="utf-8").splitlines()
        export.write_text("\n".join(lines[:50]) + "\n", encoding="utf-8")
        assert "cut short" in self.refused(export, tmp_path, monkeypatch, capsys)

    def test_a_store_with_another_history(self, export: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        target = new_store(f"sqlite:///{tmp_path}/other.sqlite")
        assert cli(target, "import", "--seed", monkeypatch=monkeypatch, capsys=capsys).code == 0
        run = cli(target, "import", str(export), monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 2 and "already holds a different history" in run.err

    def test_a_yaml_history_is_no_export(self, seeded: Container, tmp_path: Path) -> None:
        path = tmp_path / "history.jsonl"
        path.write_text('{"document": "X"}\n', encoding="utf-8")
        with pytest.raises(HistoryFileError, match="not a cmsbot-audit-export file"):
            import_jsonl(seeded, LOCAL_OPERATOR, path)


@pytest.mark.postgres
def test_positions_are_counted_so_a_gap_in_the_store_s_ids_survives_the_round_trip(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL skips an id when an insert is rolled back; the copy has no gap, and the
    chain (over counted positions) is the same."""
    source = make_container(postgres_url)
    try:
        source.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        with pytest.raises(SQLIntegrityError), source.engine.begin() as conn:
            conn.execute(text("INSERT INTO cmsbot_events (originator_id, originator_version, "
                              "topic, state) SELECT originator_id, originator_version, topic, "
                              "state FROM cmsbot_events ORDER BY notification_id LIMIT 1"))
        record_progress(source, 2)
        with source.engine.connect() as conn:
            ids = list(conn.execute(text("SELECT notification_id FROM cmsbot_events ORDER BY "
                                         "notification_id")).scalars())
        assert ids[-1] == len(ids) + 1  # one id was skipped
        export = tmp_path / "log.jsonl"
        cli(postgres_url, "audit", "export", "--output", str(export), monkeypatch=monkeypatch,
            capsys=capsys)
        target = new_store(f"sqlite:///{tmp_path}/copy.sqlite")
        assert cli(target, "import", str(export), monkeypatch=monkeypatch,
                   capsys=capsys).code == 0
        copy = make_container(target)
        try:
            assert copy.chain.head() == source.chain.head()
            assert copy.chain.head().position == len(ids)
        finally:
            copy.close()
    finally:
        source.close()


class TestExportFormats:
    def test_jsonl_is_one_object_a_line_with_header_and_closing_line(
            self, history: Container) -> None:
        out = io.StringIO()
        head = export_jsonl(history.tracker, out)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert lines[0]["format"] == "cmsbot-audit-export"
        assert lines[-1] == {"format": "cmsbot-audit-export", "end": True,
                             "events": head.position, "head": str(head)}
        events = lines[1:-1]
        assert [e["position"] for e in events] == list(range(1, head.position + 1))
        officer = next(e for e in events if e["type"] == "OfficerRecruited")
        assert officer["item"] == "cites-cms-programme-officer"
        assert officer["occurred"]["words"] == "by 1 July 2015"
        assert officer["cite"] == "UNEP/CMS/StC44/18 ¶8"
        assert officer["data"]["start"]["text"] == "1 July 2015"
        assert officer["stored"]["topic"] == "cmsbot.OfficerRecruited"

    def test_csv_has_a_row_per_event(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "export", "--format", "csv",
                  monkeypatch=monkeypatch, capsys=capsys)
        rows = list(csv.DictReader(io.StringIO(run.out)))
        assert tuple(rows[0]) == CSV_COLUMNS
        assert len(rows) == history.chain.head().position
        fix = next(r for r in rows if r["type"] == "EventCorrected")
        assert fix["item"] == "latin-america-accession-workshop"
        assert fix["source"] == "UNEP/CMS/StC44/Inf.1 ¶3"
        assert rows[-1]["hash"] == history.chain.head().hash


class _Discard(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def test_export_streams_in_memory_that_does_not_grow_with_the_log(sqlite_url: str) -> None:
    """Four times the events, about the same peak memory: pages are read and dropped."""
    container = make_container(sqlite_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        record_progress(container, 300, catch_up=False)

        def peak() -> int:
            tracemalloc.start()
            export_jsonl(container.tracker, _Discard(), page=100)
            size = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return size

        small = peak()
        record_progress(container, 1_600, catch_up=False)
        large = peak()
        assert container.tracker.head() > 2_000
        assert large < small * 1.5, (small, large)
    finally:
        container.close()

"""Importing history files into a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from cmsbot.app.auth import LOCAL_OPERATOR, NotAuthorizedError, Principal
from cmsbot.bootstrap import Container
from cmsbot.eventstore.sqliterecorder import BulkSQLiteRecorder
from cmsbot.history import (
    SEED,
    HistoryFileError,
    read_history,
    read_history_draft,
    read_history_file,
    read_json_history,
)
from cmsbot.storefile import READ_ONLY, StoreFile, StoreUnhealthyError
from domain.provenance import Source
from projections import tables as t
from tests.conftest import make_container

SEED_PARAGRAPHS = {str(n) for n in range(1, 24)} | {"Action requested"}


class TestTheSeed:
    def test_every_paragraph_and_the_action_requested_is_recorded(
            self, seeded: Container) -> None:
        with seeded.engine.connect() as conn:
            paragraphs = {row.source["paragraph"] for row in conn.execute(select(t.activity))}
        assert paragraphs >= SEED_PARAGRAPHS

    def test_importing_it_again_records_nothing(self, seeded: Container) -> None:
        head = seeded.tracker.head()
        result = seeded.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        assert (result.events, result.items, result.partners) == (0, 0, 0)
        assert seeded.tracker.head() == head

    def test_only_editors_import(self, container: Container) -> None:
        with pytest.raises(NotAuthorizedError):
            container.importer.run(Principal("U1", may_record=False), read_history_file(SEED))
        assert container.tracker.head() == 0


GOOD = """\
document: TEST/1
as_at: 2016-03-01
partners:
  - {key: iwc, name: International Whaling Commission, acronym: IWC}
items:
  - key: iwc-jwp
    kind: agreement
    title: IWC JWP
    partners: [iwc]
    paragraph: 3
    events:
      - type: endorsed
        occurred: 2016-02-01
        body: IWC Commission
        meeting: IWC66
"""

BROKEN = {
    "malformed YAML": (GOOD + "      - type: [unclosed\n", 17, "not valid YAML"),
    "an unknown event type": (GOOD.replace("type: endorsed", "type: blessed"), 12,
                              "has no event 'blessed'"),
    "an impossible date": (GOOD.replace("2016-02-01", "2015-13-45"), 12, "no such day"),
    "a duplicate key": (GOOD.replace("        meeting: IWC66\n",
                                     "        meeting: IWC66\n        meeting: IWC67\n"), 16,
                        "duplicate key 'meeting' (first on line 15)"),
    "a wrong type": (GOOD.replace("meeting: IWC66", "meeting: [IWC66]"), 12, "must be text"),
    "a missing field": (GOOD.replace("        body: IWC Commission\n", ""), 12,
                        "needs the field 'body'"),
    "an unknown partner": (GOOD.replace("partners: [iwc]", "partners: [iwcc]"), 6,
                           "no partner has the key 'iwcc'"),
    "a truncated file": (GOOD[: GOOD.index("        body")] + "        body: 'IWC", 14,
                         "not valid YAML"),
    "an event that makes no sense": (
        GOOD + "      - type: endorsed\n        occurred: 2016-02-02\n"
               "        body: IWC Commission\n        meeting: IWC67\n", 16,
        "has endorsed IWC JWP already"),
}


class TestABrokenFile:
    @pytest.mark.parametrize("case", sorted(BROKEN))
    def test_is_rejected_whole_naming_the_line_and_reason(self, container: Container,
                                                          case: str) -> None:
        text, line, reason = BROKEN[case]
        with pytest.raises(HistoryFileError) as caught:
            container.importer.run(LOCAL_OPERATOR, read_history(text, "broken.yaml"))
        assert f"broken.yaml:{line}:" in str(caught.value)
        assert reason in str(caught.value)
        assert container.tracker.head() == 0

    def test_leaves_an_existing_store_as_it_was(self, seeded: Container) -> None:
        head = seeded.tracker.head()
        text = GOOD.replace("key: iwc-jwp", "key: other-jwp") + (
            "  - key: bad\n    kind: meeting\n    title: Bad\n    events:\n"
            "      - type: held\n        dates: 2016-02-31\n")
        with pytest.raises(HistoryFileError, match=r"broken.yaml:20: dates: no such day"):
            seeded.importer.run(LOCAL_OPERATOR, read_history(text, "broken.yaml"))
        assert seeded.tracker.head() == head

    def test_an_item_cannot_change_its_kind(self, seeded: Container) -> None:
        text = GOOD.replace("kind: agreement", "kind: meeting").replace(
            "key: iwc-jwp", "key: cites-jwp").replace(
            "        body: IWC Commission\n        meeting: IWC66\n", "").replace(
            "type: endorsed", "type: cancelled")
        with pytest.raises(HistoryFileError, match="already tracked as an agreement"):
            seeded.importer.run(LOCAL_OPERATOR, read_history(text, "kind.yaml"))


def test_a_file_on_disk_that_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(HistoryFileError, match="cannot read the file"):
        read_history_file(path)


def test_corrections_in_a_file_point_at_earlier_entries(container: Container) -> None:
    container.importer.run(LOCAL_OPERATOR, read_history(GOOD, "first.yaml"))
    correction = GOOD[: GOOD.index("      - type: endorsed")].replace(
        "document: TEST/1", "document: TEST/2") + (
        "      - type: corrected\n        occurred: 2016-03-02\n        corrects: endorsed\n"
        "        changes: {meeting: IWC66 (Portorož)}\n        reason: meeting named in full\n")
    container.importer.run(LOCAL_OPERATOR, read_history(correction, "second.yaml"))
    container.catch_up()
    item = container.tracker.item("iwc-jwp")
    assert "IWC66 (Portorož)" in (item.state.detail or "")
    answer = container.questions.answer("history of the IWC JWP")
    assert "Corrected event 2" in answer.text or "corrected" in answer.text


def test_a_refused_file_leaves_no_trace_in_memory_either(seeded: Container) -> None:
    """The refused import had applied a valid event to the cached CITES JWP; that copy must
    be dropped, or the next command in this process would build on an unsaved event."""
    text = """\
document: TEST/3
items:
  - key: cites-jwp
    kind: agreement
    title: CITES JWP
    events:
      - type: progress reported
        occurred: 2016-02-01
        summary: phantom
  - key: broken
    kind: meeting
    title: Broken
    events:
      - type: held
        occurred: 2016-02-01
        dates: 2016-02-01
      - type: held
        occurred: 2016-02-02
        dates: 2016-02-02
"""
    with pytest.raises(HistoryFileError):
        seeded.importer.run(LOCAL_OPERATOR, read_history(text, "broken.yaml"))
    seeded.recorder.record(LOCAL_OPERATOR, key="cites-jwp", what="progress reported",
                           fields={"summary": "joint training"}, occurred="2016-03-01",
                           source=Source("TEST/2"))
    item = seeded.tracker.item("cites-jwp")
    stored = seeded.tracker.item_events(item.id)
    assert [e.type_name for e in item.history] == [e.type_name for e in stored]
    assert "phantom" not in seeded.questions.answer("history of the CITES JWP").text


class TestJSONHistories:
    """The same format as JSON: read fast, checked the same, problems still located."""

    @staticmethod
    def as_json(text: str) -> str:
        class DatesAsText(yaml.SafeLoader):  # as the history reader reads them
            pass

        def as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
            return str(loader.construct_scalar(node))

        DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", as_text)
        return json.dumps(yaml.load(text, Loader=DatesAsText),  # noqa: S506 - a safe loader
                          indent=2, ensure_ascii=False)

    def test_the_seed_as_json_records_what_the_yaml_does(self, seeded: Container,
                                                         tmp_path: Path) -> None:
        path = tmp_path / "seed.json"
        path.write_text(self.as_json(SEED.read_text(encoding="utf-8")), encoding="utf-8")
        other = make_container(f"sqlite:///{tmp_path}/json.sqlite")
        try:
            result = other.importer.run(LOCAL_OPERATOR, read_history_file(path))
            other.catch_up()
            assert (result.partners, result.items) == (
                len(read_history_file(SEED).partners), len(read_history_file(SEED).items))
            assert other.tracker.head() == seeded.tracker.head()

            def events(store: Container) -> list[tuple[str, dict[str, object]]]:
                return [(type(p.event).__name__,
                         {k: v for k, v in vars(p.event).items() if k != "timestamp"})
                        for p in store.tracker.iter_log()]
            assert events(other) == events(seeded)
            # Re-importing the YAML into the JSON-made store finds everything recorded.
            again = other.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
            assert again.events == 0
        finally:
            other.close()

    @pytest.mark.parametrize("case", ["an unknown event type", "an impossible date",
                                      "a wrong type", "a missing field",
                                      "an unknown partner"])
    def test_a_problem_names_its_line(self, container: Container, case: str) -> None:
        text, _, reason = BROKEN[case]
        as_json = self.as_json(text)
        with pytest.raises(HistoryFileError) as caught:
            container.importer.run(LOCAL_OPERATOR, read_json_history(as_json, "broken.json"))
        [(line, message)] = caught.value.problems
        assert reason in message
        assert as_json.splitlines()[line - 1].strip().endswith("{")  # the entry's own line
        assert container.tracker.head() == 0

    def test_broken_json_names_its_line(self) -> None:
        text = self.as_json(GOOD).replace('"IWC66"', '"IWC66",', 1)
        with pytest.raises(HistoryFileError, match=r"broken.json:\d+: not valid JSON"):
            read_json_history(text, "broken.json")

    def test_a_duplicate_key_names_its_line(self) -> None:
        text = self.as_json(GOOD).replace('"meeting": "IWC66"',
                                          '"meeting": "IWC66",\n"meeting": "IWC67"')
        with pytest.raises(HistoryFileError, match=r"broken.json:\d+: duplicate key 'meeting'"):
            read_json_history(text, "broken.json")


@pytest.mark.postgres
def test_a_large_history_imports_whole_on_postgresql(postgres_url: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A save of thousands of events goes around psycopg's pipeline, which deadlocked on
    them, in chunks under one table lock: every event lands once, in order, and is read."""
    from bench.synth import Shape, write_history
    from cmsbot.eventstore import pgrecorder

    monkeypatch.setattr(pgrecorder, "CHUNK", 700)  # several chunks in the one transaction
    path = tmp_path / "large.json"
    events = write_history(Shape(items=150, partners=20, events=2_500, long_item_events=400),
                           path)
    store = make_container(postgres_url)
    try:
        history = read_history_file(path)
        result = store.importer.run(LOCAL_OPERATOR, history)
        assert result.events == events > pgrecorder.PIPELINE_LIMIT
        registrations = len(history.items) + len(history.partners)
        positions = [p.position for p in store.tracker.iter_log()]
        assert positions == list(range(1, events + registrations + 1))
        store.catch_up()
        assert store.projector.position() == positions[-1]
        again = store.importer.run(LOCAL_OPERATOR, read_history_file(path))
        assert again.events == 0
    finally:
        store.close()


class TestAnImportThatRecordsNothing:
    """Asks nothing of the store's write path: a file with nothing new, or found bad by its
    checks, is answered as such on a store that refuses every write (a SQLite file that
    is read-only, replaced or damaged), where a file with something new is refused."""

    @pytest.fixture
    def refusing(self, sqlite_url: str) -> Iterator[Container]:
        store = make_container(sqlite_url)
        store.importer.run(LOCAL_OPERATOR, read_history_file(SEED))

        class Refusing(StoreFile):
            def refuse_writes(self) -> None:
                raise StoreUnhealthyError(READ_ONLY, "its file cannot be written")

        recorder = store.tracker.recorder
        assert isinstance(recorder, BulkSQLiteRecorder)
        recorder.store_file = Refusing(store.settings.database.sqlite_path)
        yield store
        store.close()

    def test_nothing_new_is_said(self, refusing: Container) -> None:
        result = refusing.importer.run_file(LOCAL_OPERATOR, SEED)
        assert str(result) == "Nothing new: all 129 entries were recorded before."

    @pytest.mark.parametrize("case", ["an impossible date", "an event that makes no sense"])
    def test_a_bad_file_is_refused_naming_its_lines(self, refusing: Container,
                                                    case: str) -> None:
        text, line, _ = BROKEN[case]
        text = text.replace("key: iwc-jwp", "key: test-jwp")  # the seed's is titled otherwise
        with pytest.raises(HistoryFileError) as raised:
            refusing.importer.run_draft(LOCAL_OPERATOR, read_history_draft(text, "bad.yaml"))
        assert [at for at, _ in raised.value.problems] == [line]

    def test_a_file_with_something_new_is_refused(self, refusing: Container) -> None:
        with pytest.raises(StoreUnhealthyError, match="is read-only"):
            refusing.importer.run(LOCAL_OPERATOR, read_history(GOOD, "good.yaml"))
        assert refusing.tracker.head() == 130

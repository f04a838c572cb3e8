"""A gap in an item's versions, as a lost write left it: verify names it, recording on the
item says so in one line, and `cmsbot audit repair-gap` acknowledges it, audited, after
which the item reads and records again. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmsbot.app.auth import Principal
from cmsbot.audit.repair import repair_gap
from cmsbot.bootstrap import Container
from domain import events as ev
from domain.errors import VersionGapError
from domain.items import item_id
from tests.audit.helpers import (
    cli,
    delete_event,
    position_of,
    record_with_gap,
    store_raw,
    top_version,
    views_of,
)
from tests.conftest import new_store

IWC = "“IWC–CMS Joint Work Plan” (iwc-jwp)"
REASON = "the write was lost in the SQLite race; the editor confirmed nothing else was meant"
ENDORSED = ("record", "iwc-jwp", "endorsed", "--field", "body=CMS Standing Committee",
            "--field", "meeting=StC44", "--occurred", "2015-10-15")


@pytest.fixture
def url(seeded: Container) -> str:
    return seeded.settings.database.url


class TestAGap:
    def test_is_named_refused_in_one_line_repaired_and_then_records_again(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        def run(*args: str) -> tuple[int, str, str]:
            done = cli(url, *args, monkeypatch=monkeypatch, capsys=capsys)
            assert "Traceback" not in done.err
            return done.code, done.out, done.err

        missing = record_with_gap(seeded)
        seeded.catch_up()
        code, _, err = run("audit", "verify")
        assert code == 1
        assert f"{IWC}, version {missing + 1}: version {missing} is missing" in err

        code, _, err = run(*ENDORSED)
        assert code == 1
        assert err == (f"cmsbot: the history of {IWC} has a gap at version {missing}: no "
                       "event is stored there, so nothing can be recorded on it until an "
                       "operator acknowledges the gap with `cmsbot audit repair-gap iwc-jwp "
                       "--reason \"…\"` (see docs/audit.md)\n")

        code, out, err = run("audit", "repair-gap", "iwc-jwp", "--reason", REASON)
        assert code == 0, err
        assert f"Acknowledged the gap in {IWC}: no event is stored at version {missing}" in out

        code, out, _ = run("audit", "verify")
        assert code == 0
        assert "Acknowledged gaps (1), repaired and not failures:" in out
        assert f"{IWC}: no event at version {missing}; acknowledged by cli:" in out
        assert REASON in out

        code, out, _ = run(*ENDORSED)
        assert code == 0
        assert f"(event {missing + 2}): Endorsed by CMS Standing Committee at StC44" in out

        code, out, _ = run("audit", "log", "--item", "iwc-jwp", "--json")
        logged = [json.loads(line) for line in out.splitlines()]
        assert [e["version"] for e in logged] == [1, 2, missing + 1, missing, missing + 2]
        acknowledgement = logged[3]
        assert acknowledgement["type"] == "VersionGapAcknowledged"
        assert acknowledgement["actor"].startswith("cli:")
        assert acknowledgement["data"] == {"reason": REASON}
        assert acknowledgement["summary"] == (f"No event is stored at version {missing}; the "
                                              f"gap was acknowledged: {REASON}")

    def test_the_repair_is_idempotent(self, seeded: Container, url: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        missing = record_with_gap(seeded)
        first = cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                    monkeypatch=monkeypatch, capsys=capsys)
        head = seeded.tracker.head()
        again = cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                    monkeypatch=monkeypatch, capsys=capsys)
        assert first.code == again.code == 0
        assert again.out == (f"Nothing to repair: versions 1–{missing + 1} of {IWC} run "
                             f"without a gap (version {missing} acknowledged before).\n")
        assert seeded.tracker.head() == head

    def test_an_item_without_a_gap_is_left_alone(self, seeded: Container, url: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
        head = seeded.tracker.head()
        done = cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 0
        assert "Nothing to repair: versions 1–" in done.out
        assert seeded.tracker.head() == head

    def test_a_gap_of_several_versions_gets_one_acknowledgement_each(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        top = top_version(seeded, "iwc-jwp")
        store_raw(seeded, ev.DocumentLinked, "iwc-jwp", version=top + 3, document="x",
                  description=None)
        done = cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert f"versions {top + 1}, {top + 2}. Recorded VersionGapAcknowledged there (2 " \
               "events)" in done.out
        assert seeded.tracker.item("iwc-jwp").version == top + 3

    def test_a_partners_gap_is_repaired_by_its_key(self, seeded: Container, url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        partner = seeded.tracker.partner("iwc")
        partner.add_alias(alias="lost alias", actor="test")
        partner.add_alias(alias="kept alias", actor="test")
        _, kept = partner.collect_events()
        seeded.tracker.recorder.insert_events([seeded.tracker.mapper.to_stored_event(kept)])
        done = cli(url, "audit", "repair-gap", "iwc", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 0 and "IWC (iwc): no event is stored at version 2" in done.out
        assert seeded.tracker.partner("iwc").aliases[-1] == "kept alias"


class TestTheRepairRefuses:
    def test_without_a_reason(self, seeded: Container, url: str,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
        record_with_gap(seeded)
        head = seeded.tracker.head()
        done = cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", "  ",
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 1
        assert done.err.startswith("cmsbot: acknowledging a gap needs a reason")
        assert seeded.tracker.head() == head

    def test_a_reader(self, seeded: Container) -> None:
        from cmsbot.app.auth import NotAuthorizedError

        record_with_gap(seeded)
        head = seeded.tracker.head()
        with pytest.raises(NotAuthorizedError):
            repair_gap(seeded, Principal("U0READER", may_record=False), "iwc-jwp",
                       reason=REASON, now=datetime.now(UTC))
        assert seeded.tracker.head() == head

    def test_while_the_log_does_not_verify(self, seeded: Container, url: str,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        # An event deleted after it was chained leaves a gap too; acknowledging it would
        # hide the deletion.
        position = position_of(seeded, "AgreementEndorsed", "cites-jwp")
        delete_event(seeded, position)
        head = seeded.tracker.head()
        with pytest.raises(VersionGapError):  # a gap: the endorsement was not the last event
            seeded.tracker.item("cites-jwp")
        done = cli(url, "audit", "repair-gap", "cites-jwp", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 1
        assert done.err.startswith(f"cmsbot: the log does not verify (position {position}: "
                                   "the event chained here is missing")
        assert "nothing was recorded" in done.err
        assert seeded.tracker.head() == head

    def test_a_missing_registration(self, seeded: Container, url: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
        store_raw(seeded, ev.DocumentLinked, "ghost", version=2, document="x",
                  description=None)
        head = seeded.tracker.head()
        done = cli(url, "audit", "repair-gap", "ghost", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 1
        assert done.err.startswith(f"cmsbot: the record {item_id('ghost')} has no "
                                   "registration at version 1")
        assert seeded.tracker.head() == head
        recorded = cli(url, "record", "ghost", "linked", "--field", "document=y",
                       "--occurred", "2016", monkeypatch=monkeypatch, capsys=capsys)
        assert recorded.code == 1 and "Traceback" not in recorded.err
        assert "has no registration at version 1" in recorded.err

    def test_an_unknown_key(self, seeded: Container, url: str,
                            monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
        done = cli(url, "audit", "repair-gap", "no-such-item", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys)
        assert done.code == 1
        assert done.err == "cmsbot: nothing is tracked under the key 'no-such-item'\n"


class TestARepairedItem:
    @pytest.fixture
    def repaired(self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> int:
        missing = record_with_gap(seeded)
        assert cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys).code == 0
        return missing

    def test_the_acknowledgement_changes_no_view(self, seeded: Container, url: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
        record_with_gap(seeded)
        seeded.catch_up()
        before = views_of(seeded)
        assert cli(url, "audit", "repair-gap", "iwc-jwp", "--reason", REASON,
                   monkeypatch=monkeypatch, capsys=capsys).code == 0
        assert views_of(seeded) == before
        seeded.projector.rebuild()
        assert views_of(seeded) == before

    def test_its_versions_keep_their_numbers_and_its_state_is_the_fold(
            self, seeded: Container, repaired: int) -> None:
        item = seeded.tracker.item("iwc-jwp")
        assert [e.originator_version for e in item.history] == list(
            range(1, repaired + 2))
        assert isinstance(item.history[repaired - 1], ev.VersionGapAcknowledged)
        assert item.state.documents[-1] == "UNEP/CMS/StC44/Kept"
        assert "UNEP/CMS/StC44/Lost" not in item.state.documents

    def test_the_acknowledged_version_cannot_be_corrected_but_later_ones_can(
            self, seeded: Container, url: str, repaired: int,
            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        refused = cli(url, "record", "iwc-jwp", "corrected", "--field",
                      f"corrects={repaired}", "--field", "changes.document=x", "--field",
                      "reason=typo", "--occurred", "2015-10-16", monkeypatch=monkeypatch,
                      capsys=capsys)
        assert refused.code == 1 and "Traceback" not in refused.err
        assert refused.err.startswith(f"cmsbot: IWC–CMS Joint Work Plan has no event "
                                      f"{repaired}: none was stored at that version")
        corrected = cli(url, "record", "iwc-jwp", "corrected", "--field",
                        f"corrects={repaired + 1}", "--field",
                        "changes.document=UNEP/CMS/StC44/18.4", "--field", "reason=typo",
                        "--occurred", "2015-10-16", monkeypatch=monkeypatch, capsys=capsys)
        assert corrected.code == 0, corrected.err
        documents = seeded.tracker.item("iwc-jwp").state.documents
        assert "UNEP/CMS/StC44/18.4" in documents and "UNEP/CMS/StC44/Kept" not in documents

    def test_questions_as_at_a_date_read_it(self, seeded: Container, url: str, repaired: int,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
        for args in (("ask", "history of IWC JWP"),
                     ("ask", "--as-at", "2015-12-01", "status of IWC JWP"),
                     ("ask", "--known-at", "2100-01-01T00:00:00Z", "status of IWC JWP")):
            done = cli(url, *args, monkeypatch=monkeypatch, capsys=capsys)
            assert done.code == 0 and "IWC–CMS Joint Work Plan" in done.out, done.err

    def test_an_export_of_it_imports_with_the_same_head(
            self, seeded: Container, url: str, repaired: int, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        export = tmp_path / "log.jsonl"
        assert cli(url, "audit", "export", "--output", str(export), monkeypatch=monkeypatch,
                   capsys=capsys).code == 0
        copy = new_store(f"sqlite:///{tmp_path}/copy.sqlite")
        imported = cli(copy, "import", str(export), monkeypatch=monkeypatch, capsys=capsys)
        assert imported.code == 0, imported.err
        assert f"chain head {seeded.chain.head()}, as in the export" in imported.out
        assert cli(copy, "audit", "verify", monkeypatch=monkeypatch, capsys=capsys).code == 0


def test_an_export_with_a_gap_not_acknowledged_is_refused_naming_it(
        seeded: Container, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = record_with_gap(seeded)
    export = tmp_path / "log.jsonl"
    assert cli(url, "audit", "export", "--output", str(export), monkeypatch=monkeypatch,
               capsys=capsys).code == 0
    copy = new_store(f"sqlite:///{tmp_path}/copy.sqlite")
    imported = cli(copy, "import", str(export), monkeypatch=monkeypatch, capsys=capsys)
    assert imported.code == 2  # a refused file, as any history file
    assert (f"version {missing} of {item_id('iwc-jwp')} is missing, and no event "
            "acknowledges the gap") in imported.err

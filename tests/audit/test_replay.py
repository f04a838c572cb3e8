"""`audit replay`: the views as they stood at a point, rebuilt by the real projector in a
scratch store; `--diff` says what changed since, item by item."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cmsbot.audit.replay import Cutoff, ReplayError, replay
from cmsbot.bootstrap import Container
from cmsbot.db import make_engine
from cmsbot.settings import Database
from projections import queries as q
from tests.audit.helpers import cli, correct_and_retract, position_of, views_of


@pytest.fixture
def history(seeded: Container) -> Container:
    correct_and_retract(seeded)
    return seeded


class TestABusinessDate:
    def test_at_the_start_of_2015_only_the_cites_plan_was_so(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "replay", "--until", "2015-01-01",
                  "--diff", monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 0, run.err
        board, diff = run.out.split("\nChanges since ")
        assert "Status board as at 1 January 2015 (business time): 1 item" in board
        assert "CITES–CMS Joint Work Plan 2015–2020: endorsed (endorsed by CITES Standing " \
               "Committee (SC65) and CMS Standing Committee (StC42)); since 2014" in board
        assert diff.startswith("1 January 2015 (business time), item by item: 42 changed, "
                               "1 unchanged")
        assert ("+ Third session of the IPBES Plenary (IPBES-3): new; now held (12-17 January "
                "2015, Bonn, Germany") in diff
        assert "    • 12-17 January 2015: Held 12-17 January 2015 in Bonn, Germany" in diff
        assert "+ Joint CITES/CMS Programme Officer: new; now filled" in diff
        assert "    • by 1 July 2015: Funded by Germany — UNEP/CMS/StC44/18 ¶8" in diff

    @pytest.mark.parametrize("day", [date(2014, 12, 31), date(2015, 1, 20),
                                     date(2015, 6, 30), date(2015, 9, 1), date(2016, 1, 1)])
    def test_the_replayed_board_is_what_ask_as_at_says(self, history: Container, day: date) -> None:
        result = replay(history.tracker, Cutoff(as_at=day))
        with history.engine.connect() as conn:
            snapshot = history.readmodel.snapshot(conn, as_at=day)
            ids = [row.item_id for row in q.board(conn)]
            expected = {s.id: s.to_dict() for s in snapshot.states(ids)}
        assert {i: s.to_dict() for i, s in result.states.items()} == expected


class TestALogPosition:
    def test_before_the_corrections_and_what_they_changed(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        before = position_of(history, "EventCorrected") - 1
        run = cli(history.settings.database.url, "audit", "replay", "--until", str(before),
                  "--diff", monkeypatch=monkeypatch, capsys=capsys)
        assert f"Status board as at position {before} of the log: 43 items" in run.out
        assert "Workshop to promote the accession of Latin American countries to CMS: " \
               "scheduled (22-24 September 2015, Panama)" in run.out.split("Changes")[0]
        diff = run.out.split("\nChanges since ")[1]
        assert "2 changed, 41 unchanged" in diff
        assert ("~ Workshop to promote the accession of Latin American countries to CMS: "
                "scheduled (22-24 September 2015, Panama), as of 1 September 2015 → scheduled "
                "(23-25 September 2015, Panama)") in diff
        assert "[next: 22-24 September 2015 → 23-25 September 2015]" in diff
        assert "[submissions 1 → 0]" in diff
        assert "    • 10 September 2015: Retracted event 3: recorded against the wrong " \
               "consultation — chat C0123 1441000000.000100" in diff

    def test_a_position_beyond_the_log(self, history: Container) -> None:
        with pytest.raises(ReplayError, match="the log has only 132 events"):
            replay(history.tracker, Cutoff(position=999))


class TestARecordedTime:
    def test_before_anything_was_recorded_the_board_is_empty(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "replay", "--until",
                  "2015-01-01T00:00:00Z", monkeypatch=monkeypatch, capsys=capsys)
        assert "(as recorded by then): 0 items (replayed from 0 events)" in run.out


def test_the_live_store_is_only_read_and_the_scratch_store_can_be_kept(
        history: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    before, head = views_of(history), history.chain.head()
    kept = tmp_path / "then.sqlite"
    run = cli(history.settings.database.url, "audit", "replay", "--until", "2015-09-01",
              "--keep", str(kept), monkeypatch=monkeypatch, capsys=capsys)
    assert f"The scratch store is kept at {kept}." in run.out
    assert views_of(history) == before and history.chain.head() == head
    engine = make_engine(Database(f"sqlite:///{kept}"))
    try:
        with engine.connect() as conn:
            assert len(q.board(conn)) == 43
    finally:
        engine.dispose()


@pytest.mark.parametrize("text", ["soon", "2015-13-01", "-3"])
def test_a_point_must_be_a_date_a_time_or_a_position(text: str) -> None:
    with pytest.raises(ReplayError):
        Cutoff.parse(text)

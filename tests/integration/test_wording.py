"""Dates, times and counts are said one way wherever cmsbot speaks: the command line, the
answers, Slack, digests and the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cmsbot.audit.replay import Cutoff, board_text, replay
from cmsbot.bootstrap import Container
from cmsbot.cli import main

REPORT_DATE = date(2015, 9, 1)
ANNOUNCED = "civil-society-recommendations-2016"  # its notification is expected in 2016
ONE_ITEM = """\
document: TEST/1
as_at: 2016-03-01
partners:
  - {key: iwc, name: International Whaling Commission, acronym: IWC}
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


def cmsbot(url: str, *args: str, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> str:
    """What `cmsbot ARGS…` prints for the store at `url` (run in this process)."""
    monkeypatch.setenv("CMSBOT_DATABASE_URL", url)
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


class TestANextDate:
    def test_known_to_the_year_is_in_that_year(self, seeded: Container) -> None:
        text = seeded.questions.answer(f"status of {ANNOUNCED}", as_at=REPORT_DATE).text
        assert "next: notification expected in 2016;" in text
        assert " on 2016" not in text

    def test_known_to_the_day_is_on_that_day(self, seeded: Container) -> None:
        text = seeded.questions.answer("status of the CBD JWP", as_at=REPORT_DATE).text
        assert "next: endorsement at StC44 on 14-15 October 2015;" in text

    def test_on_the_replayed_board_too(self, seeded: Container) -> None:
        board = board_text(replay(seeded.tracker, Cutoff(as_at=REPORT_DATE)))
        assert "next: notification expected in 2016" in board
        assert "next: endorsement at StC44 on 14-15 October 2015" in board


class TestARecordedTime:
    def test_has_no_leading_zero_and_is_in_utc(self, seeded: Container) -> None:
        known_at = datetime(2030, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
        text = seeded.questions.answer("status of IWC JWP", known_at=known_at).text
        assert text.endswith("(as known on 1 January 2030 09:00 UTC).")

    def test_beside_a_business_date_in_the_same_style(self, seeded: Container) -> None:
        text = seeded.questions.answer("history of IWC JWP", as_at=date(2015, 9, 1),
                                       known_at=datetime(2030, 1, 2, tzinfo=UTC)).text
        assert text.startswith("History of IWC–CMS Joint Work Plan (as at 1 September 2015 "
                               "as known on 2 January 2030 00:00 UTC):")


class TestACount:
    def test_of_one_is_singular_in_what_an_import_says(
            self, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "one.yaml"
        path.write_text(ONE_ITEM, encoding="utf-8")
        cmsbot(sqlite_url, "db", "init", monkeypatch=monkeypatch, capsys=capsys)
        first = cmsbot(sqlite_url, "import", str(path), monkeypatch=monkeypatch,
                       capsys=capsys)
        assert first.startswith("Recorded 1 event on 1 new item, and 1 new partner: "
                                "3 log entries, registrations included.")
        again = cmsbot(sqlite_url, "import", str(path), monkeypatch=monkeypatch,
                       capsys=capsys)
        assert again.startswith("Nothing new: all 3 entries were recorded before.")

    def test_of_one_is_singular_in_an_answer(self, sqlite_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "one.yaml"
        path.write_text(ONE_ITEM, encoding="utf-8")
        cmsbot(sqlite_url, "db", "init", monkeypatch=monkeypatch, capsys=capsys)
        cmsbot(sqlite_url, "import", str(path), monkeypatch=monkeypatch, capsys=capsys)
        said = cmsbot(sqlite_url, "ask", "what do we have with IWC?",
                      monkeypatch=monkeypatch, capsys=capsys)
        assert said.startswith("With International Whaling Commission (IWC) we have 1 item:")

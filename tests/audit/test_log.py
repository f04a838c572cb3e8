"""`audit log`: every event, who recorded it, when, on what source; corrections beside what
they correct."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cmsbot.bootstrap import Container
from tests.audit.helpers import cli, correct_and_retract, position_of


@pytest.fixture
def history(seeded: Container) -> Container:
    correct_and_retract(seeded)
    return seeded


def log_json(container: Container, *args: str, mp: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    run = cli(container.settings.database.url, "audit", "log", "--json", *args,
              monkeypatch=mp, capsys=capsys)
    assert run.code == 0, run.err
    return [json.loads(line) for line in run.out.splitlines()]


class TestTheWholeLog:
    def test_lists_every_event_in_log_order_with_its_provenance(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, mp=monkeypatch, capsys=capsys)
        assert [e["position"] for e in events] == list(range(1, history.tracker.head() + 1))
        assert [e["hash"] for e in events][-1] == history.chain.head().hash
        endorsed = next(e for e in events if e["type"] == "AgreementEndorsed")
        assert endorsed["item"] == "cites-jwp"
        assert endorsed["actor"] == "import:UNEP/CMS/StC44/18"
        assert endorsed["occurred"]["precision"] == "year"
        assert endorsed["occurred"]["words"] == "2014"
        assert endorsed["source"] == {"document": "UNEP/CMS/StC44/18", "paragraph": "8"}
        assert endorsed["data"] == {"body": "CITES Standing Committee", "meeting": "SC65"}
        assert endorsed["summary"] == "Endorsed by CITES Standing Committee at SC65"
        recorded = datetime.fromisoformat(endorsed["recorded"])
        assert abs(datetime.now(UTC) - recorded) < timedelta(hours=1)

    def test_text_shows_occurred_with_its_precision_and_the_source(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "log", monkeypatch=monkeypatch,
                  capsys=capsys)
        position = position_of(history, "OfficerRecruited")
        entry = run.out.split(f"\n#{position}  ")[1].split("\n\n")[0]
        assert "cites-cms-programme-officer v3  OfficerRecruited — An officer recruited, " \
               "starting 1 July 2015" in entry
        assert "occurred: by 1 July 2015 [day, no later than]" in entry
        assert "source: UNEP/CMS/StC44/18 ¶8" in entry
        assert "note: The first joint CITES/CMS Programme Officer" in entry

    def test_a_partner_event_says_what_it_is(self, history: Container,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        [first, *_] = log_json(history, mp=monkeypatch, capsys=capsys)
        assert first["aggregate"] == "partner" and first["item"] == "cms"
        assert first["summary"].startswith("Began tracking partner Convention on the")


class TestFilters:
    def test_by_item(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, "--item", "iwc-jwp", mp=monkeypatch, capsys=capsys)
        assert [e["type"] for e in events] == ["ItemRegistered",
                                                "AgreementNegotiationProgressed"]

    def test_by_actor(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, "--actor", "LOCAL", mp=monkeypatch, capsys=capsys)
        assert [e["type"] for e in events] == ["EventCorrected", "EventRetracted"]

    def test_by_recorded_time(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, mp=monkeypatch, capsys=capsys)
        cut = datetime.fromisoformat(events[-2]["recorded"])
        since = log_json(history, "--since", cut.isoformat(), mp=monkeypatch, capsys=capsys)
        assert [e["position"] for e in since] == [e["position"] for e in events[-2:]]
        until = log_json(history, "--until", cut.isoformat(), mp=monkeypatch, capsys=capsys)
        assert until[-1]["position"] == events[-2]["position"]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        assert log_json(history, "--since", tomorrow, mp=monkeypatch, capsys=capsys) == []

    def test_nothing_matching_says_so(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "log", "--item", "no-such-item",
                  monkeypatch=monkeypatch, capsys=capsys)
        assert run.code == 0 and run.out.strip() == "No events match."


class TestCorrectionsBesideWhatTheyCorrect:
    def test_both_ways_in_json(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, "--item", "latin-america-accession-workshop",
                          mp=monkeypatch, capsys=capsys)
        scheduled, fix = events[1], events[2]
        assert scheduled["fixed_by"] == [{"position": fix["position"], "what": "corrected",
                                          "reason": "the dates moved by a day"}]
        assert fix["fixes"] == {"position": scheduled["position"], "version": 2,
                                "summary": scheduled["summary"]}
        assert fix["data"]["changes"]["dates"]["text"] == "23-25 September 2015"

    def test_both_ways_in_text(self, history: Container, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
        run = cli(history.settings.database.url, "audit", "log", "--item",
                  "civil-society-consultation", monkeypatch=monkeypatch, capsys=capsys)
        submission = position_of(history, "SubmissionReceived")
        retraction = position_of(history, "EventRetracted")
        assert f"retracted by #{retraction}: recorded against the wrong consultation" in run.out
        assert f"retracts #{submission} (v3: Submission received from Wild Migration" in run.out

    def test_the_original_is_marked_even_when_only_it_is_shown(
            self, history: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        events = log_json(history, "--actor", "import:UNEP/CMS/StC44/18", mp=monkeypatch,
                          capsys=capsys)
        submission = next(e for e in events if e["type"] == "SubmissionReceived")
        assert submission["fixed_by"][0]["what"] == "retracted"

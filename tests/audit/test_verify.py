"""`audit verify` on the real store, tampered with by direct SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cmsbot.audit import tables as t
from cmsbot.audit.chain import Head
from cmsbot.bootstrap import Container
from cmsbot.services import LOCAL_OPERATOR
from domain.provenance import Source
from tests.audit.helpers import (
    change_event,
    cli,
    delete_event,
    position_of,
    rewrite_chain,
    swap_events,
)


@pytest.fixture
def url(seeded: Container) -> str:
    return seeded.settings.database.url


def verify(url: str, *args: str, mp: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    run = cli(url, "audit", "verify", *args, monkeypatch=mp, capsys=capsys)
    return run.code, run.out, run.err


class TestAnUntouchedLog:
    def test_verifies_and_prints_the_head_to_publish(self, seeded: Container, url: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
        code, out, err = verify(url, mp=monkeypatch, capsys=capsys)
        head = seeded.chain.head()
        assert code == 0, err
        assert f"The log verifies: {head.position} events" in out
        assert f"Chain head: {head}" in out
        assert head.position == seeded.tracker.head()

    def test_still_extends_a_head_published_earlier(self, seeded: Container, url: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
        earlier = seeded.chain.head()
        seeded.recorder.record(
            LOCAL_OPERATOR, key="iwc-jwp", what="endorsed",
            fields={"body": "CMS Standing Committee", "meeting": "StC44"},
            occurred="2015-10-15", source=Source("UNEP/CMS/StC44/Report", "12"))
        code, out, _ = verify(url, "--head", str(earlier), mp=monkeypatch, capsys=capsys)
        assert code == 0
        assert f"It still extends {earlier}." in out
        # Recorded but not yet chained by anyone: verify reads, it does not chain.
        assert "the last 1 events are not in the stored chain yet" in out

    def test_a_malformed_head_is_a_usage_error(self, url: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_:
            verify(url, "--head", "abc@1", mp=monkeypatch, capsys=capsys)
        assert exit_.value.code == 2
        assert "HASH@POSITION" in capsys.readouterr().err


class TestTampering:
    """Each tampering is caught, exit status 1, naming the first bad position."""

    def test_a_changed_event(self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "AgreementNegotiationProgressed", "iwc-jwp")
        change_event(seeded, position, b'"stage":"advanced"', b'"stage":"early"')
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {position}: the stored event differs from the one chained" in err
        assert "changed after it was recorded" in err

    def test_a_changed_recorded_time(self, seeded: Container, url: str,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "AgreementEndorsed", "cites-jwp")
        change_event(seeded, position, b'"_data_":"20', b'"_data_":"19')
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1 and f"position {position}:" in err

    def test_a_deleted_event(self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "SubmissionReceived")
        delete_event(seeded, position)
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {position}: the event chained here is missing" in err
        assert f"was chained at position {position + 1}" in err

    def test_the_last_event_deleted(self, seeded: Container, url: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
        last = seeded.tracker.head()
        delete_event(seeded, last)
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {last}: the log ends at position {last - 1}" in err

    def test_two_events_swapped(self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
        first = position_of(seeded, "AgreementEndorsed", "cites-jwp")
        swap_events(seeded, first, first + 1)
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {first}: the event chained here is missing (deleted or moved later)" \
            in err

    def test_an_event_moved_to_the_end(self, seeded: Container, url: str,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "OfficerRecruited")
        swap_events(seeded, position, 10_000)  # no event at 10000: it simply moves there
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1 and f"position {position}:" in err

    def test_an_altered_chain_row(self, seeded: Container, url: str,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(t.chain.update().where(t.chain.c.position == 7).values(hash="0" * 64))
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert "position 7: the event is unchanged but its stored chain hash differs" in err


    def test_a_deleted_chain_head_row(self, seeded: Container, url: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(t.chain_head.delete())
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert "position 1: the chain's head row says 0 events were chained, but its rows " \
               f"go to {seeded.tracker.head()}" in err


class TestARewrittenChain:
    """Someone changes an event and chains the log anew: the stored chain agrees with the
    changed log, so only a head kept elsewhere can tell."""

    def test_is_invisible_without_a_published_head(self, seeded: Container, url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "AgreementNegotiationProgressed", "iwc-jwp")
        change_event(seeded, position, b'"stage":"advanced"', b'"stage":"early"')
        rewrite_chain(seeded)
        code, _, _ = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 0  # the documented limit: the chain beside the log was rewritten too

    def test_is_caught_by_the_published_head(self, seeded: Container, url: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        published = seeded.chain.head()
        position = position_of(seeded, "AgreementNegotiationProgressed", "iwc-jwp")
        change_event(seeded, position, b'"stage":"advanced"', b'"stage":"early"')
        rewrite_chain(seeded)
        assert seeded.chain.head() != published
        code, out, err = verify(url, "--head", str(published), mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {published.position}: the log no longer extends {published}" in err
        assert f"Chain head now: {seeded.chain.head()}" in out

    def test_several_heads_narrow_it_down(self, seeded: Container, url: str,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        position = position_of(seeded, "AgreementNegotiationProgressed", "iwc-jwp")
        with seeded.engine.connect() as conn:
            rows = {r.position: r.hash for r in conn.execute(select(t.chain))}
        before, after = Head(position - 5, rows[position - 5]), Head(position + 5,
                                                                     rows[position + 5])
        change_event(seeded, position, b'"stage":"advanced"', b'"stage":"early"')
        rewrite_chain(seeded)
        code, _, err = verify(url, "--head", str(before), "--head", str(after),
                              mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {after.position}: the log no longer extends {after}" in err
        assert f"change lies in positions {before.position + 1}–{after.position}" in err

    def test_an_earlier_export_names_the_exact_position(self, seeded: Container, url: str,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
        export = tmp_path / "kept-elsewhere.jsonl"
        assert cli(url, "audit", "export", "--output", str(export), monkeypatch=monkeypatch,
                   capsys=capsys).code == 0
        position = position_of(seeded, "AgreementNegotiationProgressed", "iwc-jwp")
        change_event(seeded, position, b'"stage":"advanced"', b'"stage":"early"')
        rewrite_chain(seeded)
        code, _, err = verify(url, "--against", str(export), mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"position {position}: the log differs here from the export" in err

    def test_deleting_events_from_the_end_is_caught_by_the_head(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        published = seeded.chain.head()
        delete_event(seeded, seeded.tracker.head())
        rewrite_chain(seeded)
        code, _, err = verify(url, "--head", str(published), mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert f"it has only {published.position - 1} events" in err

"""`audit verify` on the real store, tampered with by direct SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit import tables as t
from cmsbot.audit.chain import Head
from cmsbot.bootstrap import Container
from domain import events as ev
from domain.items import item_id
from domain.provenance import Source
from tests.audit.helpers import (
    change_event,
    cli,
    delete_event,
    events_table,
    position_of,
    record_with_gap,
    rewrite_chain,
    store_raw,
    swap_events,
    top_version,
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
        assert f"The log verifies: {head.position} log entries" in out
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


IWC = "“IWC–CMS Joint Work Plan” (iwc-jwp)"


class TestTheLogAgainstItself:
    """What the chain cannot see: each is reported in words, naming the item and the version,
    with exit status 1. The rows are written straight through the store's recorder, as no
    command would write them."""

    def failing(self, url: str, mp: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> str:
        code, out, err = verify(url, mp=mp, capsys=capsys)
        assert code == 1, out
        assert "the log is not consistent with itself" in err
        assert "Traceback" not in err
        return err

    def test_a_gap_in_an_items_versions(self, seeded: Container, url: str,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        missing = record_with_gap(seeded)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"position {seeded.tracker.head()}: {IWC}, version {missing + 1}: version "
                f"{missing} is missing: version {missing + 1} follows version {missing - 1}"
                ) in err
        assert "cmsbot audit repair-gap iwc-jwp --reason" in err

    def test_a_version_recorded_after_a_later_one(self, seeded: Container, url: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
        missing = record_with_gap(seeded)
        store_raw(seeded, ev.DocumentLinked, "iwc-jwp", version=missing,
                  document="UNEP/CMS/StC44/Late", description=None)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {missing}: it was recorded after version {missing + 1}: the "
                "item's events are out of order in the log") in err

    def test_an_unknown_event_type(self, seeded: Container, url: str,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                            description=None, topic="cmsbot.AgreementAbandoned")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: its type 'cmsbot.AgreementAbandoned' is not one "
                "cmsbot knows: nothing can read it") in err

    def test_a_type_stored_under_its_class_path_not_its_pinned_topic(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                            description=None, topic="domain.events:DocumentLinked")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: its type is stored as "
                "'domain.events:DocumentLinked', not under a pinned name "
                "('cmsbot.DocumentLinked')") in err

    def test_data_that_is_not_json(self, seeded: Container, url: str,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                            description=None, state=b"{not json")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: its stored data cannot be read as a "
                "DocumentLinked") in err

    def test_data_without_a_field_or_with_a_wrong_value(self, seeded: Container, url: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        ) -> None:
        first = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                          description=None)
        second = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="y",
                           description=None)
        events, order = events_table(seeded)
        log_ids = [seeded.tracker.head() - 1, seeded.tracker.head()]
        with seeded.engine.begin() as conn:
            for log_id, (old, new) in zip(log_ids, [(b'"document":"x",', b""),
                                                    (b'"document":"y"', b'"document":7')],
                                          strict=True):
                state = bytes(conn.execute(select(events.c.state).where(order == log_id))
                              .scalar_one())
                conn.execute(events.update().where(order == log_id).values(
                    state=state.replace(old, new)))
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {first}: its stored data lacks document: it cannot be read "
                "as a DocumentLinked") in err
        assert (f"{IWC}, version {second}: its stored data has the wrong type of value for "
                "document") in err

    def test_a_registration_that_is_not_first(self, seeded: Container, url: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(
            seeded, ev.ItemRegistered, "iwc-jwp", key="iwc-jwp", title="Again", aliases=[],
            partners=[], mandates=[], documents=[], period=None, subtype=None, summary=None,
            originator_topic="cmsbot.Agreement")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: a second registration (ItemRegistered): only "
                "version 1 registers an aggregate") in err

    def test_an_item_whose_first_event_is_not_its_registration(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        store_raw(seeded, ev.DocumentLinked, "ghost", document="x", description=None)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"the record {item_id('ghost')}, version 1: its first event is a "
                "DocumentLinked, not a registration") in err

    def test_a_registration_missing_from_the_start(self, seeded: Container, url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        store_raw(seeded, ev.DocumentLinked, "ghost", version=3, document="x",
                  description=None)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"the record {item_id('ghost')}, version 3: it has no registration: its "
                "events begin at version 3, so it cannot be read") in err

    def test_a_registration_under_another_keys_id(self, seeded: Container, url: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
        store_raw(seeded, ev.ItemRegistered, "shadow", key="iwc-jwp", title="Shadow",
                  aliases=[], partners=[], mandates=[], documents=[], period=None,
                  subtype=None, summary=None, originator_topic="cmsbot.Agreement")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"“Shadow” (iwc-jwp), version 1: it is stored under the id "
                f"{item_id('shadow')}, not the one its key gives ({item_id('iwc-jwp')})") in err

    def test_an_event_of_another_kind_of_item(self, seeded: Container, url: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(seeded, ev.AgreementEndorsed, "ipbes-3", body="IPBES",
                            meeting="IPBES-3")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"version {version}: an AgreementEndorsed is an event of an agreement, not of "
                "a meeting") in err

    def test_corrections_and_retractions_that_point_nowhere_sensible(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        def fix(cls: type[ev.ItemEvent], **fields: Any) -> int:
            return store_raw(seeded, cls, "iwc-jwp", reason="test", **fields)

        top = top_version(seeded, "iwc-jwp")
        beyond = fix(ev.EventCorrected, corrects=top + 5, changes={"stage": "early"})
        later = fix(ev.EventRetracted, retracts=beyond + 1)
        unknown_field = fix(ev.EventCorrected, corrects=2, changes={"venue": "Bonn"})
        empty = fix(ev.EventCorrected, corrects=2, changes={})
        registration = fix(ev.EventRetracted, retracts=1)
        first = fix(ev.EventRetracted, retracts=2)
        again = fix(ev.EventRetracted, retracts=2)
        of_a_fix = fix(ev.EventRetracted, retracts=first)
        err = self.failing(url, monkeypatch, capsys)
        for version, words in [
                (beyond, f"it corrects version {top + 5}, which is not an earlier event"),
                (later, f"it retracts version {beyond + 1}, which is not an earlier event"),
                (unknown_field, "it changes venue of version 2, an "
                                "AgreementNegotiationProgressed, which has no such field"),
                (empty, "it corrects nothing: its changes are empty"),
                (registration, "it retracts the item's registration, which cannot be"),
                (again, "it retracts version 2, which was retracted already"),
                (of_a_fix, f"it retracts version {first}, which is itself a correction or a "
                           "retraction")]:
            assert f"{IWC}, version {version}: {words}" in err
        assert f"version {first}:" not in err  # the first retraction of version 2 is sound

    def test_restatements_that_point_nowhere_sensible(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        def restate(version: int) -> int:
            return store_raw(seeded, ev.FactCorroborated, "iwc-jwp", corroborates=version)

        top = top_version(seeded, "iwc-jwp")
        sound = restate(2)
        beyond = restate(top + 5)
        itself = restate(top + 3)  # its own version
        of_a_restatement = restate(sound)
        retraction = store_raw(seeded, ev.EventRetracted, "iwc-jwp", retracts=2,
                               reason="test")
        of_a_revision = restate(retraction)
        of_the_retracted = restate(2)
        err = self.failing(url, monkeypatch, capsys)
        for version, words in [
                (beyond, f"it corroborates version {top + 5}, which is not an earlier event"),
                (itself, f"it corroborates version {itself}, which is not an earlier event"),
                (of_a_restatement, f"it corroborates version {sound}, which is itself a "
                                   "restatement"),
                (of_a_revision, f"it corroborates version {retraction}, which is itself a "
                                "correction or a retraction"),
                (of_the_retracted, "it corroborates version 2, which was retracted already")]:
            assert f"{IWC}, version {version}: {words}" in err
        assert f"version {sound}:" not in err  # restating version 2 before its retraction is sound
        assert f"version {retraction}:" not in err

    def test_a_restatement_of_a_version_where_nothing_is_stored(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        missing = record_with_gap(seeded)
        version = store_raw(seeded, ev.FactCorroborated, "iwc-jwp", corroborates=missing)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: it corroborates version {missing}, where no event "
                "is stored") in err

    def test_a_correction_of_a_version_where_nothing_is_stored(
            self, seeded: Container, url: str, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        missing = record_with_gap(seeded)
        version = store_raw(seeded, ev.EventRetracted, "iwc-jwp", retracts=missing,
                            reason="test")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: it retracts version {missing}, where no event is "
                "stored") in err

    def test_a_ref_recorded_twice(self, seeded: Container, url: str,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
        first = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                          description=None, ref="slack:V123")
        second = store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x",
                           description=None, ref="slack:V123")
        store_raw(seeded, ev.DocumentLinked, "cites-jwp", document="x", description=None,
                  ref="slack:V123")  # another item's: refs are per item
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {second}: its ref 'slack:V123' is recorded 2 times "
                f"(versions {first}, {second}): a record meant to be kept once was kept "
                "again") in err
        assert "cites-jwp" not in err

    def test_a_partner_named_before_it_is_registered(self, seeded: Container, url: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str],
                                                     ) -> None:
        version = store_raw(seeded, ev.PartnerJoined, "iwc-jwp", partner="nobody", role=None)
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: it names the partner 'nobody', not registered "
                "before it") in err

    def test_an_acknowledgement_that_fills_no_gap(self, seeded: Container, url: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
        version = store_raw(seeded, ev.VersionGapAcknowledged, "iwc-jwp", reason="none")
        err = self.failing(url, monkeypatch, capsys)
        assert (f"{IWC}, version {version}: it acknowledges a gap, but no version before it "
                "is missing") in err

    def test_every_problem_is_listed_not_only_the_first(self, seeded: Container, url: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        ) -> None:
        record_with_gap(seeded, "iwc-jwp")
        record_with_gap(seeded, "cites-jwp")
        err = self.failing(url, monkeypatch, capsys)
        assert "(2 problems)" in err and "(iwc-jwp)" in err and "(cites-jwp)" in err


class TestTheChainCoversExactlyTheLog:
    def test_a_renumbered_event(self, seeded: Container, url: str,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
        last = seeded.tracker.head()
        swap_events(seeded, last, last + 50)  # the same order, another id
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        assert code == 1
        assert (f"position {last}: the event is the one chained here, but its log id is now "
                f"{last + 50}, not {last}: the log was renumbered") in err

    def test_a_head_row_pointing_at_another_log_id(self, seeded: Container, url: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(t.chain_head.update().values(log_id=3))
        code, _, err = verify(url, mp=monkeypatch, capsys=capsys)
        head = seeded.tracker.head()
        assert code == 1
        assert (f"position {head}: the chain's head row says the last chained event has log "
                f"id 3, but the chain's row there says {head}") in err


class TestAnUnreadableEventElsewhere:
    """Every other command that meets an event no code can read says so in one line."""

    @pytest.mark.parametrize("stored", ["unknown type", "not json"])
    def test_a_record_says_so_in_one_line(self, seeded: Container, url: str, stored: str,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        if stored == "unknown type":
            store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x", description=None,
                      topic="cmsbot.AgreementAbandoned")
        else:
            store_raw(seeded, ev.DocumentLinked, "iwc-jwp", document="x", description=None,
                      state=b"{not json")
        run = cli(url, "record", "iwc-jwp", "document linked", "--occurred", "2016",
                  "--field", "document=UNEP/CMS/StC45/1", monkeypatch=monkeypatch,
                  capsys=capsys)
        assert run.code == 1
        assert "Traceback" not in run.err and len(run.err.strip().splitlines()) == 1
        assert "the log holds an event this version of cmsbot cannot read" in run.err
        assert "`cmsbot audit verify` names it" in run.err

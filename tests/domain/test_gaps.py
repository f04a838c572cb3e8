"""Given events whose versions skip a number: reading them fails with a named error, and an
acknowledgement at the missing version makes them read, without changing the state."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.application import project_aggregate

from domain import errors
from domain import events as ev
from domain.dates import PartialDate
from domain.gaps import acknowledge_gap, missing_versions
from domain.items import Agreement, Partner
from domain.provenance import Fact, Source
from domain.state import fold


def fact() -> Fact:
    return Fact(PartialDate.parse("2015"), "tester", Source("UNEP/CMS/StC44/18", "8"))


def events_with_a_gap() -> list[Any]:
    """Versions 1, 2, 4 and 5: version 3 was raised but never stored."""
    jwp = Agreement.register(fact(), key="cites-jwp", title="CITES JWP")
    jwp.propose(fact())
    jwp.start_drafting(fact())
    jwp.complete_draft(fact(), document="UNEP/CMS/StC44/18.1")
    jwp.endorse(fact(), body="CITES Standing Committee", meeting="SC65")
    events = list(jwp.collect_events())
    return events[:2] + events[3:]


def acknowledged(events: list[Any], reason: str = "lost") -> list[Any]:
    [acknowledgement] = acknowledge_gap(events[0].originator_id, [3], fact(), reason=reason)
    return sorted([*events, acknowledgement], key=lambda e: e.originator_version)


class TestReading:
    def test_a_gap_is_a_named_error_naming_the_item_and_the_version(self) -> None:
        with pytest.raises(errors.VersionGapError) as raised:
            project_aggregate(None, events_with_a_gap())
        assert raised.value.missing == (3,) and raised.value.key == "cites-jwp"
        assert str(raised.value).startswith(
            "the history of “CITES JWP” (cites-jwp) has a gap at version 3:")
        assert "cmsbot audit repair-gap cites-jwp" in str(raised.value)

    def test_a_missing_registration_is_a_named_error(self) -> None:
        with pytest.raises(errors.VersionGapError) as raised:
            project_aggregate(None, events_with_a_gap()[1:])
        assert raised.value.missing == (1,)
        assert "has no registration at version 1" in str(raised.value)

    def test_an_acknowledged_gap_reads_with_every_version_in_its_place(self) -> None:
        jwp = project_aggregate(None, acknowledged(events_with_a_gap()))
        assert isinstance(jwp, Agreement)
        assert jwp.version == 5
        assert [e.originator_version for e in jwp.history] == [1, 2, 3, 4, 5]
        assert jwp.state.status == "endorsed"

    def test_the_acknowledgement_changes_nothing_in_the_state(self) -> None:
        events = events_with_a_gap()
        assert fold(acknowledged(events)) == fold(events)

    def test_a_partners_gap_reads_once_acknowledged(self) -> None:
        iwc = Partner.register(key="iwc", name="International Whaling Commission",
                               actor="tester")
        iwc.add_alias(alias="lost", actor="tester")
        iwc.add_alias(alias="whaling commission", actor="tester")
        first, _, last = iwc.collect_events()
        with pytest.raises(errors.VersionGapError) as raised:
            project_aggregate(None, [first, last])
        assert "history of International Whaling Commission (iwc) has a gap at version 2" \
            in str(raised.value)
        [acknowledgement] = acknowledge_gap(iwc.id, [2], fact(), reason="lost")
        read = project_aggregate(None, [first, acknowledgement, last])
        assert isinstance(read, Partner) and read.aliases == ["whaling commission"]


class TestCommands:
    def test_the_acknowledged_version_cannot_be_corrected_or_retracted(self) -> None:
        jwp = project_aggregate(None, acknowledged(events_with_a_gap(), "a lost write"))
        assert isinstance(jwp, Agreement)
        with pytest.raises(errors.CorrectionTargetError, match="a lost write"):
            jwp.retract(fact(), retracts=3, reason="no")
        with pytest.raises(errors.CorrectionTargetError, match="has no event 3"):
            jwp.correct(fact(), corrects=3, changes={"document": "x"}, reason="no")
        jwp.correct(fact(), corrects=5, changes={"meeting": "SC66"}, reason="typo")
        assert jwp.state.endorsements == [["CITES Standing Committee", "SC66"]]

    def test_an_acknowledgement_needs_a_reason_and_is_never_of_the_registration(self) -> None:
        events = events_with_a_gap()
        with pytest.raises(errors.InvalidFieldError, match="needs a reason"):
            acknowledge_gap(events[0].originator_id, [3], fact(), reason=" ")
        with pytest.raises(errors.RegistrationMissingError):
            acknowledge_gap(events[0].originator_id, [1], fact(), reason="lost")

    def test_missing_versions(self) -> None:
        assert missing_versions([1, 2, 5, 3]) == [4]
        assert missing_versions([2]) == [1]
        assert missing_versions([]) == []


def test_the_acknowledgement_has_a_pinned_topic() -> None:
    assert ev.VersionGapAcknowledged.TOPIC == "cmsbot.VersionGapAcknowledged"


def test_the_error_crosses_to_another_process_whole() -> None:
    import pickle

    error = errors.VersionGapError("“CITES JWP” (cites-jwp)", "cites-jwp", range(3, 5))
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (str(copy), copy.missing) == (str(error), (3, 4))

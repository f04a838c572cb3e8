"""What can happen to any plan: noted, postponed, relocated, cancelled, an outcome unknown,
a fact restated; and as-at folds that see a plan before and after it moved."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest

from domain import errors
from domain import events as ev
from domain.catalogue import PARTNER_CATEGORIES, lookup
from domain.dates import PartialDate
from domain.items import Agreement, Engagement, Item, Meeting
from domain.provenance import Fact, Source
from domain.state import Kind, fold

T = TypeVar("T", bound=Item)


def fact(when: str = "by 2015-09-01", *, note: str | None = None,
         document: str = "UNEP/CMS/StC44/18") -> Fact:
    return Fact(PartialDate.parse(when), "tester", Source(document, "9"), note)


def new(cls: type[T], key: str = "mikt-1", title: str = "MIKT 1") -> T:
    item = cls.register(fact(), key=key, title=title)
    item.collect_events()
    return item


def raised(item: Item) -> list[Any]:
    return list(item.collect_events())


class TestNoted:
    def test_progress_during_negotiation_keeps_it_under_negotiation(self) -> None:
        jwp = new(Agreement, "iwc-jwp", "IWC JWP")
        jwp.progress_negotiation(fact("2015-06"), stage="advanced")
        jwp.note(fact("2016-10", note="Text agreed by both secretariats"))
        assert jwp.state.status == "in negotiation"
        assert str(jwp.state.status_since) == "June 2015"
        assert jwp.state.detail == "Text agreed by both secretariats"

    def test_progress_reported_during_negotiation_is_not_implementation(self) -> None:
        jwp = new(Agreement, "iwc-jwp", "IWC JWP")
        jwp.progress_negotiation(fact("2015-06"), stage="advanced")
        jwp.report_progress(fact("2016-10"), summary="drafting continued")
        assert jwp.state.status == "in negotiation"
        jwp.endorse(fact("2016-10-24"), body="IWC", meeting="IWC66")
        jwp.report_progress(fact("2017"), summary="joint activities")
        assert jwp.state.status == "in implementation"

    def test_a_note_is_required(self) -> None:
        jwp = new(Agreement)
        with pytest.raises(errors.InvalidFieldError, match="note"):
            jwp.note(fact("2016"))
        assert raised(jwp) == []


class TestPostponed:
    def test_as_at_before_the_announcement_shows_the_old_plan(self) -> None:
        mikt = new(Meeting)
        mikt.plan(fact("by 2015-09-01"), when=PartialDate.parse("early 2016"))
        mikt.postpone(fact("2016-02"), date=PartialDate.parse("12-15 July 2016"))
        events = mikt.history

        def as_at(day: str) -> str:
            end = PartialDate.parse(day).end
            state = fold(e for e in events if e.occurred.end <= end)
            assert state is not None
            return str(state.next_date)

        assert as_at("2016-01-31") == "early 2016"
        assert as_at("2016-03-01") == "12-15 July 2016"
        assert mikt.state.status == "rescheduled"

    def test_a_milestone_moves_and_a_missing_step_is_named(self) -> None:
        talks = new(Engagement, "sdgs", "SDGs")
        talks.plan_milestone(fact(), milestone="UNEA-2", when=PartialDate.parse("2016-05"))
        talks.postpone(fact("2016-01"), date=PartialDate.parse("2016-06"), step="unea-2")
        assert talks.state.agenda == [("UNEA-2", PartialDate.parse("2016-06"))]
        with pytest.raises(errors.NoPlannedStepError, match="its planned steps: UNEA-2"):
            talks.postpone(fact("2016-02"), date=PartialDate.parse("2016-07"), step="COP12")

    def test_a_meeting_held_is_not_postponed(self) -> None:
        mikt = new(Meeting)
        mikt.hold(fact("2016-07-15"), dates=PartialDate.parse("12-15 July 2016"))
        with pytest.raises(errors.MeetingAlreadyHeldError):
            mikt.postpone(fact("2016-08"), date=PartialDate.parse("2017"))


class TestRelocatedAndCancelled:
    def test_relocated_changes_the_venue_and_keeps_the_date(self) -> None:
        workshop = new(Meeting, "caribbean", "Caribbean workshop")
        workshop.plan(fact(), when=PartialDate.parse("2016"), venue="Jamaica")
        workshop.relocate(fact("2016-03"), venue="Barbados")
        assert workshop.state.venue == "Barbados"
        assert workshop.state.detail == "2016, Barbados"
        assert workshop.state.status == "planned"

    def test_a_cancelled_milestone_leaves_the_engagement_going(self) -> None:
        talks = new(Engagement, "sdgs", "SDGs")
        talks.start(fact())
        talks.plan_milestone(fact(), milestone="UNEA-2", when=PartialDate.parse("2016-05"))
        talks.cancel_plan(fact("2016-02"), step="UNEA-2")
        assert (talks.state.status, talks.state.agenda) == ("ongoing", [])
        talks.cancel_plan(fact("2016-03"))
        assert talks.state.status == "cancelled"
        with pytest.raises(errors.ItemCancelledError):
            talks.cancel_plan(fact("2016-04"))


class TestOutcomeUnknown:
    def test_it_closes_the_pending_endorsement(self) -> None:
        jwp = new(Agreement, "ramsar-jwp", "Ramsar JWP")
        jwp.submit_for_endorsement(fact(), body="CMS Standing Committee", meeting="StC44",
                                   meeting_date=PartialDate.parse("14-15 October 2015"))
        jwp.close_step(fact("2016"))
        [event] = raised(jwp)[-1:]
        assert isinstance(event, ev.OutcomeUnknown)
        assert event.step == "endorsement at StC44"
        assert (jwp.state.agenda, jwp.state.pending_endorsements) == ([], [])
        assert jwp.state.detail == "outcome of endorsement at StC44 not recorded"

    def test_nothing_pending_is_an_error(self) -> None:
        with pytest.raises(errors.NoPlannedStepError, match="nothing planned to close"):
            new(Agreement).close_step(fact())


class TestCorroborated:
    def test_a_restatement_adds_its_source(self) -> None:
        mikt = new(Meeting)
        mikt.hold(fact("2016-07-15"), dates=PartialDate.parse("12-15 July 2016"))
        mikt.corroborate(fact("2016-07-15", document="UNEP/CMS/COP12/Doc.21"), corroborates=2)
        assert [s.document for s in mikt.state.sources] == [
            "UNEP/CMS/StC44/18", "UNEP/CMS/COP12/Doc.21"]
        assert mikt.state.status == "held"
        with pytest.raises(errors.CorrectionTargetError):
            mikt.corroborate(fact(), corroborates=9)


class TestCatalogue:
    def test_every_new_event_has_a_label_for_forms(self) -> None:
        assert lookup(Kind.AGREEMENT, "noted").note_required
        assert lookup(Kind.MEETING, "relocated").event_class is ev.MeetingRelocated
        assert lookup(Kind.MEETING, "rescheduled").coerce({"date": "July 2016"})["dates"]
        assert lookup(Kind.ENGAGEMENT, "rescheduled").event_class is ev.ItemPostponed
        assert lookup(Kind.CONSULTATION, "cancelled").event_class is ev.ItemCancelled
        assert lookup(Kind.POST, "outcome unknown").label == "Outcome unknown"
        assert "convention" in PARTNER_CATEGORIES

    def test_a_url_is_kept_and_old_sources_read(self) -> None:
        source = Source.shared("UNEP/CMS/COP12/Doc.21", None, None, "https://www.cms.int/x")
        assert Source.from_dict(source.to_dict()) == source
        assert source.to_json() == {"document": "UNEP/CMS/COP12/Doc.21",
                                     "url": "https://www.cms.int/x"}
        old = {"document": "UNEP/CMS/StC44/18", "paragraph": None, "chat": None}
        assert Source.from_dict(old).url is None
        assert Source.from_dict(old).to_dict() == old


class TestAMeetingsOwnStep:
    def test_is_named_by_the_meeting_not_its_title_again(self) -> None:
        mikt = new(Meeting)
        mikt.plan(fact(), when=PartialDate.parse("early 2016"))
        mikt.postpone(fact("2016-02"), date=PartialDate.parse("July 2016"))
        mikt.close_step(fact("2016-09"))
        postponed, closed = raised(mikt)[-2:]
        assert (postponed.step, closed.step) == (None, None)
        assert (mikt.state.agenda, mikt.state.detail) == ([], "outcome not recorded")

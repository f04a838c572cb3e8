"""Who said each date (`ItemState.dated_by`, `held_by`, `cited`): the event that gave the
date, and the restatements of that event; what a line about one date cites."""

from __future__ import annotations

from domain.dates import PartialDate
from domain.items import Engagement, Meeting
from domain.provenance import Cited, Source
from domain.state import ItemState
from tests.domain.support import fact, new

DOC = "UNEP/CMS/StC44/18"


def said(*paragraphs: str) -> tuple[Source, ...]:
    return tuple(Source(DOC, p) for p in paragraphs)


class TestCited:
    def test_a_date_cites_the_event_that_gave_it_not_every_source(self) -> None:
        work = new(Engagement, "iwc", "IWC cooperation")
        work.start(fact(paragraph="3"), topics=[])
        work.plan_milestone(fact(paragraph="4"), milestone="joint report",
                            when=PartialDate.parse("2016"))
        work.plan_milestone(fact(paragraph="5"), milestone="workshop",
                            when=PartialDate.parse("2017"))
        work.postpone(fact(paragraph="6"), date=PartialDate.parse("2018"), step="joint report")
        state = work.state
        assert state.cited("joint report") == said("6")
        assert state.cited("workshop") == said("5")
        assert state.dated_by["joint report"] == Cited(5, said("6"))

    def test_a_restatement_of_the_event_adds_its_source(self) -> None:
        work = new(Engagement, "iwc", "IWC cooperation")
        work.plan_milestone(fact(paragraph="4"), milestone="joint report",
                            when=PartialDate.parse("2016"))
        work.note_progress(fact(paragraph="7"), summary="drafts exchanged")
        work.corroborate(fact(paragraph="9"), corroborates=2)
        work.corroborate(fact(paragraph="11"), corroborates=3)  # restates the progress: no date
        assert work.state.cited("joint report") == said("4", "9")

    def test_a_held_meeting_cites_the_event_that_says_it_was_held(self) -> None:
        meeting = new(Meeting, "stc45", "StC45")
        meeting.plan(fact(paragraph="2"), when=PartialDate.parse("2016"))
        meeting.hold(fact(paragraph="13"), dates=PartialDate.parse("2016-10-12"))
        state = meeting.state
        assert state.cited("StC45") == said("13")
        assert state.dated_by == {}
        assert state.first_plan is not None and state.first_plan.cited == Cited(2, said("2"))

    def test_a_date_no_longer_planned_cites_nothing_of_its_own(self) -> None:
        work = new(Engagement, "iwc", "IWC cooperation")
        work.plan_milestone(fact(paragraph="4"), milestone="joint report",
                            when=PartialDate.parse("2016"))
        work.reach_milestone(fact(paragraph="5"), milestone="joint report")
        assert "joint report" not in work.state.dated_by
        assert work.state.cited("joint report") == tuple(work.state.sources)  # the item's

    def test_kept_through_the_boards_json(self) -> None:
        meeting = new(Meeting, "stc45", "StC45")
        meeting.plan(fact(paragraph="2"), when=PartialDate.parse("2016"))
        meeting.corroborate(fact(paragraph="3"), corroborates=2)
        stored = meeting.state.to_dict()
        assert ItemState.from_dict(stored) == meeting.state
        del stored["dated_by"], stored["held_by"]  # as a state stored before they were kept
        assert ItemState.from_dict(stored).cited("StC45") == tuple(meeting.state.sources)

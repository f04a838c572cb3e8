"""When a plan has gone stale: overdue from the end of a partial date's period, steps that
settle, meetings that slip, and where an agreement stands with one body."""

from __future__ import annotations

from datetime import date

import pytest

from domain.dates import PartialDate
from domain.endorsement import ENDORSED, NOT_RECORDED, PENDING, endorsement_by
from domain.items import Agreement, Engagement, Meeting
from domain.overdue import (
    first_plan,
    has_passed,
    late_entries,
    meeting_key,
    overdue_from,
    slip,
)
from tests.domain.support import fact, new


class TestPassed:
    @pytest.mark.parametrize(("words", "first_day"), [
        ("early 2016", date(2016, 5, 1)),  # January to April
        ("mid 2016", date(2016, 9, 1)),
        ("2016", date(2017, 1, 1)),
        ("last trimester of 2016", date(2017, 1, 1)),
        ("2016-Q2", date(2016, 7, 1)),
        ("late November 2015", date(2015, 12, 1)),
        ("June 2016", date(2016, 7, 1)),
        ("14-15 October 2015", date(2015, 10, 16)),
        ("by 2016-05-02", date(2016, 5, 3)),
        ("2016 most probably", date(2017, 1, 1)),
    ])
    def test_a_date_passes_when_its_whole_period_is_over(self, words: str,
                                                         first_day: date) -> None:
        when = PartialDate.parse(words)
        assert overdue_from(when) == first_day
        assert has_passed(when, first_day)
        assert not has_passed(when, date.fromordinal(first_day.toordinal() - 1))

    def test_the_last_day_there_is_never_passes(self) -> None:
        assert overdue_from(PartialDate.on(date.max)) == date.max


class TestLateEntries:
    def test_a_plan_is_overdue_the_day_after_its_period(self) -> None:
        mikt = new(Meeting, "mikt-1", "MIKT1")
        mikt.plan(fact(), when=PartialDate.parse("early 2016"))
        assert late_entries(mikt.state, date(2016, 4, 30)) == []
        [late] = late_entries(mikt.state, date(2016, 5, 1))
        assert (late.label, str(late.planned), late.since, late.is_step) == (
            "MIKT1", "early 2016", date(2016, 5, 1), False)

    def test_an_outcome_takes_the_date_off(self) -> None:
        mikt = new(Meeting, "mikt-1", "MIKT1")
        mikt.plan(fact(), when=PartialDate.parse("early 2016"))
        mikt.hold(fact("12-15 July 2016"), dates=PartialDate.parse("12-15 July 2016"))
        assert late_entries(mikt.state, date(2017, 1, 1)) == []

    def test_a_missed_milestone_is_overdue(self) -> None:
        gef = new(Engagement, "gef-advice", "GEF advice")
        gef.plan_milestone(fact(), milestone="Advice for SBI-1",
                           when=PartialDate.parse("by 2016-05-02"))
        [late] = late_entries(gef.state, date(2016, 5, 3))
        assert late.label == "Advice for SBI-1" and not late.is_step

    def test_a_step_settles_when_its_meeting_is_held(self) -> None:
        jwp = new(Agreement, "cbd-jwp", "CBD JWP")
        jwp.submit_for_endorsement(fact(), body="CMS Standing Committee", meeting="StC44",
                                   meeting_date=PartialDate.parse("14-15 October 2015"))
        held = {meeting_key("StC44"): PartialDate.parse("14-15 October 2015")}
        assert late_entries(jwp.state, date(2015, 10, 15), held) == []  # still meeting
        [late] = late_entries(jwp.state, date(2015, 10, 16), held)
        assert (late.label, late.awaited, str(late.met)) == (
            "endorsement at StC44", "StC44", "14-15 October 2015")

    def test_a_step_settles_by_its_date_when_the_meeting_is_not_recorded(self) -> None:
        jwp = new(Agreement, "cbd-jwp", "CBD JWP")
        jwp.submit_for_endorsement(fact(), body="CMS Standing Committee", meeting="StC44",
                                   meeting_date=PartialDate.parse("14-15 October 2015"))
        [late] = late_entries(jwp.state, date(2015, 10, 16))
        assert (late.awaited, late.met) == ("StC44", None)


class TestSlips:
    def test_a_meeting_held_after_its_first_plan_slipped(self) -> None:
        mikt = new(Meeting, "mikt-1", "MIKT1")
        mikt.plan(fact(), when=PartialDate.parse("early 2016"))
        mikt.hold(fact("12-15 July 2016"), dates=PartialDate.parse("12-15 July 2016"),
                  venue="Cairo, Egypt")
        found = slip(mikt.state, first_plan(mikt.history))
        assert found is not None and found.later
        assert (str(found.first), str(found.now), found.first_venue) == (
            "early 2016", "12-15 July 2016", None)

    def test_a_meeting_held_elsewhere_moved(self) -> None:
        workshop = new(Meeting, "caribbean", "Caribbean workshop")
        workshop.plan(fact(), when=PartialDate.parse("2016"), venue="Jamaica")
        workshop.hold(fact("2016-08-31..2016-09-02"),
                      dates=PartialDate.parse("2016-08-31..2016-09-02"),
                      venue="Bridgetown, Barbados")
        found = slip(workshop.state, first_plan(workshop.history))
        assert found is not None and not found.later
        assert (found.first_venue, found.venue) == ("Jamaica", "Bridgetown, Barbados")

    def test_on_time_in_the_planned_country_is_no_slip(self) -> None:
        workshop = new(Meeting, "philippines", "Philippines workshop")
        workshop.schedule(fact(), dates=PartialDate.parse("27-29 October 2015"),
                          venue="Philippines")
        workshop.hold(fact("27-29 October 2015"), dates=PartialDate.parse("27-29 October 2015"),
                      venue="Quezon City, Philippines")
        assert slip(workshop.state, first_plan(workshop.history)) is None

    def test_a_tentative_venue_is_not_a_plan_to_move_from(self) -> None:
        workshop = new(Meeting, "pacific", "Pacific workshop")
        workshop.plan(fact(), when=PartialDate.parse("2016"), venue="Samoa",
                      venue_tentative=True)
        workshop.hold(fact("2016-11"), dates=PartialDate.parse("2016-11"), venue="Fiji")
        assert slip(workshop.state, first_plan(workshop.history)) is None

    def test_the_first_plan_is_read_as_corrected(self) -> None:
        mikt = new(Meeting, "mikt-1", "MIKT1")
        mikt.plan(fact(), when=PartialDate.parse("early 2016"))
        mikt.correct(fact(), corrects=2, changes={"when": PartialDate.parse("July 2016")},
                     reason="the report misread the date")
        mikt.hold(fact("12-15 July 2016"), dates=PartialDate.parse("12-15 July 2016"))
        plan = first_plan(mikt.history)
        assert plan is not None and str(plan.when) == "July 2016"
        assert slip(mikt.state, plan) is None

    def test_a_meeting_never_planned_before_it_was_held_has_no_first_plan(self) -> None:
        call = new(Meeting, "blg-call", "BLG call")
        call.hold(fact("23 January 2015"), dates=PartialDate.parse("23 January 2015"))
        assert first_plan(call.history) is None


class TestEndorsementBy:
    def jwp(self) -> Agreement:
        jwp = new(Agreement, "ramsar-jwp", "Ramsar JWP")
        jwp.submit_for_endorsement(fact(), body="CMS Standing Committee", meeting="StC44",
                                   meeting_date=PartialDate.parse("14-15 October 2015"))
        jwp.submit_for_endorsement(fact(), body="Ramsar Standing Committee", meeting="SC51",
                                   meeting_date=PartialDate.parse("23-27 November 2015"))
        return jwp

    def test_each_pending_body_is_held_and_named(self) -> None:
        jwp = self.jwp()
        assert jwp.state.detail == ("submitted to CMS Standing Committee (StC44) and "
                                    "Ramsar Standing Committee (SC51)")
        assert endorsement_by(jwp.state, "StC44").standing == PENDING
        found = endorsement_by(jwp.state, "Ramsar")
        assert (found.standing, found.body, found.meeting) == (
            PENDING, "Ramsar Standing Committee", "SC51")

    def test_one_body_endorsing_leaves_the_other_pending(self) -> None:
        jwp = self.jwp()
        jwp.endorse(fact("25 November 2015"), body="Ramsar Standing Committee", meeting="SC51")
        assert endorsement_by(jwp.state, "the Ramsar Standing Committee").standing == ENDORSED
        assert endorsement_by(jwp.state, "CMS Standing Committee").standing == PENDING
        assert endorsement_by(jwp.state, "CITES").standing == NOT_RECORDED
        assert endorsement_by(jwp.state, "").standing == NOT_RECORDED

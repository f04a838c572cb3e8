"""Given an item's history, a command raises the right event, or a named error."""

from __future__ import annotations

from typing import Any

import pytest

from domain import errors
from domain import events as ev
from domain.dates import PartialDate
from domain.items import Agreement, Consultation, Engagement, Item, Meeting, Post
from domain.overdue import first_plan
from domain.provenance import Fact, Source
from tests.domain.support import fact, new


def raised(item: Item) -> list[Any]:
    return list(item.collect_events())


class TestAgreements:
    def test_endorsement_records_the_body_and_meeting(self) -> None:
        jwp = new(Agreement, "cites-jwp", "CITES JWP")
        jwp.endorse(fact("2014"), body="CITES Standing Committee", meeting="SC65")
        [event] = raised(jwp)
        assert isinstance(event, ev.AgreementEndorsed)
        assert (event.body, event.meeting, str(event.occurred)) == (
            "CITES Standing Committee", "SC65", "2014")
        assert event.source.cite() == "UNEP/CMS/StC44/18 ¶8"
        assert jwp.state.status == "endorsed"

    def test_each_party_endorses_once(self) -> None:
        jwp = new(Agreement)
        jwp.endorse(fact("2014"), body="CITES Standing Committee", meeting="SC65")
        jwp.endorse(fact("2014"), body="CMS Standing Committee", meeting="StC42")
        with pytest.raises(errors.AlreadyEndorsedError):
            jwp.endorse(fact("2015"), body="CMS Standing Committee", meeting="StC43")
        assert "SC65" in (jwp.state.detail or "") and "StC42" in (jwp.state.detail or "")

    def test_an_expired_agreement_cannot_be_endorsed(self) -> None:
        jwp = new(Agreement)
        jwp.expire(fact("2020-12-31"))
        with pytest.raises(errors.AgreementExpiredError):
            jwp.endorse(fact("2021"), body="CMS Standing Committee", meeting="StC50")
        assert raised(jwp) == [jwp.history[-1]]

    def test_a_renewal_reopens_an_expired_agreement(self) -> None:
        jwp = new(Agreement)
        jwp.expire(fact("2020-12-31"))
        jwp.renew(fact("2021-02-01"), period="2021-2025")
        jwp.report_progress(fact("2022"), summary="Joint activities on ship strikes")
        assert jwp.state.status == "in implementation"
        assert jwp.state.period == "2021-2025"

    def test_cannot_go_back_to_drafting_after_endorsement(self) -> None:
        jwp = new(Agreement)
        jwp.endorse(fact("2014"), body="CMS Standing Committee", meeting="StC42")
        with pytest.raises(errors.StatusRegressionError):
            jwp.start_drafting(fact("2015"))

    def test_submission_for_endorsement_puts_the_meeting_on_the_agenda(self) -> None:
        jwp = new(Agreement)
        jwp.submit_for_endorsement(fact(), body="CMS Standing Committee", meeting="StC44",
                                   meeting_date=PartialDate.parse("14-15 October 2015"))
        assert jwp.state.status == "awaiting endorsement"
        assert str(jwp.state.next_date) == "14-15 October 2015"
        jwp.endorse(fact("2015-10-15"), body="CMS Standing Committee", meeting="StC44")
        assert jwp.state.next_date is None

    def test_signed_once(self) -> None:
        moc = new(Agreement)
        moc.sign(fact("2016-03-01"), signatories=["iotc", "cms"])
        with pytest.raises(errors.AlreadySignedError):
            moc.sign(fact("2016-03-02"))


class TestPosts:
    def test_recruiting_an_officer_records_the_start_date(self) -> None:
        post = new(Post, "officer", "Joint CITES/CMS Programme Officer")
        post.fund(fact(), donor="germany")
        post.recruit(fact("by 2015-07-01"), start=PartialDate.parse("1 July 2015"))
        event = raised(post)[-1]
        assert isinstance(event, ev.OfficerRecruited)
        assert str(event.start) == "1 July 2015"
        assert post.state.status == "filled"
        assert str(post.state.status_since) == "1 July 2015"
        assert "germany" in post.state.partners

    def test_a_filled_post_is_vacated_before_it_is_filled_again(self) -> None:
        post = new(Post)
        post.recruit(fact("2015-07-01"))
        with pytest.raises(errors.PostAlreadyFilledError):
            post.recruit(fact("2016-01-01"))
        post.vacate(fact("2017-01-01"))
        post.recruit(fact("2017-03-01"), officer="A. N. Other")
        assert post.state.officer == "A. N. Other"

    def test_an_empty_post_cannot_be_vacated(self) -> None:
        with pytest.raises(errors.PostNotFilledError):
            new(Post).vacate(fact())


class TestMeetings:
    def test_scheduling_a_workshop_records_dates_venue_and_organisers(self) -> None:
        workshop = new(Meeting, "ph", "Accession workshop")
        workshop.schedule(fact(), dates=PartialDate.parse("27-29 October 2015"),
                          venue="Philippines", organisers=["unep-roap"])
        [event] = raised(workshop)
        assert isinstance(event, ev.MeetingScheduled)
        assert (str(event.dates), event.venue, event.organisers) == (
            "27-29 October 2015", "Philippines", ["unep-roap"])
        assert workshop.state.status == "scheduled"

    def test_a_meeting_held_without_being_planned_is_fine(self) -> None:
        meeting = new(Meeting)
        meeting.hold(fact("23 January 2015"), dates=PartialDate.parse("23 January 2015"))
        assert meeting.state.status == "held"

    def test_a_meeting_is_held_once(self) -> None:
        meeting = new(Meeting)
        meeting.hold(fact("2015-01-23"), dates=PartialDate.parse("2015-01-23"))
        with pytest.raises(errors.MeetingAlreadyHeldError):
            meeting.hold(fact("2015-01-24"), dates=PartialDate.parse("2015-01-24"))

    def test_a_cancelled_meeting_cannot_be_held(self) -> None:
        meeting = new(Meeting)
        meeting.plan(fact(), when=PartialDate.parse("2016"), venue="Samoa", venue_tentative=True)
        meeting.cancel(fact("2016-03-01"), reason="no funding")
        with pytest.raises(errors.MeetingCancelledError):
            meeting.hold(fact("2016-05-01"), dates=PartialDate.parse("2016-05-01"))


class TestConsultations:
    def test_a_submission_needs_an_issued_notification(self) -> None:
        consultation = new(Consultation)
        with pytest.raises(errors.ConsultationNotIssuedError):
            consultation.receive_submission(fact(), submitter="wild-migration", title="Firebird")

    def test_receiving_a_submission(self) -> None:
        consultation = new(Consultation)
        consultation.issue(fact("16 June 2015"), notification="Notification of 16 June 2015")
        consultation.receive_submission(fact(paragraph="14"), submitter="wild-migration",
                                        title="The Firebird Project")
        event = raised(consultation)[-1]
        assert isinstance(event, ev.SubmissionReceived)
        assert (event.submitter, event.title) == ("wild-migration", "The Firebird Project")
        assert consultation.state.submissions == [["wild-migration", "The Firebird Project"]]

    def test_a_closed_consultation_takes_no_more(self) -> None:
        consultation = new(Consultation)
        consultation.issue(fact("2015-06-16"))
        consultation.close(fact("2015-12-31"))
        with pytest.raises(errors.ConsultationClosedError):
            consultation.receive_submission(fact("2016"), submitter="x", title="late")

    def test_issued_once(self) -> None:
        consultation = new(Consultation)
        consultation.issue(fact("2015-06-16"))
        with pytest.raises(errors.ConsultationAlreadyIssuedError):
            consultation.issue(fact("2015-06-17"))


class TestEngagements:
    def test_nothing_follows_a_conclusion(self) -> None:
        engagement = new(Engagement)
        engagement.start(fact(), topics=["SDG indicators"])
        engagement.conclude(fact("2016"), outcome="indicators adopted")
        with pytest.raises(errors.EngagementConcludedError):
            engagement.note_progress(fact("2017"), summary="more")

    def test_a_planned_milestone_is_the_next_date_until_reached(self) -> None:
        engagement = new(Engagement)
        engagement.plan_milestone(fact(), milestone="UNEA-2", when=PartialDate.parse("June 2016"))
        assert engagement.state.next_label == "UNEA-2"
        engagement.reach_milestone(fact("2016-06-27"), milestone="UNEA-2")
        assert engagement.state.next_date is None


class TestCorrections:
    def test_a_correction_points_at_the_event_and_changes_the_state(self) -> None:
        meeting = new(Meeting)
        meeting.schedule(fact(), dates=PartialDate.parse("27-29 October 2015"), venue="Manila")
        meeting.correct(fact("2015-09-10"), corrects=2,
                        changes={"venue": "Tagaytay City"}, reason="venue misreported")
        correction = raised(meeting)[-1]
        assert isinstance(correction, ev.EventCorrected) and correction.corrects == 2
        assert meeting.state.venue == "Tagaytay City"
        assert isinstance(meeting.history[1], ev.MeetingScheduled)
        assert meeting.history[1].venue == "Manila"  # nothing is edited

    def test_a_corrected_date_cites_the_correction_beside_the_original(self) -> None:
        meeting = new(Meeting, "mikt-1", "MIKT1")
        meeting.plan(fact(paragraph="8"), when=PartialDate.parse("early 2016"))
        meeting.correct(fact(paragraph="12"), corrects=2, reason="misread",
                        changes={"when": PartialDate.parse("July 2016")})
        planned, correction = Source("UNEP/CMS/StC44/18", "8"), Source("UNEP/CMS/StC44/18", "12")
        state = meeting.state
        assert state.agenda == [("MIKT1", PartialDate.parse("July 2016"))]
        assert state.cited("MIKT1") == (planned, correction)
        assert state.first_plan is not None and state.first_plan.cited is not None
        assert state.first_plan.cited.sources == (planned, correction)
        assert first_plan(meeting.history) == state.first_plan
        meeting.hold(fact("12-15 July 2016", paragraph="3"),
                     dates=PartialDate.parse("12-15 July 2016"))
        meeting.correct(fact(paragraph="4"), corrects=4, reason="misread",
                        changes={"dates": PartialDate.parse("13-15 July 2016")})
        assert meeting.state.cited("MIKT1") == tuple(
            Source("UNEP/CMS/StC44/18", p) for p in ("3", "4"))

    def test_a_retraction_undoes_the_event_in_the_state(self) -> None:
        meeting = new(Meeting)
        meeting.hold(fact("2015-01-23"), dates=PartialDate.parse("2015-01-23"))
        meeting.retract(fact("2015-02-01"), retracts=2, reason="recorded on the wrong meeting")
        assert meeting.state.status == "registered"
        meeting.hold(fact("2015-03-01"), dates=PartialDate.parse("2015-03-01"))
        assert meeting.state.status == "held"

    @pytest.mark.parametrize("target", [0, 9])
    def test_a_correction_needs_a_real_target(self, target: int) -> None:
        with pytest.raises(errors.CorrectionTargetError):
            new(Meeting).correct(fact(), corrects=target, changes={"title": "x"}, reason="r")

    def test_a_correction_names_fields_the_event_has(self) -> None:
        meeting = new(Meeting)
        meeting.cancel(fact(), reason="none")
        with pytest.raises(errors.CorrectionTargetError):
            meeting.correct(fact(), corrects=2, changes={"venue": "x"}, reason="r")

    def test_the_registration_cannot_be_retracted(self) -> None:
        with pytest.raises(errors.CorrectionTargetError):
            new(Meeting).retract(fact(), retracts=1, reason="r")


def test_every_event_carries_its_provenance() -> None:
    meeting = new(Meeting)
    meeting.plan(Fact(PartialDate.parse("by 2015-09-01"), "someone",
                      Source("UNEP/CMS/StC44/18", "23"), note="tentative"),
                 when=PartialDate.parse("late November 2015"))
    [event] = raised(meeting)
    assert event.actor == "someone" and event.note == "tentative"
    assert event.recorded.tzinfo is not None
    assert event.occurred.is_by

"""Corrections and retractions: applied in every view, and "history of X" shows both the
original and its fix. (The log and the report are tested in test_log and test_report.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from cmsbot.bootstrap import Container
from domain.items import item_id
from projections import tables as views
from tests.audit.helpers import correct_and_retract

PANAMA = str(item_id("latin-america-accession-workshop"))
CIVIL = str(item_id("civil-society-consultation"))


@pytest.fixture
def history(seeded: Container) -> Container:
    correct_and_retract(seeded)
    return seeded


class TestInEveryView:
    def test_the_board(self, history: Container) -> None:
        with history.engine.connect() as conn:
            states = {r.item_id: r.state for r in conn.execute(
                select(views.board.c.item_id, views.board.c.state))}
        assert states[PANAMA]["agenda"][0][1]["text"] == "23-25 September 2015"
        assert states[CIVIL]["submissions"] == []

    def test_the_calendar(self, history: Container) -> None:
        with history.engine.connect() as conn:
            row = conn.execute(select(views.calendar).where(
                views.calendar.c.item_id == PANAMA)).one()
        assert (row.start, row.end) == (date(2015, 9, 23), date(2015, 9, 25))

    def test_submissions_and_consultations(self, history: Container) -> None:
        with history.engine.connect() as conn:
            assert conn.execute(select(views.submissions).where(
                views.submissions.c.item_id == CIVIL)).all() == []
            count = conn.execute(select(views.consultations.c.submission_count).where(
                views.consultations.c.item_id == CIVIL)).scalar_one()
        assert count == 0

    def test_the_activity_view_keeps_both(self, history: Container) -> None:
        with history.engine.connect() as conn:
            types = conn.execute(select(views.activity.c.event_type).where(
                views.activity.c.item_id == CIVIL).order_by(views.activity.c.position)
                ).scalars().all()
        assert types[-2:] == ["SubmissionReceived", "EventRetracted"]

    def test_a_rebuild_gives_the_same(self, history: Container) -> None:
        from tests.audit.helpers import views_of

        before = views_of(history)
        history.projector.rebuild()
        assert views_of(history) == before


class TestHistoryOfX:
    def test_shows_the_original_and_its_correction(self, history: Container) -> None:
        answer = history.questions.answer("history of the Panama workshop")
        assert "Scheduled for 22-24 September 2015 in Panama" in answer.text
        assert "Corrected event 2 (dates → 23-25 September 2015): the dates moved by a day" \
            in answer.text
        assert "Now: Workshop to promote the accession of Latin American countries to CMS: " \
               "scheduled (23-25 September 2015, Panama)" in answer.text

    def test_shows_a_retracted_entry_struck_through_with_the_reason(
            self, history: Container) -> None:
        answer = history.questions.answer("history of the Res. 11.11 notification")
        assert "~Submission received from Wild Migration" in answer.text
        assert "Retracted event 3: recorded against the wrong consultation" in answer.text
        status = history.questions.answer("who submitted on civil society?")
        assert "Firebird" not in status.text


def test_the_chain_still_verifies(history: Container) -> None:
    from cmsbot.audit.verify import verify

    result = verify(history.engine, history.tracker)
    assert result.ok and result.head == history.chain.head()

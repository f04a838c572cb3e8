"""The fold keeps a meeting's first plan (`ItemState.first_plan`) as the events go: by
property, on random histories of a meeting (plans, moves, postponements, holding and
cancelling, renamed by a correction of its registration, with corrections, retractions
and restatements), it is what `domain.overdue.first_plan` reads from the events, with the
sources that said it, whether the state was folded in one go or event by event; and it
survives the board's JSON."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.dates import PartialDate
from domain.errors import DomainError
from domain.items import Meeting
from domain.overdue import first_plan, slip
from domain.provenance import Cited, Source
from domain.state import FirstPlan, ItemState, fold
from tests.domain.support import fact, new

_FORMS = ("{y}-{m:02d}-{d:02d}", "{y}-{m:02d}", "by {y}-{m:02d}-{d:02d}", "{y}", "early {y}")
_VENUES = (None, "Bonn", "Bonn, Germany", "Jamaica", "Bridgetown, Barbados")
OPERATIONS = ("plan", "schedule", "reschedule", "relocate", "postpone", "cancel plan",
              "hold", "cancel", "note", "correct", "rename", "retract", "restate")
STEP = st.tuples(st.sampled_from(OPERATIONS), st.dates(date(2014, 1, 1), date(2017, 12, 31)),
                 st.integers(0, len(_FORMS) - 1), st.integers(0, 40), st.booleans())


def _when(day: date, form: int) -> PartialDate:
    return PartialDate.parse(_FORMS[form].format(y=day.year, m=day.month, d=min(day.day, 27)))


def _apply(meeting: Meeting, what: str, when: PartialDate, number: int, flag: bool) -> None:
    """One command on the meeting (a command its rules refuse is passed over)."""
    venue = _VENUES[number % len(_VENUES)]
    versions = len(meeting.history)
    if what in ("correct", "retract", "restate") and versions < 2:
        return  # nothing after the registration to correct
    target = 2 + number % max(versions - 1, 1)  # an event after the registration
    commands: dict[str, Any] = {
        "plan": lambda: meeting.plan(fact(), when=when, venue=venue, venue_tentative=flag),
        "schedule": lambda: meeting.schedule(fact(), dates=when, venue=venue),
        "reschedule": lambda: meeting.reschedule(fact(), dates=when, venue=venue),
        "relocate": lambda: meeting.relocate(fact(), venue=venue or "Samoa"),
        "postpone": lambda: meeting.postpone(fact(), date=when,
                                             step=None if flag else "side event"),
        "cancel plan": lambda: meeting.cancel_plan(fact()),
        "hold": lambda: meeting.hold(fact(), dates=when, venue=venue),
        "cancel": lambda: meeting.cancel(fact()),
        "note": lambda: meeting.note(fact()),
        "correct": lambda: meeting.correct(
            fact(), corrects=target, reason="misread",
            changes=_changes(meeting.history[target - 1], when, venue, flag)),
        "rename": lambda: meeting.correct(fact(), corrects=1, reason="misnamed",
                                          changes={"title": f"Meeting {number % 3}"}),
        "retract": lambda: meeting.retract(fact(), retracts=target, reason="wrong item"),
        "restate": lambda: meeting.corroborate(fact(paragraph=str(10 + number)),
                                               corroborates=target),
    }
    with contextlib.suppress(DomainError):
        commands[what]()


def _changes(event: Any, when: PartialDate, venue: str | None, flag: bool) -> dict[str, Any]:
    fields = getattr(event, "__dataclass_fields__", {})
    changes: dict[str, Any] = {}
    for name, value in (("when", when), ("dates", when), ("date", when),
                        ("venue", venue), ("venue_tentative", flag)):
        if name in fields:
            changes[name] = value
    return changes or {"note": "checked"}


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(STEP, min_size=0, max_size=16))
def test_the_fold_keeps_the_first_plan_the_events_give(
        steps: list[tuple[str, date, int, int, bool]]) -> None:
    meeting = new(Meeting, "bonn", "Meeting 0")
    for what, day, form, number, flag in steps:
        _apply(meeting, what, _when(day, form), number, flag)
    meeting.collect_events()
    expected = first_plan(meeting.history)
    folded = fold(meeting.history)
    assert folded is not None
    assert folded.first_plan == expected
    assert meeting.state.first_plan == expected  # kept event by event
    assert ItemState.from_dict(folded.to_dict()) == folded
    assert slip(folded, folded.first_plan) == slip(folded, expected)
    # Who said each date: every date of the agenda has its sources, nothing else has.
    assert set(folded.dated_by) == {label for label, _ in folded.agenda}
    assert (folded.held_by is not None) == folded.held
    assert (meeting.state.dated_by, meeting.state.held_by) == (folded.dated_by, folded.held_by)


class TestFirstPlan:
    def test_the_first_plan_is_the_first_date_and_venue_put_on_the_agenda(self) -> None:
        meeting = new(Meeting, "mikt-1", "MIKT1")
        assert meeting.state.first_plan is None
        meeting.plan(fact(), when=PartialDate.parse("early 2016"), venue="Cairo")
        meeting.reschedule(fact(), dates=PartialDate.parse("July 2016"), venue="Rabat")
        meeting.corroborate(fact(paragraph="12"), corroborates=2)
        said = (Source("UNEP/CMS/StC44/18", "8"), Source("UNEP/CMS/StC44/18", "12"))
        assert meeting.state.first_plan == FirstPlan(PartialDate.parse("early 2016"), "Cairo",
                                                     Cited(2, said))

    def test_a_tentative_venue_is_not_kept(self) -> None:
        meeting = new(Meeting, "pacific", "Pacific workshop")
        meeting.plan(fact(), when=PartialDate.parse("2016"), venue="Samoa",
                     venue_tentative=True)
        assert meeting.state.first_plan is not None
        assert meeting.state.first_plan.venue is None

    def test_a_state_stored_without_it_reads_as_none(self) -> None:
        meeting = new(Meeting, "mikt-1", "MIKT1")
        meeting.plan(fact(), when=PartialDate.parse("early 2016"))
        stored = meeting.state.to_dict()
        assert ItemState.from_dict(stored).first_plan is not None
        del stored["first_plan"]
        assert ItemState.from_dict(stored).first_plan is None

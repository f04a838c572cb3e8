"""`domain.state.DATING` names every event whose handler changes what is dated: the agenda
view (`projections.views.agenda`) keeps an item's dates by folding those alone, so an event
that changes them without being named there would make it differ from the as-at fold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.catalogue import SPECS, EventSpec
from domain.dates import PartialDate
from domain.provenance import Source
from domain.state import DATING, SLIPPING, FirstPlan, ItemState, Kind

_VALUES: dict[str, Any] = {"str": "StC44", "date": PartialDate.parse("2016-05"),
                           "list": ["CMS"], "bool": True, "int": 1, "dict": {}}


def _event(spec: EventSpec) -> Any:
    fields = {f.name: _VALUES[f.type] for f in spec.fields}
    return spec.event_class(  # type: ignore[call-arg]
        originator_id=uuid4(), originator_version=2, timestamp=datetime.now(UTC),
        occurred=PartialDate.parse("2015-09-01"), actor="test", source=Source("D/1", "1"),
        note=None, ref=None, **fields)


def _dated_state() -> ItemState:
    """A state with something dated under every label a handler may plan or unplan (each
    text field of the events is "StC44")."""
    labels = ("StC44", "endorsement at StC44", "submission deadline",
              "consolidation for StC44", "notification expected")
    return ItemState(str(uuid4()), Kind.MEETING, "k", "StC44",
                     agenda=[(label, PartialDate.parse("2016")) for label in labels],
                     held_on=PartialDate.parse("2015-10-14"),
                     pending_endorsements=[["StC44", "StC44"]])


def _dated(state: ItemState) -> tuple[Any, ...]:
    return (list(state.agenda), state.held_on, [list(p) for p in state.pending_endorsements])


@pytest.mark.parametrize("spec", [s for s in SPECS if s.event_class not in DATING],
                         ids=lambda s: s.event_class.__name__)
def test_an_event_not_named_dating_changes_nothing_dated(spec: EventSpec) -> None:
    state = _dated_state()
    before = _dated(state)
    state.apply(_event(spec))
    assert _dated(state) == before


@pytest.mark.parametrize("spec", [s for s in SPECS if s.event_class in DATING],
                         ids=lambda s: s.event_class.__name__)
def test_an_event_named_dating_can_change_what_is_dated(spec: EventSpec) -> None:
    state = _dated_state()
    before = _dated(state)
    state.apply(_event(spec))
    assert _dated(state) != before


def _placed(state: ItemState) -> tuple[Any, ...]:
    return (state.venue, state.held, state.first_plan)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.event_class not in SLIPPING],
                         ids=lambda s: s.event_class.__name__)
def test_an_event_not_named_slipping_leaves_what_a_slip_compares(spec: EventSpec) -> None:
    state = _dated_state()
    state.venue = "Bonn"
    state.first_plan = FirstPlan(PartialDate.parse("2015"), "Bonn")  # noted already
    before = _placed(state)
    state.apply(_event(spec))
    assert _placed(state) == before

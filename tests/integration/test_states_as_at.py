"""Items' states as at a date or as known at a time, read many at once and only up to each
item's last visible event, equal the states folded from every event of each item."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bench.synth import Shape, write_history
from cmsbot.bootstrap import Container
from cmsbot.questions.engine import Snapshot
from cmsbot.services import LOCAL_OPERATOR
from domain.provenance import Source


@pytest.fixture
def synthetic(container: Container, tmp_path: Path) -> Container:
    path = tmp_path / "history.json"
    write_history(Shape(items=60, partners=10, events=700, long_item_events=80), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    # Later records that happened early: an event dated in 2013 recorded last, and a
    # correction of an early event.
    container.recorder.record(LOCAL_OPERATOR, key="item-0", what="progress noted",
                              fields={"summary": "an early fact told late"}, occurred="2013-02",
                              source=Source("TEST/9", "1"))
    container.recorder.record(LOCAL_OPERATOR, key="item-1", what="corrected",
                              fields={"corrects": 2, "changes": {"venue": "Corrected City"},
                                      "reason": "a typo"}, occurred="2031",
                              source=Source("TEST/9", "2"))
    container.catch_up()
    return container


@pytest.mark.parametrize("as_at", [date(2013, 6, 30), date(2015, 1, 1), date(2018, 12, 31),
                                   None])
def test_states_read_together_equal_states_folded_one_by_one(synthetic: Container,
                                                             as_at: date | None) -> None:
    known_at = None if as_at else datetime.now(UTC)
    with synthetic.engine.connect() as conn:
        snapshot = Snapshot(synthetic.questions, conn, as_at, known_at,
                            as_at or date.today())
        ids = [item.item_id for item in snapshot.index.items]
        together = {s.id: s.to_dict() for s in snapshot.states(ids)}
        one_by_one = {}
        for item_id in ids:
            state = snapshot.state(item_id)  # reads every event of the item
            if state is not None:
                one_by_one[state.id] = state.to_dict()
    assert together == one_by_one
    assert together  # some items had begun by then
    for folded in together.values():  # the correction, dated 2031, applies at any date
        if folded["key"] == "item-1":
            assert folded["venue"] == "Corrected City" or folded["version"] < 2

"""What the rebuild tests share: a long history over the seed, and every view's rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.synth import Shape, write_history
from bench.synth import history as synthetic
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from domain.items import item_id
from domain.provenance import Source
from projections import tables as t
from projections.tables import VIEW_TABLES
from tests.audit.helpers import correct_and_retract

SHAPE = Shape(items=40, partners=8, events=500, long_item_events=120)
SHARED = "with a second process"  # what the log says when a rebuild was shared


def every_view(container: Container) -> dict[str, Any]:
    """Every view's rows, sorted, and the views' positions."""
    with container.engine.connect() as conn:
        views: dict[str, Any] = {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in VIEW_TABLES}
        views["positions"] = sorted(map(tuple, conn.execute(select(t.positions))))
    return views


def long_history(seeded: Container, tmp_path: Path) -> Container:
    """The seed, a synthetic history beside it (partners with acronyms, long items), and
    a correction and a retraction: items the helper must leave to this process."""
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    seeded.importer.run_file(LOCAL_OPERATOR, path)
    correct_and_retract(seeded)
    # Retractions on items whose ids end in most hex digits: several of them would
    # otherwise be the helper's, however the items are split by id.
    keys = {item_id(entry["key"]).hex[-1]: entry["key"] for entry in synthetic(SHAPE)["items"]
            if len(entry["events"]) > 2}
    assert len(keys) >= 12
    for key in keys.values():
        seeded.recorder.record(LOCAL_OPERATOR, key=key, what="retracted",
                               fields={"retracts": 2, "reason": "recorded twice"},
                               occurred="2016-01-01", source=Source("TEST/1", "1"))
    seeded.catch_up()
    return seeded

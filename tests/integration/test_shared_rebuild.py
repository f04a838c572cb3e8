"""A long log is rebuilt by two processes, each decoding and applying half of the items'
events; the views must be exactly those one process rebuilds, and a helper that fails must
leave a rebuild in one process, not a broken one."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import projections.projector as projector_module
from bench.synth import Shape, write_history
from bench.synth import history as synthetic
from cmsbot.app.auth import LOCAL_OPERATOR, Principal
from cmsbot.bootstrap import Container
from cmsbot.digests.service import Subscriptions
from domain.items import item_id
from domain.provenance import Source
from projections import tables as t
from projections.tables import VIEW_TABLES
from tests.audit.helpers import correct_and_retract

SHAPE = Shape(items=40, partners=8, events=500, long_item_events=120)


def every_view(container: Container) -> dict[str, Any]:
    """Every view's rows, sorted, and the views' positions."""
    with container.engine.connect() as conn:
        views: dict[str, Any] = {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in VIEW_TABLES}
        views["positions"] = sorted(map(tuple, conn.execute(select(t.positions))))
    return views


def rebuilt(container: Container, *, shared: bool) -> dict[str, Any]:
    container.projector.SHARE_FROM = 0 if shared else 10**9
    assert container.projector.rebuild() == container.tracker.head()
    return every_view(container)


@pytest.fixture
def history(seeded: Container, tmp_path: Path) -> Container:
    """The seed, a synthetic history beside it (partners with acronyms, long items), and
    a correction and a retraction: items the helper must leave to this process."""
    path = tmp_path / "history.json"
    write_history(SHAPE, path)
    seeded.importer.run_file(LOCAL_OPERATOR, path)
    correct_and_retract(seeded)
    # Retractions too on items that would otherwise be the helper's.
    keys = [entry["key"] for entry in synthetic(SHAPE)["items"] if len(entry["events"]) > 2
            and item_id(entry["key"]).hex[-1] in projector_module._THEIRS][:3]
    assert keys
    for key in keys:
        seeded.recorder.record(LOCAL_OPERATOR, key=key, what="retracted",
                               fields={"retracts": 2, "reason": "recorded twice"},
                               occurred="2016-01-01", source=Source("TEST/1", "1"))
    seeded.catch_up()
    return seeded


def test_a_shared_rebuild_gives_the_views_of_one_process(history: Container) -> None:
    one = rebuilt(history, shared=False)
    assert history.projector.helper_peak_mb is None
    shared = rebuilt(history, shared=True)
    # It was shared: the helper answered to the end (corrected items never reached it,
    # or it would have failed and the rebuild gone to one process).
    assert history.projector.helper_peak_mb is not None
    assert shared == one
    assert len(shared["activity"]) > 600


def test_a_helper_that_dies_leaves_a_rebuild_in_one_process(
        history: Container, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    one = rebuilt(history, shared=False)
    monkeypatch.setattr(projector_module, "_share_items", lambda *args: os._exit(3))
    with caplog.at_level(logging.WARNING, logger="projections.projector"):
        again = rebuilt(history, shared=True)
    assert again == one
    assert history.projector.helper_peak_mb is None
    assert "ended without an answer" in caplog.text


def test_a_helper_that_fails_says_why_and_the_rebuild_is_whole(
        history: Container, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    one = rebuilt(history, shared=False)

    def fail() -> None:
        raise MemoryError("out of memory in the helper")

    monkeypatch.setattr(projector_module, "_own_peak_mb", fail)  # its last step
    with caplog.at_level(logging.WARNING, logger="projections.projector"):
        again = rebuilt(history, shared=True)
    assert again == one
    assert "out of memory in the helper" in caplog.text


def test_notices_still_owed_to_a_follower_keep_a_rebuild_in_one_process(
        history: Container) -> None:
    editor = Principal("U0EDITOR", may_record=True)
    Subscriptions(history.tracker, history.questions).follow(editor, "C1", "IWC JWP",
                                                            in_channel=True)
    history.recorder.record(editor, key="iwc-jwp", what="progress reported",
                            occurred="late 2016", fields={"summary": "a step"},
                            source=Source("TEST/1", "2"))
    # The views, and the notices with them, are behind the log: only a process holding
    # every item's state can make the notice.
    rebuilt(history, shared=True)
    assert history.projector.helper_peak_mb is None
    with history.engine.connect() as conn:
        texts = conn.execute(select(t.notice_outbox.c.text)).scalars().all()
    assert any("a step" in text for text in texts)

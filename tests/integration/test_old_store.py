"""A store written before the views were split into modules (tests/data/README.md): this
code rebuilds its views byte for byte as the old code wrote them, on one process or two,
and posts the notices it owed with the words the old code gave them."""

from __future__ import annotations

import gzip
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from cmsbot.app.auth import Principal
from cmsbot.bootstrap import bootstrap, init_schema
from cmsbot.db import make_engine
from cmsbot.digests.notices import NoticeSender, unsent
from cmsbot.settings import Database, Settings
from domain.provenance import Source
from projections import tables as t
from projections.projector import Projector
from projections.tables import VIEW_TABLES
from tests.conftest import new_store

OLD_STORE = Path(__file__).parents[1] / "data" / "store_39b32ce.sqlite.gz"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite"
    path.write_bytes(gzip.decompress(OLD_STORE.read_bytes()))
    return path


def stored(path: Path, tables: set[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every view's rows and every position, as SQLite holds them (JSON, dates and times
    as their stored text); of the views the file holds, or of `tables`."""
    with closing(sqlite3.connect(path)) as conn:
        held = tables or {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {table.name: sorted(conn.execute(f'SELECT * FROM "{table.name}"'),  # noqa: S608
                                   key=repr)
                for table in (*VIEW_TABLES, t.positions) if table.name in held}


def board_as_old(rows: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], int]:
    """The board's rows as the old code wrote them: without the columns added since
    (`slip_start`, `slip_end`, `workshop`, `last_occurred`, `submission_count`) and the
    state's last field, `first_plan` (the rest of its JSON as stored); and how many states
    keep a first plan."""
    names = [column.name for column in t.board.columns]
    added = {names.index(name) for name in ("slip_start", "slip_end", "workshop",
                                            "last_occurred", "submission_count")}
    state = names.index("state")
    old, planned = [], 0
    for row in rows:
        text = row[state]
        planned += json.loads(text)["first_plan"] is not None
        values = [text[:text.rindex(',"first_plan":')] + "}" if i == state else value
                  for i, value in enumerate(row)]
        old.append(tuple(v for i, v in enumerate(values) if i not in added))
    return sorted(old, key=repr), planned


def activity_as_old(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The activity view's rows without the column added since (`occurred_start`)."""
    added = [column.name for column in t.activity.columns].index("occurred_start")
    return sorted((tuple(v for i, v in enumerate(row) if i != added) for row in rows),
                  key=repr)


def owed(path: Path) -> list[tuple[str, str]]:
    """The notices not yet sent, with the words the old code stored beside them."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT channel, text FROM notice_outbox WHERE sent_ts IS NULL "
                            "ORDER BY position, channel").fetchall()


@pytest.mark.parametrize("share_rebuild_from", [None, 0], ids=["one process", "shared"])
def test_a_rebuild_writes_the_rows_the_old_code_wrote(old_store: Path,
                                                      share_rebuild_from: int | None) -> None:
    before = stored(old_store)
    assert len(before["activity"]) > 100 and before["digests"] and before["follows"]
    container = bootstrap(Settings(database=Database(f"sqlite:///{old_store}")))
    try:
        projector = Projector(container.engine, container.tracker,
                              share_rebuild_from=share_rebuild_from)
        head = container.tracker.head()
        assert projector.rebuild() == head
    finally:
        container.close()
    after = stored(old_store)
    # the views it held, as the old code wrote them (the board with what it keeps since:
    # each state's first plan, and the date a slipped meeting is listed under; the
    # activity with each event's start); the positions, with the views added since (the
    # agenda), at the same place
    board, planned = board_as_old(after[t.board.name])
    assert planned >= 10  # the seed's meetings planned before they were held, or not yet
    activity = activity_as_old(after[t.activity.name])
    assert any(row[[c.name for c in t.activity.columns].index("occurred_start")]
               for row in after[t.activity.name])
    assert {name: rows for name, rows in {**after, t.board.name: board,
                                          t.activity.name: activity}.items()
            if name in before} == {**before, t.positions.name: after[t.positions.name]}
    added = {row for row in after[t.positions.name] if row not in before[t.positions.name]}
    assert added == {("agenda", head)}
    assert after[t.agenda.name]  # the seed's dates, by business time


def test_the_notices_it_owed_are_posted_with_the_old_words(old_store: Path) -> None:
    words = owed(old_store)
    assert len(words) == 3
    container = bootstrap(Settings(database=Database(f"sqlite:///{old_store}")))
    posted: list[tuple[str, str, str | None]] = []

    def post(*, channel: str, text: str, thread_ts: str | None = None) -> str:
        posted.append((channel, text, thread_ts))
        return f"{len(posted)}.000100"

    try:
        container.catch_up()  # its views, of an older shape, are made again from the log
        assert NoticeSender(container.engine, post).send_pending() == 3
        assert [(channel, text) for channel, text, thread in posted if thread] == words
        # and the outbox, of the new shape now, takes the notices of new events
        container.recorder.record(Principal("U0EDITOR", may_record=True), key="iwc-jwp",
                                  what="progress reported", occurred="2027",
                                  fields={"summary": "one more"}, source=Source("D/1", "3"))
        container.catch_up()
        assert [(n.channel, n.text) for n in unsent(container.engine)] == [
            ("C1", "Progress reported: one more (2027) — D/1 ¶3")]
    finally:
        container.close()


def test_db_init_gives_an_outbox_of_the_old_shape_the_new_one(database_url: str) -> None:
    """PostgreSQL stores are upgraded by `cmsbot db init` (SQLite ones also on opening)."""
    url = new_store(database_url)
    engine = make_engine(Database(url))
    try:
        with engine.begin() as conn:  # the outbox as the old code made it
            conn.execute(text('ALTER TABLE notice_outbox ADD COLUMN "text" TEXT NOT NULL '
                              "DEFAULT ''"))
        init_schema(Settings(database=Database(url)))
        columns = {c["name"] for c in inspect(engine).get_columns("notice_outbox")}
    finally:
        engine.dispose()
    assert columns == {column.name for column in t.notice_outbox.c}


def test_its_seed_is_reported_in_the_seeds_sections(old_store: Path) -> None:
    """It holds no outline event: the StC44 report takes the bundled seed file's outline,
    and records none."""
    from datetime import date

    from cmsbot.audit.report.model import build_report

    settings = Settings(database=Database(f"sqlite:///{old_store}"))
    writer = bootstrap(settings)
    try:
        writer.catch_up()  # the projector makes its views, of an older shape, again
    finally:
        writer.close()
    container = bootstrap(settings, reading=True)
    try:
        head = container.tracker.head()
        report = build_report(container, date(2015, 9, 1), document="UNEP/CMS/StC44/18")
        overview = build_report(container, date(2015, 9, 1))
        assert container.tracker.head() == head
    finally:
        container.close()
    assert report.title == "Synergies and Partnerships"
    assert [s.title for s in report.sections][-2:] == [
        "Strengthening regional collaboration and presence of CMS", "Action requested"]
    assert len(report.sections) == 7 and len(report.items) == len(overview.items) == 43

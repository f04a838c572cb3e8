"""Events in, rows out: the views over a real SQLite database and a fake event log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, select

from cmsbot.db import create_views, make_engine
from cmsbot.settings import Database
from domain.channels import Channel
from domain.dates import PartialDate
from domain.items import Agreement, Consultation, Item, Meeting, Partner
from domain.provenance import Fact, Source
from projections import tables as t
from projections.projector import Projector
from projections.views import channels, partners


@dataclass(frozen=True)
class Logged:
    position: int
    event: Any


class FakeLog:
    """The projector's EventSource, over a list."""

    def __init__(self) -> None:
        self.entries: list[Logged] = []

    def append(self, *aggregates: Item | Partner) -> None:
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                self.entries.append(Logged(len(self.entries) + 1, event))

    def read(self, after: int, limit: int) -> Sequence[Logged]:
        return [e for e in self.entries if e.position > after][:limit]

    def item_events(self, aggregate_id: UUID, *, up_to_version: int | None = None,
                    ) -> list[Any]:
        return [e.event for e in self.entries if e.event.originator_id == aggregate_id
                and (up_to_version is None or e.event.originator_version <= up_to_version)]


def fact(when: str = "by 2015-09-01", paragraph: str = "7") -> Fact:
    return Fact(PartialDate.parse(when), "tester", Source("UNEP/CMS/StC44/18", paragraph))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(Database(f"sqlite:///{tmp_path}/views.sqlite"), create=True)
    create_views(engine)
    return engine


@pytest.fixture
def log() -> FakeLog:
    log = FakeLog()
    ramsar = Partner.register(key="ramsar", name="Convention on Wetlands", acronym="Ramsar",
                              actor="tester")
    jwp = Agreement.register(fact(), key="ramsar-jwp", title="Ramsar JWP", partners=["ramsar"])
    jwp.complete_draft(fact(), document="UNEP/CMS/StC44/18.3")
    jwp.submit_for_endorsement(fact(paragraph="Action requested"), body="CMS StC",
                               meeting="StC44", meeting_date=PartialDate.parse("2015-10-14"))
    workshop = Meeting.register(fact(), key="panama", title="Panama workshop")
    workshop.schedule(fact(paragraph="21"), dates=PartialDate.parse("22-24 September 2015"),
                      venue="Panama")
    call = Consultation.register(fact(), key="cs", title="Civil society")
    call.issue(fact("2015-06-16", "13"))
    call.receive_submission(fact(paragraph="14"), submitter="ramsar", title="Ideas")
    log.append(ramsar, jwp, workshop, call)
    return log


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {table.name: sorted(tuple(r) for r in conn.execute(select(table)))
                for table in (t.board, t.item_partners, t.partners, t.calendar,
                              t.consultations, t.submissions, t.activity, t.positions)}


class TestTheViews:
    def test_the_board_holds_each_items_status_and_next_date(self, engine: Engine,
                                                             log: FakeLog) -> None:
        Projector(engine, log).catch_up()
        with engine.connect() as conn:
            board = {r.key: r for r in conn.execute(select(t.board))}
        assert board["ramsar-jwp"].status == "awaiting endorsement"
        assert board["ramsar-jwp"].state["documents"] == ["UNEP/CMS/StC44/18.3"]
        assert str(board["ramsar-jwp"].next_start) == "2015-10-14"
        assert board["panama"].status == "scheduled"

    def test_the_calendar_keeps_dates_as_the_source_gave_them(self, engine: Engine,
                                                              log: FakeLog) -> None:
        Projector(engine, log).catch_up()
        with engine.connect() as conn:
            calendar = {r.label: r for r in conn.execute(select(t.calendar))}
        panama = calendar["Panama workshop"]
        assert PartialDate.from_dict(panama.when) == PartialDate.parse("22-24 September 2015")
        assert (str(panama.start), str(panama.end), panama.venue) == (
            "2015-09-22", "2015-09-24", "Panama")
        assert "endorsement at StC44" in calendar

    def test_consultations_list_their_submissions(self, engine: Engine, log: FakeLog) -> None:
        Projector(engine, log).catch_up()
        with engine.connect() as conn:
            [consultation] = conn.execute(select(t.consultations)).all()
            [submission] = conn.execute(select(t.submissions)).all()
        assert (consultation.status, consultation.submission_count) == (
            "open for submissions", 1)
        assert (submission.submitter, submission.title) == ("ramsar", "Ideas")

    def test_the_activity_feed_has_one_line_per_event_with_its_source(
            self, engine: Engine, log: FakeLog) -> None:
        Projector(engine, log).catch_up()
        with engine.connect() as conn:
            activity = conn.execute(select(t.activity).order_by(t.activity.c.position)).all()
        assert [a.position for a in activity] == [e.position for e in log.entries
                                                  if e.position > 1]
        submission = activity[-1]
        assert submission.summary == "Submission received from Ramsar: “Ideas”"
        assert submission.source == {"document": "UNEP/CMS/StC44/18", "paragraph": "14",
                                     "chat": None}

    def test_applying_the_log_again_changes_nothing(self, engine: Engine, log: FakeLog) -> None:
        projector = Projector(engine, log, batch_size=3)
        assert projector.catch_up() == len(log.entries)
        before = rows(engine)
        assert projector.catch_up() == 0
        assert rows(engine) == before

    def test_a_rebuild_equals_the_incremental_views(self, engine: Engine, log: FakeLog) -> None:
        projector = Projector(engine, log, batch_size=2)
        projector.catch_up()
        incremental = rows(engine)
        assert projector.rebuild() == len(log.entries)
        assert rows(engine) == incremental
        projector.rebuild()
        assert rows(engine) == incremental

    def test_a_correction_is_applied_in_every_view(self, engine: Engine, log: FakeLog) -> None:
        projector = Projector(engine, log)
        projector.catch_up()
        [registered] = [e.event for e in log.entries if getattr(e.event, "key", "") == "panama"]
        panama = _load(Meeting, log, registered.originator_id)
        panama.correct(fact("2015-09-02"), corrects=2, changes={"venue": "Panama City"},
                        reason="city given")
        log.append(panama)
        projector.catch_up()
        with engine.connect() as conn:
            board = conn.execute(select(t.board).where(t.board.c.key == "panama")).one()
            calendar = conn.execute(select(t.calendar).where(
                t.calendar.c.label == "Panama workshop")).one()
        assert board.state["venue"] == "Panama City"
        assert calendar.venue == "Panama City"


@dataclass(frozen=True)
class SomethingNew:
    """An event no view knows (as a newer version of cmsbot might record)."""

    originator_id: UUID
    originator_version: int
    what: str


class TestWhatNoViewKnows:
    def test_an_event_no_view_knows_changes_no_row_and_is_passed(self, engine: Engine,
                                                                  log: FakeLog) -> None:
        projector = Projector(engine, log)
        projector.catch_up()
        before = rows(engine)
        log.entries.append(Logged(len(log.entries) + 1, SomethingNew(uuid4(), 1, "news")))
        assert projector.catch_up() == 1
        after = rows(engine)
        assert projector.position() == len(log.entries)
        assert {name: r for name, r in after.items() if name != "projection_positions"} == {
            name: r for name, r in before.items() if name != "projection_positions"}

    def test_each_view_ignores_the_events_of_others(self, engine: Engine,
                                                    log: FakeLog) -> None:
        Projector(engine, log).catch_up()
        before = rows(engine)
        item_event = log.entries[-1].event
        partner_event = log.entries[0].event
        channel_event = Channel.register(channel="C1", actor="tester").collect_events()[0]
        with engine.begin() as conn:
            for event in (item_event, channel_event, SomethingNew(uuid4(), 1, "news")):
                partners.apply(conn, event)
            for event in (item_event, partner_event, SomethingNew(uuid4(), 1, "news")):
                channels.apply(conn, event)
        assert rows(engine) == before


def _load(cls: type[Item], log: FakeLog, aggregate_id: UUID) -> Item:
    events = log.item_events(aggregate_id)
    aggregate = events[0].mutate(None)
    for event in events[1:]:
        event.mutate(aggregate)
    assert isinstance(aggregate, cls)
    return aggregate

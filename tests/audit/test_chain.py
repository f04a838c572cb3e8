"""The chain is kept right after recording, once per event, by however many processes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit import tables as t
from cmsbot.audit.chain import ChainKeeper, Head, HeadFormatError, content, digest_of, link
from cmsbot.audit.tables import GENESIS
from cmsbot.audit.walk import walk
from cmsbot.bootstrap import Container
from cmsbot.settings import Database, Settings
from domain.provenance import Source
from tests.audit.helpers import record_progress
from tests.conftest import make_container


def stored_chain(container: Container) -> list[tuple[int, int, str, str]]:
    with container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.chain).order_by(t.chain.c.position))]


class TestKeepingTheChain:
    def test_catch_up_chains_every_event_as_recomputed_from_the_store(
            self, seeded: Container) -> None:
        expected = [(e.position, e.log_id, e.digest, e.hash)
                    for e in walk(seeded.tracker, decode=False)]
        assert stored_chain(seeded) == expected
        assert seeded.chain.head() == Head(expected[-1][0], expected[-1][3])

    def test_a_recorded_event_is_chained_by_the_next_catch_up(self, seeded: Container) -> None:
        before = seeded.chain.head()
        seeded.recorder.record(LOCAL_OPERATOR, key="ipbes", what="progress noted",
                               fields={"summary": "IPBES-4 attended"}, occurred="2016-02",
                               source=Source("UNEP/CMS/StC45/18", "20"))
        assert seeded.chain.head() == before
        seeded.catch_up()
        after = seeded.chain.head()
        assert after.position == before.position + 1
        last = list(walk(seeded.tracker, decode=False))[-1]
        assert after.hash == last.hash == link(before.hash, after.position, last.digest)

    def test_a_question_leaves_it_to_the_writers_and_the_projector(
            self, seeded: Container) -> None:
        before = seeded.chain.head()
        record_progress(seeded, 2, catch_up=False)
        answer = seeded.questions.answer("status of IWC JWP")
        assert seeded.chain.head() == before  # a read writes nothing
        assert answer.views_behind == 2
        assert seeded.chain.head_now().position == seeded.tracker.head()  # said, not stored
        seeded.catch_up()  # what the projector's loop runs
        assert seeded.chain.head() == seeded.chain.head_now()
        assert seeded.chain.head().position == seeded.tracker.head()

    def test_the_hash_covers_content_position_and_previous_hash(self, seeded: Container) -> None:
        first, second = list(walk(seeded.tracker, decode=False))[:2]
        assert first.hash == link(GENESIS, 1, digest_of(content(first.stored,
                                                                 seeded.tracker.mapper)))
        assert second.hash != link(GENESIS, 2, second.digest)  # the previous hash counts
        assert link(first.hash, 3, second.digest) != second.hash  # and the position


def test_two_keepers_at_once_chain_each_event_exactly_once(database_url: str) -> None:
    """As two processes would: separate connections, small batches, racing."""
    containers = [make_container(database_url) for _ in range(2)]
    try:
        first = containers[0]
        from cmsbot.history import SEED, read_history_file

        first.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        record_progress(first, 200, catch_up=False)
        keepers = [ChainKeeper(c.engine, c.tracker, batch_size=7) for c in containers]
        errors: list[BaseException] = []

        def keep(keeper: ChainKeeper) -> None:
            try:
                keeper.catch_up()
            except BaseException as error:  # handed to the test thread
                errors.append(error)

        threads = [threading.Thread(target=keep, args=(k,)) for k in keepers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        expected = [(e.position, e.log_id, e.digest, e.hash)
                    for e in walk(first.tracker, decode=False)]
        assert stored_chain(first) == expected
        with first.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.chain)).scalar_one() == \
                len(expected)
    finally:
        for container in containers:
            container.close()


class TestTheSchema:
    def test_sqlite_creates_the_chain_tables_on_first_use(self, sqlite_url: str) -> None:
        container = make_container(sqlite_url)
        try:
            assert t.tables_exist(container.engine)
            assert container.chain.head() == Head(0, GENESIS)
        finally:
            container.close()

    @pytest.mark.postgres
    def test_postgres_asks_for_db_init_when_the_chain_is_missing(self, postgres_url: str) -> None:
        from cmsbot.bootstrap import bootstrap
        from cmsbot.db import StoreNotInitialisedError

        container = make_container(postgres_url)
        with container.engine.begin() as conn:
            t.metadata.drop_all(conn)
        container.close()
        with pytest.raises(StoreNotInitialisedError, match="cmsbot db init"):
            bootstrap(Settings(database=Database(postgres_url)))


@pytest.mark.parametrize("text", ["", "abc@1", "a" * 64, "g" * 64 + "@3", "a" * 64 + "@x"])
def test_a_head_is_hash_at_position(text: str) -> None:
    with pytest.raises(HeadFormatError):
        Head.parse(text)
    head = Head.parse("AB" * 32 + "@12")
    assert str(head) == "ab" * 32 + "@12"

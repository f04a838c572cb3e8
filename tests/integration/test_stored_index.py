"""The name index restored from the store (`stored_index`, a fast path) is the index built
from the views (the plain path): the same names, postings and answers. It is used only
when it was made at the views' current names, a writer's catch-up keeps it so, and a
reader never writes it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, func, select

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container, bootstrap
from cmsbot.readmodel import stored_index
from cmsbot.readmodel.resolve import Index, resolve
from cmsbot.readmodel.text import Vocabulary, partner_phrases
from cmsbot.settings import Database, Settings
from domain.provenance import Source
from projections import queries as q
from tests.conftest import make_container


@pytest.fixture
def synthetic(tmp_path: Path) -> Any:
    container = make_container(f"sqlite:///{tmp_path}/names.sqlite")
    path = tmp_path / "history.json"
    write_history(Shape(items=400, partners=30, events=1200, long_item_events=50), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    yield container
    container.close()


def plain(container: Container) -> Index:
    with container.engine.connect() as conn:
        return Index(q.index_rows(conn), q.partner_rows(conn))


def stored(container: Container) -> Index:
    with container.engine.connect() as conn:
        index = stored_index.load(conn, q.names_position(conn))
    assert index is not None
    return index


def questions(index: Index, rng: random.Random) -> list[str]:
    titles = [item.title for item in index.items]
    partners = [p.label for p in index.partners.values()]
    return ([*rng.sample(titles, 100), *(t.lower()[:-3] for t in rng.sample(titles, 50)),
             *(t.replace("a", "e", 1) for t in rng.sample(titles, 50)), *partners,
             *(f"{p} joint work plan" for p in rng.sample(partners, 10)),
             "jwp", "res 10.8", "nothing like this at all"])


def answers(index: Index, asked: list[str]) -> list[Any]:
    return [(resolve(index, text), index.search(text)[:20], index.only_partners(text),
             index.partners_in(text), index.normal(text)) for text in asked]


class TestTheStoredIndexIsTheBuiltOne:
    def test_contents_and_answers(self, synthetic: Container) -> None:
        built, restored = plain(synthetic), stored(synthetic)
        assert orjson.loads(orjson.dumps(restored.contents())) == \
            orjson.loads(orjson.dumps(built.contents()))
        asked = questions(built, random.Random(3))
        assert answers(restored, asked) == answers(built, asked)

    def test_on_the_seed_on_both_stores(self, seeded: Container) -> None:
        built, restored = plain(seeded), stored(seeded)
        asked = [*(i.title for i in built.items), *(i.key for i in built.items),
                 "IWC JWP", "whaling commission", "ramsar", "J.W.P. with CITES"]
        assert answers(restored, asked) == answers(built, asked)


class TestAVocabularyReadsAFewTextsAsItReadsMany:
    def test_the_same_tokens_either_way(self, synthetic: Container) -> None:
        with synthetic.engine.connect() as conn:
            rows = q.partner_rows(conn)
            names = [r.title for r in q.index_rows(conn)]
        phrases = partner_phrases((p.key, p.acronym, p.name, list(p.aliases)) for p in rows)
        texts = [*names, *phrases, "10.8 res 10.8 cms", "u.n.e.p. regional office", ""]
        few, many = Vocabulary(phrases), Vocabulary(phrases)
        many.many()
        for text in texts:
            assert few.tokens(text) == many.tokens(text), text


class TestWhenTheStoredIndexIsUsed:
    def test_a_writer_keeps_it_at_the_views_names(self, seeded: Container) -> None:
        seeded.recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="partner joined",
                               fields={"partner": "cites"}, occurred="2016",
                               source=Source("TEST/S", "1"))
        with seeded.engine.connect() as conn:
            before = stored_index.stored_position(conn)
        seeded.catch_up()
        with seeded.engine.connect() as conn:
            position = q.names_position(conn)
            assert stored_index.stored_position(conn) == position != before
        assert stored(seeded).contents() == plain(seeded).contents()

    def test_one_made_at_other_names_is_not_used(self, seeded: Container) -> None:
        seeded.recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="partner joined",
                               fields={"partner": "cites"}, occurred="2016",
                               source=Source("TEST/S", "2"))
        seeded.projector.catch_up()  # the views move on; the stored index is not kept
        with seeded.engine.connect() as conn:
            assert stored_index.load(conn, q.names_position(conn)) is None
            index = seeded.readmodel.index(conn)  # built from the views instead
        assert index.contents() == plain(seeded).contents()
        assert "pcites joint work plan" in [index.names[n] for n, o in enumerate(index.owner)
                                      if index.items[o].key == "iwc-jwp"]

    def test_one_made_by_other_code_is_not_used(self, seeded: Container) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(stored_index.stored_indexes.update().values(made_by="older code"))
            assert stored_index.load(conn, q.names_position(conn)) is None

    def test_a_reader_never_writes_it_and_answers_without_it(self, seeded: Container,
                                                             database_url: str) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(delete(stored_index.stored_indexes))
        reader = bootstrap(Settings(database=Database(database_url)), reading=True)
        try:
            answer = reader.questions.answer("status of the IWC JWP")
            with reader.engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(
                    stored_index.stored_indexes)).scalar()
        finally:
            reader.close()
        assert count == 0
        assert answer.text.startswith("IWC–CMS Joint Work Plan: in negotiation")

    def test_a_store_made_before_the_table_is_answered(self, seeded: Container,
                                                       database_url: str) -> None:
        stored_index.stored_indexes.drop(seeded.engine)
        reader = bootstrap(Settings(database=Database(database_url)), reading=True)
        try:
            assert reader.questions.answer("status of the IWC JWP").text.startswith(
                "IWC–CMS Joint Work Plan: in negotiation")
        finally:
            reader.close()

"""Any text a person can type gets an answer, never an exception or a change to the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, read_history_file
from tests.conftest import make_container


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"
    container = make_container(f"sqlite:///{path}")
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    yield container
    container.close()


WORDS = st.sampled_from(["status", "of", "the", "IWC", "JWP", "since", "in", "2016",
                         "history", "meetings", "with", "Ramsar", "who", "submitted",
                         "next", "60", "days", "by", "late", "November", "—", "?", "<@U1>"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=4000), st.lists(WORDS, max_size=12).map(" ".join)))
def test_any_question_is_answered(store: Container, question: str) -> None:
    head = store.tracker.head()
    answer = store.questions.answer(question)
    assert answer.intent and answer.text
    json.dumps(answer.to_json())
    assert store.tracker.head() == head

"""The name index's typo matching looks only at tokens whose length can reach the cut-off,
and remembers what it found: it must find exactly what a search of every token finds."""

from __future__ import annotations

import random
from pathlib import Path

from rapidfuzz import fuzz, process

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from tests.conftest import make_container


def typos_of(token: str, rng: random.Random) -> list[str]:
    at = rng.randrange(len(token))
    return [token[:at] + token[at + 1:],  # a letter dropped
            token[:at] + rng.choice("aeiou1") + token[at:],  # one added
            token[:at] + rng.choice("xyz7") + token[at + 1:],  # one changed
            token + token[-2:], token[: max(1, len(token) * 2 // 3)]]  # longer, shorter


def test_typo_matches_are_those_of_a_search_of_every_token(tmp_path: Path) -> None:
    container = make_container(f"sqlite:///{tmp_path}/names.sqlite")
    try:
        path = tmp_path / "history.json"
        write_history(Shape(items=400, partners=30, events=1200, long_item_events=50), path)
        container.importer.run_file(LOCAL_OPERATOR, path)
        container.catch_up()
        with container.engine.connect() as conn:
            index = container.readmodel.index(conn)
    finally:
        container.close()
    rng = random.Random(5)
    words = [t for t in index.tokens if len(t) >= 3]
    asked = words + [typo for t in rng.sample(words, 300) for typo in typos_of(t, rng)]
    assert len(asked) > 1500
    for token in asked + asked:  # the second time from what the index remembers
        everywhere = [near for near, _score, _ in process.extract(
            token, index.tokens, scorer=fuzz.ratio, score_cutoff=80, limit=5)]
        assert index.typos(token) == everywhere, token

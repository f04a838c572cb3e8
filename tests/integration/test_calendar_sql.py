"""The calendar questions answered from the view (filtered, sorted, counted in SQL) say
what folding every item's events says (the path of as-at questions), on a synthetic
history with entries of every kind of date."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bench.synth import Shape, write_history
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.questions import phrases
from cmsbot.questions.phrases import LIST_LIMIT

QUESTIONS = ["what's coming up", "upcoming workshops", "meetings in 2016",
             "which meetings were held", "deadlines in 2027", "events in 2017",
             "which workshops were held", "workshops in 2015",
             "what is coming up for consultations"]


@pytest.fixture
def synthetic(container: Container, tmp_path: Path) -> Container:
    path = tmp_path / "history.json"
    write_history(Shape(items=150, partners=15, events=1_200, long_item_events=100), path)
    container.importer.run_file(LOCAL_OPERATOR, path)
    # Entries around today, where the rules of what is ahead and what was held differ: a
    # meeting spanning today, not held; and one held although its dates are still ahead.
    today = date.today()
    span = f"{today - timedelta(days=10)}..{today + timedelta(days=10)}"
    ahead = f"{today + timedelta(days=30)}..{today + timedelta(days=32)}"
    edges = {"document": "EDGES/1", "as_at": str(today), "items": [
        {"key": "spanning", "kind": "meeting", "title": "Spanning workshop",
         "events": [{"type": "planned", "when": span, "venue": "Bonn"}]},
        {"key": "held-ahead", "kind": "meeting", "title": "Early workshop",
         "events": [{"type": "planned", "when": ahead, "venue": "Bonn"},
                    {"type": "held", "dates": ahead}]}]}
    (tmp_path / "edges.json").write_text(json.dumps(edges))
    container.importer.run_file(LOCAL_OPERATOR, tmp_path / "edges.json")
    container.catch_up()
    return container


def _listed(text: str) -> int:
    more = re.search(r"… and (\d+) more", text)
    return int(more.group(1)) if more else 0


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_view_lists_what_the_events_say(synthetic: Container, question: str) -> None:
    now = synthetic.questions.answer(question)
    folded = synthetic.questions.answer(question, known_at=datetime.now(UTC))
    assert now.intent == folded.intent == "upcoming"
    # Each reads only the entries it shows (the calendar view now, the agenda view as
    # known at a time), and counts the rest.
    assert [(line.when, line.text) for line in now.lines] == [
        (line.when, line.text) for line in folded.lines]
    assert len(now.lines) <= LIST_LIMIT
    assert _listed(now.text) == _listed(folded.text)
    assert now.lines or "No " in now.text


def test_the_edges_are_where_they_belong(synthetic: Container,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phrases, "LIST_LIMIT", 10_000)  # every entry shown
    ahead = synthetic.questions.answer("upcoming workshops").text
    held = synthetic.questions.answer("which workshops were held").text
    assert "Spanning workshop" in ahead and "Spanning workshop" not in held
    assert "Early workshop" in held and "Early workshop" not in ahead

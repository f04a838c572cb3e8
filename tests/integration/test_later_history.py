"""The tracker kept current after its first report: the seed (StC44's report), then the
later-history files written from public facts (tests/data/README.md), imported with no
workaround and answered right: as at a date, as known at a time, overdue and slipped,
an item's history across files, and the later document's own report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.report.model import build_report
from cmsbot.bootstrap import Container
from cmsbot.history import SEED
from tests.conftest import make_container

LATER = sorted((Path(__file__).parents[1] / "data").glob("later-history-*.yaml"))
LATER_DOCUMENT = "cmsbot test compilation 2015-2017"
SEED_IMPORTED = datetime(2026, 1, 5, 9, tzinfo=UTC)
LATER_IMPORTED = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def tracked(database_url: str) -> Iterator[Container]:
    """The seed recorded in January, the later files in June (recorded time)."""
    container = make_container(database_url)
    try:
        with time_machine.travel(SEED_IMPORTED, tick=False):
            container.importer.run_file(LOCAL_OPERATOR, SEED)
        with time_machine.travel(LATER_IMPORTED, tick=False):
            for path in LATER:
                container.importer.check_file(path)  # raises on any problem
                container.importer.run_file(LOCAL_OPERATOR, path)
        container.catch_up()
        yield container
    finally:
        container.close()


def status(container: Container, question: str, **times: object) -> str:
    [match] = container.questions.answer(question, **times).matches  # type: ignore[arg-type]
    return match.status


def test_importing_again_records_nothing(tracked: Container) -> None:
    head = tracked.tracker.head()
    for path in LATER:
        result = tracked.importer.run_file(LOCAL_OPERATOR, path)
        assert result.entries == 0, str(result)
    assert tracked.tracker.head() == head


def test_as_at_a_date_the_plan_then_what_happened(tracked: Container) -> None:
    planned = tracked.questions.answer("status of the Caribbean workshop",
                                       as_at=date(2016, 6, 1))
    assert planned.matches[0].status == "planned"
    assert "Jamaica" in planned.text and "Barbados" not in planned.text
    held = tracked.questions.answer("status of the Caribbean workshop", as_at=date(2016, 10, 1))
    assert held.matches[0].status == "held"
    assert "Barbados" in held.text
    assert status(tracked, "status of MIKT", as_at=date(2016, 3, 1)) == "planned"
    assert status(tracked, "status of MIKT", as_at=date(2016, 8, 1)) == "held"
    assert status(tracked, "status of COP12", as_at=date(2017, 11, 1)) == "held"
    assert status(tracked, "status of COP12", as_at=date(2017, 6, 1)) != "held"


def test_as_known_before_the_later_files_the_first_report_stands(tracked: Container) -> None:
    known = datetime(2026, 3, 1, tzinfo=UTC)
    assert status(tracked, "status of Sharks MOS2", known_at=known) == "planned"
    assert status(tracked, "status of Sharks MOS2") == "held"
    before = tracked.questions.answer("history of the Caribbean workshop", known_at=known)
    assert len(before.lines) == 1


def test_overdue_then_slipped(tracked: Container) -> None:
    june = tracked.questions.answer("what is overdue?", as_at=date(2016, 6, 1))
    assert june.intent == "overdue"
    late = {line.item: line.text for line in june.lines}
    mikt = next(title for title in late if title and "(MIKT)" in title)
    assert "overdue since 1 May 2016" in late[mikt]  # "early 2016" has passed
    september = tracked.questions.answer("what is overdue as at 1 September 2016")
    slipped = {line.item: line.text for line in september.lines}
    assert "slipped (first planned in early 2016)" in slipped[mikt]
    ramsar = next(text for title, text in slipped.items()
                  if title and title.startswith("Ramsar"))
    assert "endorsement at SC51: outcome not recorded" in ramsar
    assert all(line.sources for line in september.lines)


def test_history_across_both_files_cites_each_events_source(tracked: Container) -> None:
    answer = tracked.questions.answer("history of the Caribbean workshop")
    assert [line.text.split(" ")[0] for line in answer.lines] == ["Planned", "Moved", "Held"]
    cited = [[s.document for s in line.sources] for line in answer.lines]
    assert cited[0] == ["UNEP/CMS/StC44/18"]
    assert all(d and d.startswith("CMS news, 5 September 2016") for d in cited[1] + cited[2])
    data = json.dumps(answer.to_json())
    assert '"paragraph": null' not in data and '"url": null' not in data


def test_the_later_documents_report(tracked: Container) -> None:
    report = build_report(tracked, date(2017, 7, 1), document=LATER_DOCUMENT)
    titles = [p.state.key for s in report.sections for p in s.items]
    # every item the file recorded events of, though each event cites its own source
    assert {"mikt-1", "mikt-2", "caribbean-accession-workshop", "sharks-mos2",
            "ramsar-jwp", "unea-2"} <= set(titles)
    assert "cop12" not in titles  # the COP12 file is another document
    for section in report.sections:
        for paragraph in section.items:
            assert paragraph.cited
            assert all(s.document or s.chat for s in paragraph.cited)


def test_the_first_report_regenerated_later_says_what_went_stale(tracked: Container) -> None:
    report = build_report(tracked, date(2017, 1, 1), document="UNEP/CMS/StC44/18")
    by_key = {p.state.key: p for s in report.sections for p in s.items}
    cbd = by_key["cbd-jwp"]
    assert "Endorsement at StC44: outcome not recorded (StC44 was held 14-15 October 2015)." \
        in cbd.late
    assert cbd.next is None or "StC44" not in cbd.next
    assert by_key["stc45"].late == ["Overdue (planned in the last trimester of 2016)."]
    assert by_key["mikt-1"].late == []  # held, though later than first planned

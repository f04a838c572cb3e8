"""Business time (as at) and recorded time (known at) answer different questions."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from cmsbot.app.auth import LOCAL_OPERATOR, Principal
from cmsbot.bootstrap import Container
from cmsbot.digests.content import build_digest
from cmsbot.wording import cite
from domain.provenance import Source


def record(container: Container, key: str, what: str, occurred: str,
           **fields: object) -> None:
    container.recorder.record(LOCAL_OPERATOR, key=key, what=what, fields=dict(fields),
                              occurred=occurred, source=Source("UNEP/CMS/StC45/Inf.1", "4"))
    container.catch_up()  # what every writer does after writing; a question does not


def test_as_at_and_known_at_differ_where_history_says_so(seeded: Container) -> None:
    time.sleep(0.01)
    before_update = datetime.now(UTC)
    time.sleep(0.01)
    # Learnt later: the IWC JWP was endorsed at StC44, and (backdated) drafting had been
    # finished in August 2015, before the report.
    record(seeded, "iwc-jwp", "endorsed", "15 October 2015", body="CMS Standing Committee",
           meeting="StC44")
    ask = seeded.questions.answer

    def status(**when: object) -> str:
        return ask("status of IWC JWP", **when).matches[0].status  # type: ignore[arg-type]

    assert status() == "endorsed"
    assert status(as_at=date(2015, 9, 1)) == "in negotiation"
    assert status(as_at=date(2015, 10, 31)) == "endorsed"
    # What the system knew before the update, whatever the business date asked about.
    assert status(known_at=before_update) == "in negotiation"
    assert status(known_at=before_update, as_at=date(2015, 10, 31)) == "in negotiation"


def test_a_backdated_fact_changes_the_past_but_not_what_was_known(seeded: Container) -> None:
    time.sleep(0.01)
    before_update = datetime.now(UTC)
    time.sleep(0.01)
    record(seeded, "blg-meeting-2015", "held", "2015-08-31", dates="2015-08-31",
           venue="Montreal")
    as_at = seeded.questions.answer("BLG physical meeting", as_at=date(2015, 9, 1))
    known = seeded.questions.answer("BLG physical meeting", as_at=date(2015, 9, 1),
                                    known_at=before_update)
    assert as_at.matches[0].status == "held"
    assert known.matches[0].status == "planned"


def test_an_item_did_not_exist_before_its_first_fact(seeded: Container) -> None:
    answer = seeded.questions.answer("status of the IWC JWP", as_at=date(2015, 1, 1))
    assert answer.matches == [] and "Nothing is recorded" in answer.text


def test_corrections_apply_in_answers_and_show_in_history(seeded: Container) -> None:
    item = seeded.tracker.item("southeast-asia-accession-workshop")
    scheduled = next(e for e in item.history if e.type_name == "MeetingScheduled")
    seeded.recorder.record(Principal("U123", may_record=True),
                           key="southeast-asia-accession-workshop", what="corrected",
                           fields={"corrects": scheduled.originator_version,
                                   "changes": {"venue": "Manila, Philippines"},
                                   "reason": "city confirmed"},
                           occurred="2015-09-10", source=Source(chat="T1/C1/1441872000.000100"))
    seeded.catch_up()
    status = seeded.questions.answer("philippines workshop")
    assert "Manila, Philippines" in status.text
    history = seeded.questions.answer("history of the philippines workshop")
    assert "Scheduled for 27-29 October 2015 in Philippines" in history.text
    assert "Manila, Philippines" in history.text and "city confirmed" in history.text


def test_a_corrected_date_cites_its_correction_in_lists_and_digests(seeded: Container) -> None:
    item = seeded.tracker.item("southeast-asia-accession-workshop")
    scheduled = next(e for e in item.history if e.type_name == "MeetingScheduled")
    correction = Source("UNEP/CMS/StC45/Inf.1", "9")
    seeded.recorder.record(LOCAL_OPERATOR, key="southeast-asia-accession-workshop",
                           what="corrected", occurred="2015-09-12", source=correction,
                           fields={"corrects": scheduled.originator_version,
                                   "changes": {"dates": "28-30 October 2015"},
                                   "reason": "the dates were moved before the report"})
    seeded.catch_up()
    coming = seeded.questions.answer("what is coming up in October 2015",
                                     as_at=date(2015, 9, 15))
    line = next(line for line in coming.lines if line.item == item.state.title)
    assert line.when == "28-30 October 2015"
    assert line.sources == (scheduled.source, correction)
    digest = build_digest(seeded.readmodel, channel="C1", period="2015-W42",
                          start=datetime(2015, 10, 12, tzinfo=UTC),
                          end=datetime(2015, 10, 19, tzinfo=UTC), schedule=None,
                          business_time=True)
    entry = next(text for text in digest.upcoming if text.startswith("28-30 October 2015"))
    assert entry.endswith(cite([scheduled.source, correction]))

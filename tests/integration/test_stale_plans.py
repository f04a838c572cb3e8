"""Plans that go stale, asked about the seed history and what followed it, on SQLite and
PostgreSQL: what is overdue or slipped, steps that settle once their meeting is held, and
every body an agreement awaits. The later facts are recorded as an editor would (the
history files of tests/data use events the format adds), with the dates they happened."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.digests.content import build_digest
from domain.provenance import Source

LATER = Source("CMS: MIKT (https://www.cms.int/en/taskforce/mikt)")


def record(container: Container, key: str, what: str, occurred: str,
           **fields: Any) -> None:
    container.recorder.record(LOCAL_OPERATOR, key=key, what=what, occurred=occurred,
                              fields=fields, source=LATER)
    container.catch_up()


def held(container: Container, key: str, dates: str, venue: str | None = None) -> None:
    record(container, key, "held", dates, dates=dates, venue=venue)


def ask(container: Container, question: str, as_at: date | None = None) -> Any:
    return container.questions.answer(question, as_at=as_at)


class TestWhatIsOverdue:
    def test_early_2016_is_overdue_from_1_may_2016(self, seeded: Container) -> None:
        before = ask(seeded, "what is overdue?", date(2016, 4, 30))
        after = ask(seeded, "what is overdue?", date(2016, 5, 1))
        assert before.intent == after.intent == "overdue"
        assert not any("MIKT" in line.text for line in before.lines)
        [line] = [line for line in after.lines if line.item and "(MIKT)" in line.item]
        assert line.when == "early 2016"
        assert "overdue since 1 May 2016" in line.text
        assert [s.cite() for s in line.sources] == ["UNEP/CMS/StC44/18 ¶9"]
        assert "early 2016: First meeting of the Intergovernmental Task Force" in after.text

    def test_a_late_date_cites_who_said_it_not_every_source_of_its_item(
            self, seeded: Container) -> None:
        seeded.recorder.record(LOCAL_OPERATOR, key="mikt-1", what="noted", occurred="2016-02-01",
                               fields={}, note="venue under discussion", source=LATER)
        seeded.catch_up()
        answer = ask(seeded, "what is overdue?", date(2016, 5, 1))
        [line] = [line for line in answer.lines if line.item and "(MIKT)" in line.item]
        assert [s.cite() for s in line.sources] == ["UNEP/CMS/StC44/18 ¶9"]
        status = ask(seeded, "status of MIKT", date(2016, 5, 1))
        assert LATER.cite() in status.text  # the status line cites the whole item

    def test_the_date_can_be_in_the_words(self, seeded: Container) -> None:
        said = ask(seeded, "overdue as at 1 September 2016")
        given = ask(seeded, "what is overdue?", date(2016, 9, 1))
        assert said.intent == "overdue" and said.as_at == "2016-09-01"
        assert [line.text for line in said.lines] == [line.text for line in given.lines]
        assert said.text.startswith("Slipped or overdue (as at 1 September 2016): ")
        texts = [line.text for line in said.lines]
        assert any(t.startswith("First meeting of the CBD Subsidiary Body on Implementation "
                                "(SBI-1): overdue since 7 May 2016") for t in texts)
        # planned for 2016: not overdue before 2017
        assert not any(t.startswith("Workshop to promote the accession of Pacific") for t in texts)

    def test_every_item_is_listed_with_its_date(self, seeded: Container) -> None:
        answer = ask(seeded, "what has slipped?", date(2017, 1, 1))
        items = {line.item for line in answer.lines}
        assert "Workshop to promote the accession of Pacific Islands States to CMS" in items
        assert "45th Meeting of the CMS Standing Committee (StC45)" in items
        assert all(line.when and line.sources for line in answer.lines)
        assert len(answer.lines) > 20  # every entry, not a page of them

    def test_a_kind_and_a_partner_narrow_it(self, seeded: Container) -> None:
        meetings = ask(seeded, "which meetings are overdue?", date(2017, 1, 1))
        assert meetings.matches and {m.kind for m in meetings.matches} == {"meeting"}
        ramsar = ask(seeded, "what is overdue with Ramsar?", date(2017, 1, 1))
        assert [m.key for m in ramsar.matches] == ["ramsar-jwp"]

    def test_nothing_overdue_before_the_first_date(self, seeded: Container) -> None:
        answer = ask(seeded, "what is overdue?", date(2015, 9, 1))
        assert answer.lines == []
        assert answer.text == "Nothing is overdue or slipped (as at 1 September 2015)."

    def test_the_match_says_what_is_late(self, seeded: Container) -> None:
        [match] = ask(seeded, "CBD JWP", date(2016, 1, 1)).to_json()["matches"]
        assert match["late"] == [
            "endorsement at StC44: outcome not recorded (StC44 was due on 14-15 October 2015)"]
        assert match["next_date"] is None  # the step settled: nothing is next
        [match] = ask(seeded, "CBD JWP", date(2015, 9, 1)).to_json()["matches"]
        assert (match["late"], match["next_date"]) == ([], "14-15 October 2015")

    def test_a_status_says_since_when_it_is_overdue(self, seeded: Container) -> None:
        assert "overdue" not in ask(seeded, "status of MIKT", date(2015, 9, 1)).text
        text = ask(seeded, "status of MIKT", date(2016, 9, 1)).text
        assert "overdue since 1 May 2016 (planned in early 2016)" in text
        history = ask(seeded, "history of SBI-1", date(2016, 9, 1))
        assert history.intent == "history"
        assert "Now: " in history.text and "overdue since 7 May 2016" in history.text


class TestSlipped:
    def test_a_meeting_held_late_slipped_and_is_no_longer_overdue(
            self, seeded: Container) -> None:
        held(seeded, "mikt-1", "12-15 July 2016", "Cairo, Egypt")
        june = ask(seeded, "what is overdue?", date(2016, 6, 1))  # not held yet then
        assert any("(MIKT): overdue since 1 May 2016" in line.text for line in june.lines)
        answer = ask(seeded, "what slipped?", date(2016, 9, 1))
        [line] = [line for line in answer.lines if line.item and "(MIKT)" in line.item]
        assert line.when == "12-15 July 2016"
        assert line.text.endswith("(MIKT): slipped (first planned in early 2016)")
        # Who said it was first planned for early 2016, and who said when it was held.
        assert [s.cite() for s in line.sources] == ["UNEP/CMS/StC44/18 ¶9", LATER.cite()]
        status = ask(seeded, "status of MIKT", date(2016, 9, 1)).text
        assert "held (12-15 July 2016, Cairo, Egypt)" in status
        assert "slipped (first planned in early 2016)" in status and "overdue" not in status

    def test_a_meeting_held_elsewhere_moved(self, seeded: Container) -> None:
        held(seeded, "caribbean-accession-workshop", "2016-08-31..2016-09-02",
             "Bridgetown, Barbados")
        answer = ask(seeded, "what slipped?", date(2016, 9, 5))
        assert any(line.text == "Workshop to promote accession of Caribbean countries to "
                   "CMS: moved (first planned in Jamaica)" for line in answer.lines)
        history = ask(seeded, "history of the Caribbean workshop", date(2016, 9, 5)).text
        assert "moved (first planned in Jamaica)" in history

    def test_held_as_planned_is_not_listed(self, seeded: Container) -> None:
        held(seeded, "southeast-asia-accession-workshop", "27-29 October 2015",
             "Quezon City, Philippines")
        answer = ask(seeded, "what slipped?", date(2016, 9, 1))
        assert not any("South-east Asian" in line.text for line in answer.lines)


class TestNextStepsSettle:
    def test_a_step_waits_then_settles_by_its_date(self, seeded: Container) -> None:
        waiting = ask(seeded, "status of the CBD JWP", date(2015, 10, 1)).text
        assert "next: endorsement at StC44 on 14-15 October 2015" in waiting
        settled = ask(seeded, "status of the CBD JWP", date(2016, 1, 1)).text
        assert "next: endorsement at StC44" not in settled
        assert ("endorsement at StC44: outcome not recorded (StC44 was due on 14-15 October "
                "2015)") in settled

    def test_a_held_meeting_settles_the_steps_waiting_on_it(self, seeded: Container) -> None:
        held(seeded, "stc44", "14-15 October 2015", "Bonn, Germany")
        text = ask(seeded, "status of the CBD JWP", date(2017, 1, 1)).text
        assert ("endorsement at StC44: outcome not recorded (StC44 was held 14-15 October "
                "2015)") in text
        assert "next:" not in text
        answer = ask(seeded, "what is overdue?", date(2017, 1, 1))
        settled = [line.text for line in answer.lines if "StC44 was held" in line.text]
        assert sorted(settled) == [
            "CBD–CMS Joint Work Plan 2016–2018: endorsement at StC44: outcome not recorded "
            "(StC44 was held 14-15 October 2015)",
            "IOTC–CMS Memorandum of Cooperation: endorsement at StC44: outcome not recorded "
            "(StC44 was held 14-15 October 2015)",
            "Ramsar–CMS Joint Work Plan 2016–2018: endorsement at StC44: outcome not recorded "
            "(StC44 was held 14-15 October 2015)"]
        # StC44 itself was held: it is no longer overdue
        assert not any(line.text.startswith("44th Meeting") for line in answer.lines)


class TestEveryPendingBody:
    @pytest.fixture
    def two_bodies(self, seeded: Container) -> Container:
        record(seeded, "ramsar-jwp", "submitted for endorsement", "by 2015-11-23",
               body="Ramsar Standing Committee", meeting="SC51",
               meeting_date="23-27 November 2015")
        return seeded

    def test_the_status_names_each_body(self, two_bodies: Container) -> None:
        both = ("submitted to CMS Standing Committee (StC44) and Ramsar Standing Committee "
                "(SC51)")
        for question in ("status of the Ramsar JWP", "did StC44 endorse the Ramsar JWP?"):
            answer = ask(two_bodies, question, date(2015, 12, 1))
            assert [m.key for m in answer.matches] == ["ramsar-jwp"], answer.text
            assert both in answer.text

    def test_one_endorsement_keeps_the_other_body(self, two_bodies: Container) -> None:
        record(two_bodies, "ramsar-jwp", "endorsed", "25 November 2015",
               body="Ramsar Standing Committee", meeting="SC51")
        text = ask(two_bodies, "did StC44 endorse the Ramsar JWP?", date(2015, 12, 1)).text
        assert "endorsed (endorsed by Ramsar Standing Committee (SC51))" in text
        assert "awaiting endorsement by CMS Standing Committee (StC44)" in text


class TestTheDigest:
    def test_a_slipped_or_overdue_part(self, seeded: Container) -> None:
        held(seeded, "mikt-1", "12-15 July 2016", "Cairo, Egypt")
        content = build_digest(seeded.readmodel, channel="C1", period="2016-W29",
                               start=datetime(2016, 7, 11, tzinfo=UTC),
                               end=datetime(2016, 7, 18, tzinfo=UTC), schedule=None,
                               business_time=True)
        assert "\nSlipped or overdue\n" in content.text()
        assert any(line.startswith("12-15 July 2016: First meeting of the Intergovernmental")
                   and "slipped (first planned in early 2016)" in line
                   for line in content.stale)
        assert any(line.startswith("2-6 May 2016: First meeting of the CBD Subsidiary Body")
                   and "overdue since 7 May 2016 — UNEP/CMS/StC44/18 ¶16" in line
                   for line in content.stale)
        assert content.to_json()["stale"] == content.stale

    def test_nothing_stale_says_so(self, seeded: Container) -> None:
        content = build_digest(seeded.readmodel, channel="C1", period="2015-W36",
                               start=datetime(2015, 8, 25, tzinfo=UTC),
                               end=datetime(2015, 9, 1, tzinfo=UTC), schedule=None,
                               business_time=True)
        assert content.stale == []
        assert "\nSlipped or overdue\nNothing." in content.text()

    def test_now_the_views_give_what_the_fold_gives(self, seeded: Container) -> None:
        held(seeded, "mikt-1", "12-15 July 2016", "Cairo, Egypt")
        end = datetime.now(UTC)
        start = end.replace(year=end.year - 1)
        # As known now (the views) and as at the same day (a fold of every item); only the
        # first counts the slip as news, since it was recorded in this period.
        now = build_digest(seeded.readmodel, channel="C1", period="now", start=start,
                           end=end, schedule=None)
        folded = build_digest(seeded.readmodel, channel="C1", period="now", start=start,
                              end=end, schedule=None, business_time=True)
        slipped = [line for line in now.stale if "slipped" in line]
        assert len(slipped) == 1 and "(MIKT): slipped" in slipped[0]
        assert [line for line in now.stale if line not in slipped] == folded.stale
        assert len(folded.stale) > 20

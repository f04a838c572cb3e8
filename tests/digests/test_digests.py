"""Digests: on schedule in local time, exactly once, and saying what the log says."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler

from cmsbot.app.auth import LOCAL_OPERATOR, NotAuthorizedError, Principal
from cmsbot.audit.chain import Head
from cmsbot.bootstrap import Container
from cmsbot.digests.clock import Clock
from cmsbot.digests.content import MAX_BLOCKS, MAX_TEXT, DigestContent, build_digest
from cmsbot.digests.schedule import last_fire, period_ending, trigger_for
from cmsbot.digests.service import Subscriptions
from cmsbot.digests.wiring import SlackPoster, digest_poster
from cmsbot.history import SEED, read_history_file
from cmsbot.readmodel.reader import ReadModel
from cmsbot.settings import Settings
from domain.channels import NotSubscribedError, Schedule
from domain.provenance import Source
from tests.bot.fakes import FakeSlack
from tests.conftest import make_container

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9_BERLIN = Schedule("weekly", "mon", "09:00", "Europe/Berlin")
EDITOR = Principal("U0EDITOR", may_record=True)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def poster_for(container: Container, slack: FakeSlack) -> SlackPoster:
    return SlackPoster(Settings(database=container.settings.database,
                                slack_bot_token="xoxb-test", slack_api_url=slack.api_url))


def clock_for(container: Container, slack: FakeSlack) -> Clock:
    return Clock(container, digest_poster(container, poster_for(container, slack)),
                 scheduler=BackgroundScheduler(timezone=UTC))


def subscribe(container: Container, channel: str = "C1",
              schedule: Schedule = MONDAY_9_BERLIN) -> None:
    Subscriptions(container.tracker, container.readmodel).subscribe(
        EDITOR, channel, schedule, in_channel=True)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


class TestTheSchedule:
    @pytest.mark.parametrize(("after", "fires"), [
        (at(2026, 3, 24, 0), [(2026, 3, 30, 7), (2026, 4, 6, 7)]),  # after spring forward
        (at(2026, 3, 17, 0), [(2026, 3, 23, 8), (2026, 3, 30, 7)]),  # across it
        (at(2026, 10, 20, 0), [(2026, 10, 26, 8), (2026, 11, 2, 8)]),  # after falling back
        (at(2026, 10, 13, 0), [(2026, 10, 19, 7), (2026, 10, 26, 8)]),  # across it
    ])
    def test_fires_on_monday_at_nine_local_across_daylight_saving(
            self, after: datetime, fires: list[tuple[int, int, int, int]]) -> None:
        trigger = trigger_for(MONDAY_9_BERLIN)
        first = trigger.get_next_fire_time(None, after)
        second = trigger.get_next_fire_time(first, first + timedelta(minutes=1))
        got = [first, second]
        assert [(f.astimezone(UTC).year, f.astimezone(UTC).month, f.astimezone(UTC).day,
                 f.astimezone(UTC).hour) for f in got] == fires
        assert all(f.astimezone(BERLIN).weekday() == 0 and f.astimezone(BERLIN).hour == 9
                   for f in got)

    def test_the_last_firing_and_its_period(self) -> None:
        fire = last_fire(MONDAY_9_BERLIN, at(2026, 11, 30, 10, 30).astimezone(UTC))
        assert fire == at(2026, 11, 30, 9).astimezone(UTC)
        period = period_ending(MONDAY_9_BERLIN, fire)
        assert period.key == "2026-W49"
        assert period.start == at(2026, 11, 23, 9).astimezone(UTC)

    def test_a_daily_digest(self) -> None:
        daily = Schedule("daily", "mon", "18:30", "UTC")
        fire = last_fire(daily, datetime(2026, 12, 2, 8, tzinfo=UTC))
        assert fire == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
        assert period_ending(daily, fire).key == "2026-12-01"


class TestPostingExactlyOnce:
    def test_a_missed_monday_is_posted_once_on_restart(self, seeded: Container,
                                                       slack: FakeSlack) -> None:
        subscribe(seeded)
        with time_machine.travel(at(2026, 11, 30, 11), tick=False):  # down at 09:00
            clock_for(seeded, slack).sync()
            clock_for(seeded, slack).sync()  # restarted again
        posts = slack.of("chat.postMessage")
        assert len(posts) == 1
        assert posts[0].params["channel"] == "C1"
        assert posts[0].params["text"].startswith("Digest 2026-W49")
        posted_head = posts[0].params["text"].split("Log head: ")[1].split()[0]
        assert Head.parse(posted_head).position < seeded.chain.head().position  # then, not now

    def test_nothing_is_posted_beyond_the_grace(self, seeded: Container,
                                                slack: FakeSlack) -> None:
        subscribe(seeded)
        with time_machine.travel(at(2026, 11, 30, 16), tick=False):
            clock_for(seeded, slack).sync()
        assert slack.of("chat.postMessage") == []

    def test_the_scheduled_job_posts_at_its_time(self, seeded: Container,
                                                 slack: FakeSlack) -> None:
        subscribe(seeded)
        clock = clock_for(seeded, slack)
        with time_machine.travel(at(2026, 11, 29, 20), tick=False):
            clock.sync()
        [job] = clock.scheduler.get_jobs()
        assert job.misfire_grace_time == 6 * 3600 and job.coalesce and job.max_instances == 1
        with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
            clock.post_due("C1")
        assert len(slack.of("chat.postMessage")) == 1

    def test_unsubscribing_stops_the_next_digest(self, seeded: Container,
                                                 slack: FakeSlack) -> None:
        subscribe(seeded)
        clock = clock_for(seeded, slack)
        with time_machine.travel(at(2026, 11, 29, 20), tick=False):
            clock.sync()
            Subscriptions(seeded.tracker, seeded.readmodel).unsubscribe(EDITOR, "C1",
                                                                        in_channel=True)
        with time_machine.travel(at(2026, 11, 30, 9, 1), tick=False):
            clock.post_due("C1")  # the job still fires once before the next refresh
            clock.sync()
        assert slack.of("chat.postMessage") == []
        assert clock.scheduler.get_jobs() == []

    @pytest.mark.postgres
    def test_two_clocks_on_one_postgresql_database_post_once(self, postgres_url: str,
                                                             slack: FakeSlack) -> None:
        containers = [make_container(postgres_url) for _ in range(2)]
        try:
            containers[0].importer.run(LOCAL_OPERATOR, read_history_file(SEED))
            subscribe(containers[0])
            clocks = [clock_for(c, slack) for c in containers]
            start = threading.Barrier(2)
            errors: list[BaseException] = []

            def run(clock: Clock) -> None:
                try:
                    start.wait(timeout=10)
                    clock.post_due("C1")
                except BaseException as error:
                    errors.append(error)

            with time_machine.travel(at(2026, 11, 30, 9, 5), tick=True):
                threads = [threading.Thread(target=run, args=(c,)) for c in clocks]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            assert errors == []
            assert len(slack.of("chat.postMessage")) == 1
        finally:
            for container in containers:
                container.close()


class TestSubscriptions:
    def test_only_editors_subscribe_a_channel_they_are_not_in(self, container: Container,
                                                              ) -> None:
        service = Subscriptions(container.tracker, container.readmodel)
        member = Principal("U0MEMBER", may_record=False)
        with pytest.raises(NotAuthorizedError):
            service.subscribe(member, "C9", Schedule(), in_channel=False)
        assert service.subscribe(member, "C9", Schedule(), in_channel=True)
        assert service.subscribe(EDITOR, "C8", Schedule(), in_channel=False)

    def test_changes_are_events_with_who_made_them(self, container: Container) -> None:
        service = Subscriptions(container.tracker, container.readmodel)
        service.subscribe(EDITOR, "C1", Schedule(), in_channel=True)
        assert not service.subscribe(EDITOR, "C1", Schedule(), in_channel=True)  # no change
        service.subscribe(Principal("U2", True), "C1", MONDAY_9_BERLIN, in_channel=True)
        container.catch_up()
        schedule, _ = service.listing("C1")
        assert schedule == MONDAY_9_BERLIN
        service.unsubscribe(EDITOR, "C1", in_channel=True)
        container.catch_up()
        assert service.listing("C1") == (None, [])
        with pytest.raises(NotSubscribedError):
            service.unsubscribe(EDITOR, "C1", in_channel=True)

    def test_an_unknown_time_zone_is_refused(self, container: Container) -> None:
        with pytest.raises(Exception, match="unknown time zone"):
            Subscriptions(container.tracker, container.readmodel).subscribe(
                EDITOR, "C1", Schedule(timezone="Mars/Olympus"), in_channel=True)
        assert container.tracker.head() == 0


class TestContent:
    def test_says_exactly_what_the_log_says_for_the_period(self, sqlite_url: str) -> None:
        container = make_container(sqlite_url)
        try:
            with time_machine.travel(at(2026, 11, 16, 10), tick=False):
                container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
            with time_machine.travel(at(2026, 11, 24, 15), tick=False):
                container.recorder.record(
                    EDITOR, key="iwc-jwp", what="endorsed", occurred="2026-11-24",
                    fields={"body": "International Whaling Commission", "meeting": "IWC70"},
                    source=Source(chat="T1/C1/1795000000.000100"))
                container.recorder.record(
                    EDITOR, key="cop12", what="rescheduled", occurred="2026-11-24",
                    fields={"dates": "10-12 December 2026", "venue": "Bonn"},
                    source=Source("UNEP/CMS/Notification/2026/9"))
            container.catch_up()
            fire = at(2026, 11, 30, 9).astimezone(UTC)
            period = period_ending(MONDAY_9_BERLIN, fire)
            content = build_digest(container.readmodel, channel="C1", period=period.key,
                                   start=period.start, end=period.end,
                                   schedule=MONDAY_9_BERLIN)
        finally:
            container.close()
        assert content.changes == [
            ("IWC–CMS Joint Work Plan",
             ["Endorsed by International Whaling Commission at IWC70 (24 November 2026)"
              " — chat T1/C1/1795000000.000100"]),
            ("12th Meeting of the Conference of the Parties to CMS (COP12)",
             ["Rescheduled to 10-12 December 2026 in Bonn (24 November 2026)"
              " — UNEP/CMS/Notification/2026/9"])]
        assert content.upcoming == [
            "10-12 December 2026: 12th Meeting of the Conference of the Parties to CMS (COP12)"
            ", Bonn — UNEP/CMS/Notification/2026/9"]  # who said the date, not every source
        assert "CITES–CMS Joint Work Plan 2015–2020 — last event 2014 (endorsed)" in content.quiet
        assert ("Consultation on the relationship between the CMS Family and civil society: "
                "open for submissions, 1 submission") in content.consultations

    def test_a_filter_that_matches_nothing_says_so(self, seeded: Container) -> None:
        schedule = Schedule(filter_kind="partner", filter_value="IWC")
        content = build_digest(seeded.readmodel, channel="C1", period="2030-W01",
                               start=datetime(2030, 1, 1, tzinfo=UTC),
                               end=datetime(2030, 1, 6, tzinfo=UTC), schedule=schedule)
        assert content.scope == "International Whaling Commission (IWC)"
        assert "Nothing changed for International Whaling Commission (IWC)" in content.text()

    def test_block_kit_limits_hold(self, seeded: Container) -> None:
        content = build_digest(seeded.readmodel, channel="C1", period="2026-W48",
                               start=datetime(2000, 1, 1, tzinfo=UTC),
                               end=datetime(2099, 1, 1, tzinfo=UTC), schedule=None)
        blocks = content.blocks()
        assert len(blocks) <= MAX_BLOCKS
        texts = [b["text"]["text"] for b in blocks if "text" in b and b["type"] == "section"]
        assert texts and all(len(text) <= MAX_TEXT for text in texts)


class TestChangeNotices:
    def test_each_event_on_a_followed_item_is_noticed_once_in_its_thread(
            self, seeded: Container, slack: FakeSlack) -> None:
        from cmsbot.digests.notices import NoticeSender

        service = Subscriptions(seeded.tracker, seeded.readmodel)
        assert service.follow(EDITOR, "C1", "IWC JWP", in_channel=True)[1] == "iwc-jwp"
        service.follow(EDITOR, "C2", "CITES", in_channel=True)  # a partner
        seeded.recorder.record(EDITOR, key="iwc-jwp", what="endorsed", occurred="2026-11-24",
                               fields={"body": "IWC", "meeting": "IWC70"},
                               source=Source(chat="T1/C1/1"))
        seeded.recorder.record(EDITOR, key="cites-jwp", what="progress reported",
                               occurred="2026-11-25", fields={"summary": "joint training"},
                               source=Source(chat="T1/C2/2"))
        seeded.catch_up()
        sender = NoticeSender(seeded.engine, poster_for(seeded, slack))
        assert sender.send_pending() == 2
        seeded.projector.rebuild()  # rebuilding the views notices nothing again
        seeded.catch_up()
        assert sender.send_pending() == 0
        posts = slack.of("chat.postMessage")
        by_channel = {(p.params["channel"], "thread_ts" in p.params) for p in posts}
        assert by_channel == {("C1", False), ("C1", True), ("C2", False), ("C2", True)}
        [iwc] = [p for p in posts if p.params["channel"] == "C1" and "thread_ts" in p.params]
        assert iwc.params["text"].startswith("Endorsed by IWC at IWC70 (24 November 2026)")
        assert len(posts) == 4  # two thread starters, two notices

    def test_unfollowing_stops_notices(self, seeded: Container, slack: FakeSlack) -> None:
        from cmsbot.digests.notices import NoticeSender

        service = Subscriptions(seeded.tracker, seeded.readmodel)
        service.follow(EDITOR, "C1", "IWC JWP", in_channel=True)
        service.unfollow(EDITOR, "C1", "IWC JWP", in_channel=True)
        seeded.recorder.record(EDITOR, key="iwc-jwp", what="endorsed", occurred="2026-11-24",
                               fields={"body": "IWC", "meeting": "IWC70"},
                               source=Source(chat="T1/C1/1"))
        seeded.catch_up()
        assert NoticeSender(seeded.engine, poster_for(seeded, slack)).send_pending() == 0


class TestSharedMaterial:
    """A hundred channels' digests share one period's material (prepared once, each filter
    selected once): each must be what a digest built alone, by a fresh read model, says."""

    SCHEDULES = (Schedule(), Schedule(filter_kind="partner", filter_value="IWC"),
                 Schedule(filter_kind="kind", filter_value="meeting"),
                 Schedule(filter_kind="partner", filter_value="Ramsar"),
                 Schedule(filter_kind="kind", filter_value="agreement"), Schedule())

    @pytest.mark.parametrize("business_time", [False, True])
    def test_each_channel_says_what_it_says_alone(self, seeded: Container,
                                                  business_time: bool) -> None:
        start = datetime(2015, 10, 12, tzinfo=UTC) if business_time else datetime.now(UTC)
        if not business_time:
            start -= timedelta(days=7)
        end = start + timedelta(days=7)

        def digest(reader: ReadModel, number: int, schedule: Schedule) -> DigestContent:
            return build_digest(reader, channel=f"C{number}", period="p", start=start,
                                end=end, schedule=schedule, business_time=business_time)

        shared = seeded.readmodel
        together = [digest(shared, n, s) for n, s in enumerate(self.SCHEDULES)]
        again = [digest(shared, n, s) for n, s in reversed(list(enumerate(self.SCHEDULES)))]
        alone = [digest(ReadModel(seeded.engine, seeded.tracker), n, s)
                 for n, s in enumerate(self.SCHEDULES)]
        assert together == alone
        assert again[::-1] == alone
        assert any(d.changes or d.upcoming for d in alone)

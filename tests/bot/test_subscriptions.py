"""`/cms subscribe`, `subscriptions`, `unsubscribe`, `follow`: signed slash commands over
real HTTP, recorded as events in the store."""

from __future__ import annotations

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.digests.service import Subscriptions
from cmsbot.digests.words import read_subscribe
from domain.channels import Schedule
from domain.provenance import Source

from .fakes import FakeSlack
from .harness import CHANNEL, READER, serving


def reply_text(fake: FakeSlack, name: str) -> str:
    [call] = fake.wait_for(f"response:{name}")
    return str(call.params["text"])


class TestSubscribing:
    def test_a_channel_subscribes_with_a_schedule_and_a_partner_filter(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("subscribe weekly mon 08:30 Europe/Berlin whaling commission",
                        response="1")
            said = reply_text(fake, "1")
            bot.command("subscriptions", response="2")
            listed = reply_text(fake, "2")
        assert "weekly digest every Mon at 08:30 (Europe/Berlin)" in said
        assert "partner iwc" in said
        store.catch_up()
        schedule, _ = Subscriptions(store.tracker, store.readmodel).listing(CHANNEL)
        assert schedule == Schedule("weekly", "mon", "08:30", "Europe/Berlin", "partner", "iwc")
        assert "Digest: weekly digest" in listed

    def test_a_member_subscribes_their_channel_but_not_another(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("subscribe", user=READER, response="1")
            here = reply_text(fake, "1")
            bot.command("subscribe <#C0OTHER|other> daily 18:00", user=READER, response="2")
            other = reply_text(fake, "2")
        assert "now gets a weekly digest every Mon at 09:00 (UTC)" in here
        assert "Only editors may change the subscriptions of a channel they are not in" in other
        store.catch_up()
        service = Subscriptions(store.tracker, store.readmodel)
        assert service.listing("C0OTHER") == (None, [])

    def test_unsubscribe_and_follow(self, store: Container, fake: FakeSlack) -> None:
        texts = []
        with serving(store, fake) as bot:  # one at a time: each waits for its answer
            for name, text in zip("1234", ["unsubscribe", "follow the CITES joint work plan",
                                           "subscribe daily 7:00 kind meetings",
                                           "unsubscribe"], strict=True):
                bot.command(text, response=name)
                texts.append(reply_text(fake, name))
        assert texts[0].startswith("Nothing was changed: this channel has no digest")
        assert "every update on CITES–CMS Joint Work Plan 2015–2020" in texts[1]
        assert "daily digest every day at 07:00 (UTC), covering kind meeting" in texts[2]
        assert "gets no more digests" in texts[3]


class TestTheListing:
    def test_a_change_is_listed_at_once_and_a_lag_of_the_views_is_said(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("follow the CITES joint work plan", response="1")
            reply_text(fake, "1")
            # The follow was recorded and caught up by its writer: listed at once.
            bot.command("subscriptions", response="2")
            listed = reply_text(fake, "2")
            store.recorder.record(LOCAL_OPERATOR, key="sdgs", what="progress noted",
                                  fields={"summary": "Not caught up"}, occurred="2016",
                                  source=Source("UNEP/CMS/StC45/18", "3"))
            bot.command("subscriptions", response="3")
            lagging = reply_text(fake, "3")
        assert listed == "Digest: none\nFollows the item cites-jwp"
        assert lagging == (f"{listed}\n\nThe views are 1 event behind the log; is the "
                           "projector running?")


def test_reading_the_subscribe_words() -> None:
    assert read_subscribe("").schedule == Schedule()
    request = read_subscribe("<#C123|news> daily Friday 7 UTC item IWC JWP")
    assert request.channel == "C123"
    assert request.schedule == Schedule("daily", "fri", "07:00", "UTC", "item", "IWC JWP")

"""The App Home tab over real signed HTTP on loopback: published with `views.publish` when
a person opens it (Bolt's own `app_home_opened` bodies), with what they follow, what is
coming up, what is overdue and recent changes; editors' "Record update"; published again
after a follow in their conversation with cmsbot and after they record."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from cmsbot.bootstrap import Container
from cmsbot.questions.answer import Line
from cmsbot.slack import home

from .fakes import FakeSlack
from .forms import endorsement_form, fill
from .harness import (
    EDITOR,
    READER,
    BotServer,
    command_form,
    payload,
    serving,
    view_submission,
)

HEADERS = ["cmsbot: the Secretariat's partnerships", "What you follow", "Coming up",
           "Overdue"]


def opened(user: str, *, tab: str = "home") -> dict[str, Any]:
    """Bolt's app_home_opened body, for `user` and `tab`."""
    body = payload("app_home_opened_home.json")
    body["event"] = {**body["event"], "user": user, "channel": f"D{user}", "tab": tab}
    return body


def headers(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def part(view: dict[str, Any], title: str) -> str:
    """The text of a part of the tab: its blocks from its header to the next."""
    found: list[dict[str, Any]] = []
    inside = False
    for block in view["blocks"]:
        if block["type"] == "header":
            inside = block["text"]["text"].startswith(title)
            continue
        if inside:
            found.append(block)
    return json.dumps(found, ensure_ascii=False)


def follow(bot: BotServer, user: str, words: str) -> None:
    """`/cms follow …` typed in the person's conversation with cmsbot."""
    form = {**command_form(f"follow {words}", user=user,
                           response_url=bot.fake.response_url("follow")),
            "channel_id": f"D{user}"}
    assert bot.post(urlencode(form), "application/x-www-form-urlencoded").status == 200


class TestPublished:
    def test_opening_the_home_tab_publishes_it_for_that_person(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            reply = bot.post(json.dumps(payload("app_home_opened_home.json")),
                             "application/json")
            assert reply.status == 200
            [call] = fake.wait_for("views.publish")
        assert call.params["user_id"] == "W222"  # the person in Bolt's body
        view = call.params["view"]
        assert view["type"] == "home"
        assert headers(view)[:4] == HEADERS
        assert headers(view)[4].startswith("Recent changes (since ")
        assert len(view["blocks"]) <= 100
        assert home.FOLLOW_HINT.split(".")[0] in part(view, "What you follow")
        # the seed, as at today: plans of 2015 and 2016 with no outcome recorded
        assert "Joint Work Plan" in part(view, "Overdue")
        assert "overdue since" in part(view, "Overdue")
        assert "Record update" not in text(view)  # not an editor

    def test_the_messages_tab_publishes_nothing(self, store: Container,
                                                fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            assert bot.post(json.dumps(payload("app_home_opened.json")),
                            "application/json").status == 200
            bot.drain()
        assert fake.of("views.publish") == []

    def test_whats_coming_up_is_the_calendar_ahead(self, store: Container,
                                                   fake: FakeSlack) -> None:
        upcoming = store.questions.answer("what's coming up")
        with serving(store, fake) as bot:
            bot.event(opened(READER)["event"])
            [call] = fake.wait_for("views.publish")
        shown = part(call.params["view"], "Coming up")
        if upcoming.lines:
            assert json.dumps(upcoming.lines[0].text, ensure_ascii=False)[1:-1] in shown
        else:
            assert "Nothing is on the calendar ahead." in shown


    def test_overdue_shows_its_first_entries_and_counts_them_all(
            self, store: Container) -> None:
        whole = store.questions.answer("what is overdue?")
        content = home.read(store.readmodel, store.questions, store.channels, None,
                            may_record=False)
        assert content.overdue == whole.lines[:home.SHOWN]
        assert content.overdue_total == len(whole.lines) > 0
        shown = part(home.home_view(content), "Overdue")
        rest = len(whole.lines) - home.SHOWN
        assert (f"… and {rest} more" in shown) == (rest > 0)

    def test_a_part_counts_the_entries_of_the_whole_answer(self) -> None:
        lines = [Line("2030", f"Meeting {n}") for n in range(home.SHOWN)]
        view = home.home_view(home.HomeContent(date(2026, 3, 3), upcoming=lines,
                                               upcoming_total=40))
        shown = part(view, "Coming up")
        assert f"Meeting {home.SHOWN - 1}" in shown and "… and 30 more" in shown


class TestFollows:
    def test_a_follow_in_the_conversation_with_cmsbot_shows_on_the_tab(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            follow(bot, READER, "IWC JWP")
            [after_follow] = fake.wait_for("views.publish")
            follow(bot, READER, "Ramsar")  # a partner: each of its items
            published = fake.wait_for("views.publish", 2)
            bot.event(opened(READER)["event"], event_id="EvOPEN")
            published = fake.wait_for("views.publish", 3)
        assert fake.of("conversations.open")[0].params["users"] == READER
        followed = part(after_follow.params["view"], "What you follow")
        assert "IWC–CMS Joint Work Plan: in negotiation (agreement; `iwc-jwp`)" in followed
        for call in published[1:]:
            assert call.params["user_id"] == READER
            followed = part(call.params["view"], "What you follow")
            assert "IWC–CMS Joint Work Plan" in followed
            assert "Ramsar–CMS Joint Work Plan 2016–2018: awaiting endorsement" in followed

    def test_a_channels_follows_are_not_a_persons(self, store: Container,
                                                  fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("follow IWC JWP")  # in #partners
            fake.wait_for("response:1")
            bot.event(opened(READER)["event"])
            [call] = fake.wait_for("views.publish")
        followed = part(call.params["view"], "What you follow")
        assert "IWC–CMS" not in followed and "You follow nothing yet" in followed


class TestEditors:
    def test_an_editor_sees_record_update_and_it_opens_the_form(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.event(opened(EDITOR)["event"])
            [call] = fake.wait_for("views.publish")
            [record] = [e for b in call.params["view"]["blocks"] if b["type"] == "actions"
                        for e in b["elements"]]
            assert record["text"]["text"] == "Record update"
            body = payload("block_actions_ephemeral.json")
            body.update(user={"id": EDITOR}, container={"type": "view", "view_id": "V0HOME"},
                        actions=[{**body["actions"][0], "action_id": record["action_id"],
                                  "value": record["value"]}])
            del body["response_url"], body["channel"]
            assert bot.interact(body).status == 200
            [form] = fake.wait_for("views.open")
        assert form.params["trigger_id"] == body["trigger_id"]
        assert form.params["view"]["callback_id"] == "record_update"

    def test_a_readers_forged_press_opens_nothing(self, store: Container,
                                                  fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            body = payload("block_actions_ephemeral.json")
            body.update(user={"id": READER},
                        actions=[{**body["actions"][0], "action_id": f"{home.RECORD}:0"}])
            assert bot.interact(body).status == 200
            bot.drain()
        assert fake.of("views.open") == []

    def test_recording_publishes_the_editors_tab_with_the_change(
            self, store: Container, fake: FakeSlack) -> None:
        today = date.today()
        with serving(store, fake) as bot:
            follow(bot, EDITOR, "IWC JWP")
            fake.wait_for("views.publish")
            view = endorsement_form(bot, fake)
            submitted = fill(view, {"item": "iwc-jwp", "what": "endorsed",
                                    "field:body:str": "IWC", "field:meeting:str": "IWC66",
                                    "occurred": today.isoformat()})
            assert bot.interact(view_submission(submitted, user=EDITOR)).status == 200
            fake.wait_for("chat.postMessage")
            [_, after] = fake.wait_for("views.publish", 2)
        assert after.params["user_id"] == EDITOR
        tab = after.params["view"]
        assert "IWC–CMS Joint Work Plan: endorsed" in part(tab, "What you follow")
        assert "IWC66" in part(tab, "Recent changes")

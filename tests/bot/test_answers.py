"""Questions over real HTTP: a slash command, a mention, a DM and the buttons, each signed
like Slack's, answered through the fake Web API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import read_history
from cmsbot.slack.bot import UNREADABLE_BUTTON
from domain.provenance import Source

from .fakes import FakeSlack
from .harness import CHANNEL, block_action, direct_message, mention, serving


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in some blocks, to look for words in."""
    return json.dumps(blocks, ensure_ascii=False)


def header(blocks: list[dict[str, Any]]) -> str:
    return next(str(b["text"]["text"]) for b in blocks if b["type"] == "header")


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


class TestSlashCommand:
    def test_answers_privately_by_response_url_with_sources_and_a_share_button(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            reply = bot.command("status of IWC JWP")
            assert reply.status == 200 and reply.body == ""
            assert reply.seconds < 3
            [call] = fake.wait_for("response:1")
        answer = call.params
        assert answer["response_type"] == "ephemeral"
        assert header(answer["blocks"]) == "IWC–CMS Joint Work Plan"
        fields = next(b["fields"] for b in answer["blocks"] if "fields" in b)
        assert [f["text"].split("\n")[0] for f in fields] == [
            "*Status*", "*Since*", "*Partners*", "*Next date*"]
        assert "in negotiation" in fields[0]["text"] and "IWC" in fields[2]["text"]
        context = next(b for b in answer["blocks"] if b["type"] == "context")
        assert "UNEP/CMS/StC44/18 ¶10" in texts([context]) and "as at" in texts([context])
        assert answer["text"].startswith("IWC–CMS Joint Work Plan: in negotiation")
        assert [b["text"]["text"] for b in buttons(answer["blocks"])] == ["Share in channel"]

    def test_an_answer_over_views_that_lag_the_log_says_so_in_a_context_line(
            self, store: Container, fake: FakeSlack) -> None:
        lag = "The views are 1 event behind the log; is the projector running?"
        store.recorder.record(LOCAL_OPERATOR, key="iwc-jwp", what="endorsed", fields={
            "body": "CMS Standing Committee", "meeting": "StC44"}, occurred="2015-10-15",
            source=Source("UNEP/CMS/StC45/18", "4"))  # and nothing caught up
        with serving(store, fake) as bot:
            bot.command("status of IWC JWP", response="1")
            [lagging] = fake.wait_for("response:1")
            store.catch_up()  # the projector's work, which a question does not do
            bot.command("status of IWC JWP", response="2")
            [current] = fake.wait_for("response:2")
        contexts = [texts([b]) for b in lagging.params["blocks"] if b["type"] == "context"]
        assert len(contexts) == 2 and lag in contexts[1], contexts
        assert "in negotiation" in lagging.params["text"]  # the views as they were
        assert "behind the log" not in texts(current.params["blocks"])
        assert "endorsed" in current.params["text"]

    def test_help_explains_the_questions_and_the_slack_ways_in(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            assert bot.command("help").status == 200
            [call] = fake.wait_for("response:1")
        assert "status of IWC JWP" in call.params["text"]
        assert "/cms record" in texts(call.params["blocks"])

    def test_as_at_option_answers_for_that_date(self, store: Container,
                                                fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("what's coming up --as-at 2015-09-01")
            [call] = fake.wait_for("response:1")
        assert "Workshop to promote the accession of Latin American" in call.params["text"]
        assert "as at 1 September 2015" in texts(call.params["blocks"])


class TestMention:
    def test_answers_in_the_thread_with_block_kit(self, store: Container,
                                                  fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            event = mention("where are we with the CITES JWP?", ts="1700000000.000200")
            assert bot.event(event).status == 200
            [post] = fake.wait_for("chat.postMessage")
        assert post.token == "xoxb-test-token"
        assert post.params["channel"] == CHANNEL
        assert post.params["thread_ts"] == "1700000000.000200"
        assert header(post.params["blocks"]) == "CITES–CMS Joint Work Plan 2015–2020"
        assert "endorsed" in texts(post.params["blocks"])
        assert "UNEP/CMS/StC44/18 ¶8" in texts(post.params["blocks"])
        assert "endorsed" in post.params["text"]

    def test_a_retried_event_is_answered_once_even_after_a_restart(
            self, store: Container, fake: FakeSlack) -> None:
        event = mention("status of IWC JWP")
        with serving(store, fake) as bot:
            assert bot.event(event, event_id="EvRETRY").status == 200
            fake.wait_for("chat.postMessage")
            again = bot.event(event, event_id="EvRETRY",
                              headers={"X-Slack-Retry-Num": "1",
                                       "X-Slack-Retry-Reason": "http_timeout"})
            assert again.status == 200
            bot.drain()
        with serving(store, fake) as restarted:  # a new process: only the database remembers
            third = restarted.event(event, event_id="EvRETRY",
                                    headers={"X-Slack-Retry-Num": "2"})
            assert third.status == 200
            restarted.drain()
        assert len(fake.of("chat.postMessage")) == 1

    def test_the_same_message_as_two_events_is_answered_once(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.event(mention("status of IWC JWP", ts="1700000000.000300"), event_id="Ev1")
            bot.event(mention("status of IWC JWP", ts="1700000000.000300"), event_id="Ev2")
            bot.drain()
        assert len(fake.of("chat.postMessage")) == 1


class TestDirectMessage:
    def test_answers_a_person(self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            assert bot.event(direct_message("programme officer")).status == 200
            [post] = fake.wait_for("chat.postMessage")
        assert post.params["channel"] == "D0READER"
        assert "thread_ts" not in post.params
        assert header(post.params["blocks"]) == "Joint CITES/CMS Programme Officer"

    def test_ignores_bot_messages_and_subtypes(self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.event(direct_message("status of IWC JWP", bot_id="BBOT"), event_id="Ev1")
            bot.event(direct_message("status of IWC JWP", ts="1.2", subtype="message_changed"),
                      event_id="Ev2")
            bot.drain()
        assert fake.posts == []


class TestButtons:
    def test_a_near_tie_offers_one_button_per_candidate_and_a_click_answers(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.event(mention("history of JWP"))
            [post] = fake.wait_for("chat.postMessage")
            choices = buttons(post.params["blocks"])
            assert [c["text"]["text"] for c in choices] == [
                "CBD–CMS Joint Work Plan 2016–2018", "IWC–CMS Joint Work Plan",
                "CITES–CMS Joint Work Plan 2015–2020", "Ramsar–CMS Joint Work Plan 2016–2018"]
            iwc = choices[1]
            click = block_action({"action_id": iwc["action_id"], "value": iwc["value"],
                                  "type": "button", "block_id": "b"},
                                 response_url=fake.response_url("click"))
            assert bot.interact(click).status == 200
            [answer] = fake.wait_for("response:click")
        assert answer.params["replace_original"] is True
        assert header(answer.params["blocks"]) == "History of IWC–CMS Joint Work Plan"

    def test_share_posts_the_answer_in_the_channel(self, store: Container,
                                                   fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("status of IWC JWP")
            [private] = fake.wait_for("response:1")
            [share] = buttons(private.params["blocks"])
            click = block_action({"action_id": share["action_id"], "value": share["value"],
                                  "type": "button", "block_id": "b"},
                                 response_url=fake.response_url("share"))
            bot.interact(click)
            [shared] = fake.wait_for("response:share")
        assert shared.params["response_type"] == "in_channel"
        assert shared.params["delete_original"] is True
        assert header(shared.params["blocks"]) == "IWC–CMS Joint Work Plan"
        assert buttons(shared.params["blocks"]) == []


    def test_a_candidates_button_asks_its_question_as_read_whatever_its_key_says(
            self, store: Container, fake: FakeSlack) -> None:
        """The button carries the status question as read, about the item's key: a key
        that reads as another question ("…-updates-…", a "what changed") is still asked
        about."""
        store.importer.run(LOCAL_OPERATOR, read_history(WHALE_PLANS, "whales.yaml"))
        store.catch_up()
        with serving(store, fake) as bot:
            bot.event(mention("status of whale plan"))
            [post] = fake.wait_for("chat.postMessage")
            north = next(c for c in buttons(post.params["blocks"])
                         if c["text"]["text"] == "Whale plan north")
            click = block_action({"action_id": north["action_id"], "value": north["value"],
                                  "type": "button", "block_id": "b"},
                                 response_url=fake.response_url("click"))
            assert bot.interact(click).status == 200
            [answer] = fake.wait_for("response:click")
        assert answer.params["text"].startswith("Whale plan north: proposed")
        assert header(answer.params["blocks"]) == "Whale plan north"

    @pytest.mark.parametrize("asked", [
        {"intent": "drop", "subject": "x", "text": "x", "window": None, "since": None,
         "kinds": [], "subtypes": [], "flags": [], "as_at": None, "known_at": None},
        {"intent": "status", "subject": "x"}, {"intent": "status", "subject": 7}, "status"])
    def test_a_button_whose_question_cannot_be_read_back_is_said_so(
            self, store: Container, fake: FakeSlack, asked: object) -> None:
        with serving(store, fake) as bot:
            click = block_action({"action_id": "choose:0", "type": "button", "block_id": "b",
                                  "value": json.dumps({"asked": asked, "s": False})},
                                 response_url=fake.response_url("click"))
            assert bot.interact(click).status == 200
            [answer] = fake.wait_for("response:click")
        assert answer.params["text"] == UNREADABLE_BUTTON


WHALE_PLANS = """\
document: TEST/1
as_at: 2016-03-01
items:
  - key: whale-updates-north
    kind: agreement
    title: Whale plan north
    events:
      - {type: proposed, occurred: 2016-02-01}
  - key: whale-updates-south
    kind: agreement
    title: Whale plan south
    events:
      - {type: proposed, occurred: 2016-02-01}
"""


class TestPlumbing:
    def test_slacks_url_check_is_answered_with_its_challenge(self, store: Container,
                                                             fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            reply = bot.post(json.dumps({"token": "legacy", "challenge": "c-123",
                                         "type": "url_verification"}), "application/json")
        assert reply.status == 200 and reply.json() == {"challenge": "c-123"}

    def test_healthz_says_the_store_answers(self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            reply = bot.get("/healthz")
        assert reply.status == 200
        assert reply.json() == {"ok": True, "store": "answers",
                                "events": store.tracker.head(),
                                "views_at": store.projector.position()}

"""Slack's conventions, with Bolt's own request bodies (tests/bot/payloads): only direct
messages and mentions are answered, whatever the app is subscribed to; what the app does
not handle is acknowledged with 200 and ignored; `/cms list` and `/cms help`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmsbot.bootstrap import Container

from .fakes import FakeSlack
from .harness import payload, serving

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


def send(bot: Any, body: dict[str, Any]) -> int:
    if body.get("type") == "event_callback":
        return int(bot.post(json.dumps(body), "application/json").status)
    return int(bot.interact(body).status)


class TestOnlyDirectMessagesAndMentions:
    def test_a_channel_message_without_a_mention_is_acknowledged_and_not_answered(
            self, store: Container, fake: FakeSlack) -> None:
        body = payload("message_channel.json")
        assert body["event"]["channel_type"] == "channel"
        with serving(store, fake) as bot:
            assert send(bot, body) == 200
            bot.drain()
        assert fake.posts == []

    def test_a_direct_message_is_answered_in_its_conversation(
            self, store: Container, fake: FakeSlack) -> None:
        body = payload("message_im.json")
        body["event"]["text"] = "status of IWC JWP"
        with serving(store, fake) as bot:
            assert send(bot, body) == 200
            [post] = fake.wait_for("chat.postMessage")
        assert post.params["channel"] == "D111"
        assert post.params["text"].startswith("IWC–CMS Joint Work Plan: in negotiation")

    def test_a_mention_is_answered_in_its_thread(self, store: Container,
                                                 fake: FakeSlack) -> None:
        body = payload("app_mention.json")
        with serving(store, fake) as bot:
            assert send(bot, body) == 200  # "<@W111> Hi there!": answered with help
            [post] = fake.wait_for("chat.postMessage")
        assert (post.params["channel"], post.params["thread_ts"]) == (
            "C111", body["event"]["ts"])


class TestWhatIsNotHandled:
    @pytest.mark.parametrize("name", ["reaction_added.json", "block_actions_ephemeral.json",
                                      "block_actions_message.json"])
    def test_is_acknowledged_with_200_and_ignored(self, store: Container, fake: FakeSlack,
                                                  name: str) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            assert send(bot, payload(name)) == 200
            bot.drain()
        assert fake.posts == [] and store.tracker.head() == head

    def test_the_manifest_subscribes_only_to_what_is_handled(self) -> None:
        manifest = yaml.safe_load(MANIFEST.read_text())
        assert manifest["features"]["app_home"]["home_tab_enabled"] is True
        assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == [
            "app_home_opened", "app_mention", "message.im"]
        assert "im:write" in manifest["oauth_config"]["scopes"]["bot"]


class TestListAndHelp:
    def test_list_shows_every_item_with_its_key_kind_partners_and_status(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("list")
            [listing] = fake.wait_for("response:1")
        text = json.dumps(listing.params["blocks"], ensure_ascii=False)
        header = listing.params["blocks"][0]["text"]["text"]
        count = int(header.removeprefix("Items: "))
        assert count == text.count("• `") > 30
        assert ("• `iwc-jwp` — IWC–CMS Joint Work Plan (agreement, with IWC): "
                "in negotiation") in text
        assert listing.params["response_type"] == "ephemeral"

    @pytest.mark.parametrize(("words", "title", "key", "left_out"), [
        ("agreements", "Agreements: ", "cites-jwp", "mikt-1"),
        ("meeting", "Meetings: ", "mikt-1", "cites-jwp"),
        ("Ramsar", "Items with ", "ramsar-jwp", "cites-jwp")])
    def test_list_of_a_kind_or_a_partner(self, store: Container, fake: FakeSlack,
                                         words: str, title: str, key: str,
                                         left_out: str) -> None:
        with serving(store, fake) as bot:
            bot.command(f"list {words}")
            [listing] = fake.wait_for("response:1")
        text = json.dumps(listing.params["blocks"], ensure_ascii=False)
        assert listing.params["blocks"][0]["text"]["text"].startswith(title)
        assert f"`{key}`" in text and f"`{left_out}`" not in text

    def test_list_with_other_words_is_asked_as_a_question(self, store: Container,
                                                          fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("list agreements awaiting endorsement")
            [answer] = fake.wait_for("response:1")
        assert "IOTC–CMS Memorandum of Cooperation" in answer.params["text"]
        assert "IWC–CMS" not in answer.params["text"]

    def test_help_shows_five_phrase_families(self, store: Container,
                                             fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("help")
            [answer] = fake.wait_for("response:1")
        text = json.dumps(answer.params["blocks"], ensure_ascii=False)
        for family in ("status of IWC JWP as at 1 September 2015", "what happened since StC44",
                       "did StC44 endorse the Ramsar JWP?", "what is overdue?",
                       "upcoming workshops"):
            assert f"• {family}" in text
        assert "/cms list" in text

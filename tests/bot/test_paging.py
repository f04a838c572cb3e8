"""Long answers in Slack: "Show more" continues the same answer (the same question as
read, at the same times) page by page, whether the engine answered whole or read only the
page shown, and a near tie's button answers the question as asked about the chosen item.
Real signed HTTP on loopback; the button presses are Bolt's own test payloads
(tests/bot/payloads) carrying the bot's buttons."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from cmsbot.bootstrap import Container
from cmsbot.slack import blocks

from .fakes import Call, FakeSlack
from .harness import CHANNEL, BotServer, mention, payload, serving
from .support import within_limits

QUESTION = "what was recorded since 1 January 2015"
AS_AT = date(2016, 9, 1)
ASKED_AT = "1700000000.000500"


def entries(call_blocks: list[dict[str, Any]]) -> list[str]:
    """The bullets of a message's sections, in order."""
    return [row for b in call_blocks if b["type"] == "section" and "text" in b
            for row in b["text"]["text"].split("\n") if row.startswith("• ")]


def button(call_blocks: list[dict[str, Any]], action: str) -> dict[str, Any] | None:
    found = [e for b in call_blocks if b["type"] == "actions" for e in b["elements"]
             if e["action_id"].startswith(f"{action}:")]
    assert len(found) <= 1
    return found[0] if found else None


def press(bot: BotServer, name: str, pressed: dict[str, Any], **changes: Any) -> None:
    """Send Bolt's block_actions body `name`, its button replaced by `pressed`."""
    body = payload(name)
    body["actions"] = [{**body["actions"][0], "action_id": pressed["action_id"],
                        "value": pressed["value"]}]
    body.update(changes)
    assert bot.interact(body).status == 200


def private_pages(bot: BotServer, fake: FakeSlack, question: str) -> list[dict[str, Any]]:
    """A question asked privately, and "Show more" pressed until there is no more: each
    page's response."""
    bot.command(question, response="page1")
    pages = [fake.wait_for("response:page1")[0].params]
    while (more := button(pages[-1]["blocks"], blocks.MORE)) is not None:
        name = f"page{len(pages) + 1}"
        press(bot, "block_actions_ephemeral.json", more, response_url=fake.response_url(name))
        pages.append(fake.wait_for(f"response:{name}")[0].params)
    return pages


def expected_entries(store: Container) -> list[str]:
    answer = store.questions.answer(QUESTION, as_at=AS_AT)
    assert len(answer.lines) > 2 * blocks.PAGE_SIZE  # three pages at least
    return [blocks.escape(line.text) for line in answer.lines]


def check_pages(pages: list[dict[str, Any]], store: Container) -> None:
    """The pages hold every entry of the answer once, in order, each within the limits,
    each but the last ending in "… and N more" and a "Show more" button."""
    wanted = expected_entries(store)
    shown = [row for page in pages for row in entries(page["blocks"])]
    assert len(shown) == len(wanted)
    for row, text in zip(shown, wanted, strict=True):
        assert text in row
    for number, page in enumerate(pages, start=1):
        within_limits(blocks.Message(page["text"], page["blocks"]))
        last = number == len(pages)
        assert (button(page["blocks"], blocks.MORE) is None) == last
        assert ("more" in entries_and_rest(page["blocks"])[-1]) != last
        assert f"of {len(wanted)}" in json.dumps(page["blocks"], ensure_ascii=False)
        assert "as at 1 September 2016" in json.dumps(page["blocks"], ensure_ascii=False)


def entries_and_rest(call_blocks: list[dict[str, Any]]) -> list[str]:
    return [row for b in call_blocks if b["type"] == "section" and "text" in b
            for row in b["text"]["text"].split("\n")]


class TestShowMore:
    def test_a_mentions_answer_pages_to_the_end_in_its_thread(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.event(mention(f"{QUESTION} --as-at 2016-09-01", ts=ASKED_AT))
            posts = fake.wait_for("chat.postMessage")
            while (more := button(posts[-1].params["blocks"], blocks.MORE)) is not None:
                value = json.loads(more["value"])
                assert value["asked"]["intent"] == "changes"
                assert value["asked"]["as_at"] == "2016-09-01"
                assert value["p"] == len(posts) + 1
                # The button is on the last page posted, in the thread of the question.
                press(bot, "block_actions_message.json", more,
                      container={"type": "message", "message_ts": f"17.{len(posts)}",
                                 "channel_id": CHANNEL, "is_ephemeral": False},
                      channel={"id": CHANNEL},
                      message={"type": "message", "ts": f"17.{len(posts)}",
                               "thread_ts": ASKED_AT, "text": "", "bot_id": "BBOT"})
                posts = fake.wait_for("chat.postMessage", len(posts) + 1)
        assert len(posts) == -(-len(expected_entries(store)) // blocks.PAGE_SIZE) >= 3
        assert {(p.params["channel"], p.params["thread_ts"]) for p in posts} == {
            (CHANNEL, ASKED_AT)}
        check_pages([p.params for p in posts], store)

    def test_a_private_answer_pages_to_the_end_privately(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            pages = private_pages(bot, fake, f"{QUESTION} --as-at 2016-09-01")
        assert fake.of("chat.postMessage") == []
        assert all(p["response_type"] == "ephemeral" and p["replace_original"] is False
                   for p in pages[1:])
        # Each page keeps its share button: sharing shares the answer's first page.
        assert all(button(p["blocks"], blocks.SHARE) is not None for p in pages)
        check_pages(pages, store)

    def test_in_a_channel_cmsbot_is_not_in_the_next_page_comes_privately(
            self, store: Container, fake: FakeSlack) -> None:
        outside = "C0OUTSIDE"  # a shared answer, in a channel cmsbot was never added to
        refuse = fake.reply

        def reply(call: Call) -> dict[str, Any]:
            if call.method == "chat.postMessage" and call.params.get("channel") == outside:
                return {"ok": False, "error": "not_in_channel"}
            return refuse(call)

        fake.reply = reply  # type: ignore[method-assign]
        with serving(store, fake) as bot:
            bot.command(f"{QUESTION} --as-at 2016-09-01")
            [first] = fake.wait_for("response:1")
            more = button(first.params["blocks"], blocks.MORE)
            assert more is not None
            press(bot, "block_actions_message.json", more,
                  container={"type": "message", "message_ts": "17.1", "channel_id": outside,
                             "is_ephemeral": False},
                  channel={"id": outside}, response_url=fake.response_url("fallback"))
            [second] = fake.wait_for("response:fallback")
        assert second.params["replace_original"] is False
        assert entries(second.params["blocks"]) and "Entries 21–40" in json.dumps(
            second.params["blocks"], ensure_ascii=False)

    def test_a_list_read_a_page_at_a_time_pages_to_the_end(
            self, store: Container, fake: FakeSlack) -> None:
        whole = store.questions.answer("what's coming up", as_at=date(2015, 9, 1))
        assert whole.intent == "upcoming" and len(whole.lines) > blocks.PAGE_SIZE
        with serving(store, fake) as bot:
            pages = private_pages(bot, fake, "what's coming up --as-at 2015-09-01")
        shown = [row for page in pages for row in entries(page["blocks"])]
        assert len(pages) == -(-len(whole.lines) // blocks.PAGE_SIZE)
        assert len(shown) == len(whole.lines)
        for row, line in zip(shown, whole.lines, strict=True):
            assert blocks.escape(line.text) in row
        for page in pages:
            within_limits(blocks.Message(page["text"], page["blocks"]))
            assert f"of {len(whole.lines)}" in json.dumps(page["blocks"], ensure_ascii=False)

    def test_a_short_answer_has_no_show_more(self, store: Container,
                                             fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("status of IWC JWP")
            [answer] = fake.wait_for("response:1")
        assert button(answer.params["blocks"], blocks.MORE) is None
        assert "more" not in json.dumps(answer.params["blocks"])


class TestDidYouMean:
    def test_a_choice_answers_the_question_as_asked_about_that_item(
            self, store: Container, fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("history of JWP --as-at 2015-09-01")
            [tie] = fake.wait_for("response:1")
            assert "as at 1 September 2015" in json.dumps(tie.params["blocks"])
            choices = [e for b in tie.params["blocks"] if b["type"] == "actions"
                       for e in b["elements"] if e["action_id"].startswith("choose:")]
            iwc = next(c for c in choices if c["text"]["text"] == "IWC–CMS Joint Work Plan")
            asked = json.loads(iwc["value"])["asked"]
            assert (asked["intent"], asked["subject"], asked["as_at"]) == (
                "history", "iwc-jwp", "2015-09-01")
            press(bot, "block_actions_ephemeral.json", iwc,
                  response_url=fake.response_url("chosen"))
            [chosen] = fake.wait_for("response:chosen")
        assert chosen.params["replace_original"] is True
        header = next(b for b in chosen.params["blocks"] if b["type"] == "header")
        assert header["text"]["text"] == "History of IWC–CMS Joint Work Plan"
        assert "as at 1 September 2015" in json.dumps(chosen.params["blocks"])
        assert chosen.params["text"].startswith(
            "History of IWC–CMS Joint Work Plan (as at 1 September 2015)")

    def test_the_answer_carries_the_intent_and_dates_it_was_asked_with(
            self, store: Container) -> None:
        asked = store.questions.read("history of JWP", as_at=date(2015, 9, 1))
        tie = store.questions.ask(asked)
        assert tie.intent == "clarify" and len(tie.candidates) > 1
        assert tie.asked is not None
        data = tie.to_json()["asked"]
        assert (data["intent"], data["as_at"]) == ("history", "2015-09-01")
        for candidate in tie.candidates:
            chosen = store.questions.ask(tie.asked.about(candidate.key))
            assert chosen.intent == "history" and chosen.as_at == "2015-09-01"
            assert [m.key for m in chosen.matches] == [candidate.key]

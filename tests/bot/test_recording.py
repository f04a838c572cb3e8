"""Recording from Slack over real HTTP: the form opened by `/cms record` or the message
shortcut, grown as it is filled in, and submitted by an editor, a group member, and a
non-editor whose (forged) submission records nothing."""

from __future__ import annotations

import json
from typing import Any

from cmsbot.bootstrap import Container

from .fakes import TEAM, FakeSlack
from .forms import endorsed_by_iwc66, endorsement_form, fill, latest_view
from .harness import (
    CHANNEL,
    EDITOR,
    READER,
    BotServer,
    block_action,
    message_shortcut,
    serving,
    view_submission,
)

GROUPIE = "UGROUPIE"


def iwc_status(container: Container) -> str:
    return container.questions.answer("status of IWC JWP").matches[0].status


class TestEditorRecords:
    def test_the_form_grows_into_the_events_own_fields(self, store: Container,
                                                        fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            view = endorsement_form(bot, fake)
        update = fake.of("views.update")[-1].params
        assert update["view_id"] == "V0FORM" and update["hash"] == "h1"
        assert [b["block_id"] for b in view["blocks"]] == [
            "item", "what", "field:body:str", "field:meeting:str", "occurred", "source",
            "note"]
        assert view["callback_id"] == "record_update" and "submit" in view
        assert json.loads(view["private_metadata"]) == {
            "team": TEAM, "channel": CHANNEL, "item": "iwc-jwp", "kind": "agreement",
            "what": "endorsed"}

    def test_a_submission_records_once_as_the_slack_user_and_confirms(
            self, store: Container, fake: FakeSlack) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            submitted = endorsed_by_iwc66(endorsement_form(bot, fake))
            reply = bot.interact(view_submission(submitted, user=EDITOR))
            assert reply.status == 200 and not reply.body
            [confirmation] = fake.wait_for("chat.postMessage")
            again = bot.interact(view_submission(submitted, user=EDITOR))  # a double click
            assert again.status == 200
            bot.drain()
        assert store.tracker.head() == head + 1
        event = store.tracker.item("iwc-jwp").history[-1]
        assert (event.actor, event.source.chat) == ("slack:UEDITOR", f"{TEAM}/{CHANNEL}")
        assert str(event.occurred) == "24 October 2016"
        assert iwc_status(store) != "in negotiation"
        assert confirmation.params["channel"] == EDITOR
        assert "Recorded on IWC–CMS Joint Work Plan" in confirmation.params["text"]
        assert len(fake.of("chat.postMessage")) == 1

    def test_a_domain_error_shows_on_the_form_and_records_nothing(
            self, store: Container, fake: FakeSlack) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            view = endorsement_form(bot, fake)
            bad_date = fill(view, {"item": "iwc-jwp", "what": "endorsed",
                                   "field:body:str": "IWC", "field:meeting:str": "IWC66",
                                   "occurred": "some day soon"})
            reply = bot.interact(view_submission(bad_date, user=EDITOR))
            no_meeting = fill(view, {"item": "iwc-jwp", "what": "endorsed",
                                     "field:body:str": "IWC", "occurred": "2016-10-24"})
            missing = bot.interact(view_submission(no_meeting, user=EDITOR))
            bot.drain()
        assert reply.status == 200
        assert reply.json()["response_action"] == "errors"
        assert list(reply.json()["errors"]) == ["occurred"]
        assert missing.json()["errors"] == {
            "field:meeting:str": "'endorsed' needs the field 'meeting'"}
        assert store.tracker.head() == head
        assert fake.of("chat.postMessage") == []

    def test_a_member_of_the_editor_group_records(self, store: Container,
                                                   fake: FakeSlack) -> None:
        fake.group_members = [GROUPIE]
        head = store.tracker.head()
        with serving(store, fake, editors=frozenset(), editor_group="@cms-editors") as bot:
            view = endorsement_form_as(bot, fake, GROUPIE)
            reply = bot.interact(view_submission(endorsed_by_iwc66(view), user=GROUPIE))
            assert reply.status == 200 and not reply.body
            bot.drain()
        assert store.tracker.head() == head + 1
        assert fake.of("usergroups.users.list")[0].params["usergroup"] == "S0EDITORS"


def endorsement_form_as(bot: BotServer, fake: FakeSlack, user: str) -> dict[str, Any]:
    bot.command("record", user=user)
    view = fake.wait_for("views.open")[0].params["view"]
    bot.interact(block_action({"action_id": "item", "block_id": "item", "type":
                               "static_select", "selected_option": {"value": "iwc-jwp"}},
                              user=user, response_url="", view=fill(view, {"item": "iwc-jwp"})))
    view = latest_view(fake, "views.update")
    bot.interact(block_action({"action_id": "what", "block_id": "what", "type":
                               "static_select", "selected_option": {"value": "endorsed"}},
                              user=user, response_url="",
                              view=fill(view, {"item": "iwc-jwp", "what": "endorsed"})))
    return latest_view(fake, "views.update", 2)


class TestNonEditorCannotRecord:
    def test_record_command_is_refused_politely(self, store: Container,
                                                fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.command("record", user=READER, response="refused")
            [refusal] = fake.wait_for("response:refused")
            bot.drain()
        assert "only Secretariat editors may record" in refusal.params["text"]
        assert refusal.params["response_type"] == "ephemeral"
        assert fake.of("views.open") == []

    def test_a_forged_submission_records_nothing(self, store: Container,
                                                 fake: FakeSlack) -> None:
        head = store.tracker.head()
        with serving(store, fake) as bot:
            view = endorsement_form(bot, fake)  # an editor's form, submitted by a reader
            reply = bot.interact(view_submission(endorsed_by_iwc66(view), user=READER))
            bot.drain()
        assert reply.status == 200
        answer = reply.json()
        assert answer["response_action"] == "update"
        assert "only Secretariat editors may record" in json.dumps(answer["view"])
        assert store.tracker.head() == head
        assert iwc_status(store) == "in negotiation"
        assert fake.of("chat.postMessage") == []

    def test_the_message_shortcut_is_refused_politely(self, store: Container,
                                                      fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            bot.interact(message_shortcut(user=READER, text="IWC JWP endorsed",
                                          ts="1700000000.000500",
                                          response_url=fake.response_url("no")))
            [refusal] = fake.wait_for("response:no")
            bot.drain()
        assert "only Secretariat editors may record" in refusal.params["text"]
        assert fake.of("views.open") == []


class TestMessageShortcut:
    def test_records_with_the_message_as_its_source(self, store: Container,
                                                    fake: FakeSlack) -> None:
        with serving(store, fake) as bot:
            reply = bot.interact(message_shortcut(
                user=EDITOR, text="Good news: the IWC JWP was endorsed by IWC66",
                ts="1700000000.000600", response_url=fake.response_url("s")))
            assert reply.status == 200
            view = fake.wait_for("views.open")[0].params["view"]
            origin = json.loads(view["private_metadata"])
            assert (origin["channel"], origin["message_ts"]) == (CHANNEL,
                                                                 "1700000000.000600")
            # The message names the IWC JWP clearly, so the form starts with it chosen.
            assert [b["block_id"] for b in view["blocks"]] == ["item", "what"]
            assert view["blocks"][0]["element"]["initial_option"]["value"] == "iwc-jwp"
            bot.interact(block_action({"action_id": "what", "block_id": "what", "type":
                                       "static_select", "selected_option": {
                                           "value": "endorsed"}},
                                      user=EDITOR, response_url="",
                                      view=fill(view, {"item": "iwc-jwp",
                                                       "what": "endorsed"})))
            view = latest_view(fake, "views.update")
            reply = bot.interact(view_submission(endorsed_by_iwc66(view), user=EDITOR))
            assert reply.status == 200 and not reply.body
            bot.drain()
        event = store.tracker.item("iwc-jwp").history[-1]
        assert event.source.chat == f"{TEAM}/{CHANNEL}/1700000000.000600"


def test_a_submission_on_an_item_with_a_gap_shows_the_gap_and_records_nothing(
        store: Container, fake: FakeSlack) -> None:
    from tests.audit.helpers import record_with_gap

    missing = record_with_gap(store)
    head = store.tracker.head()
    with serving(store, fake) as bot:
        reply = bot.interact(view_submission(endorsed_by_iwc66(endorsement_form(bot, fake)),
                                             user=EDITOR))
        bot.drain()
    assert reply.status == 200 and reply.json()["response_action"] == "errors"
    [said] = reply.json()["errors"].values()
    assert said.startswith("the history of “IWC–CMS Joint Work Plan” (iwc-jwp) has a gap "
                           f"at version {missing}: no event is stored there")
    assert "cmsbot audit repair-gap iwc-jwp" in said
    assert store.tracker.head() == head
    assert fake.of("chat.postMessage") == []

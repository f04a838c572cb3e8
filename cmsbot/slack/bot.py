"""The bot's use cases in plain types, between Slack (or the console) and the application.

Each Slack listener, and each line typed into `cmsbot chat`, makes one call here: ask a
question, follow a button, open or grow the record form, submit it. Nothing here knows
HTTP or Bolt; nothing here holds a domain rule or SQL of its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from cmsbot import sources
from cmsbot.app.auth import NotAuthorizedError, Principal
from cmsbot.app.recording import ConcurrentWriteError, Recorded, Recorder
from cmsbot.choices import RecordChoices
from cmsbot.db import STORE_ERRORS as STORE_ERRORS  # re-exported for the listeners
from cmsbot.digests.channels import ChannelCommands, Listing
from cmsbot.digests.words import channel_of, read_subscribe
from cmsbot.lag import lag_note
from cmsbot.questions.answer import Asked, Match, UnreadableAskedError
from cmsbot.questions.engine import QuestionEngine
from cmsbot.readmodel import items
from cmsbot.readmodel.reader import ReadModel
from cmsbot.slack import blocks, forms, home, values, words
from cmsbot.slack.auth import Editors
from cmsbot.slack.blocks import Message
from cmsbot.slack.deliveries import Deliveries, create_table
from domain.catalogue import EventSpec, lookup, specs_for
from domain.errors import DomainError
from domain.provenance import Source
from domain.state import Kind

log = logging.getLogger(__name__)

REFUSAL = ("Sorry, only Secretariat editors may record updates. If you should be one, ask "
           "for your Slack account to be added to CMSBOT_EDITORS or the editors' user group.")
STORE_DOWN = ("I can't reach the Secretariat's records just now, so I can't answer. "
              "Please try again in a minute.")
STORE_DOWN_RECORDING = ("I can't reach the Secretariat's records just now, so nothing can "
                        "be recorded. Please try again in a minute.")
UNREADABLE_BUTTON = "I can't read that button's question; please ask me again in words."


@dataclass(frozen=True)
class Submitted:
    """What became of a submitted form: recorded, refused, or errors to show on it."""

    recorded: Recorded | None = None
    source: Source | None = None
    refusal: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    ref: str | None = None  # the submission's ref, once recorded

    def confirmation(self) -> Message:
        if self.recorded is None:
            return blocks.notice(self.refusal or "Nothing was recorded.")
        cited = f" Source: {self.source.cite()}." if self.source else ""
        return blocks.notice(f"Recorded on {self.recorded.title} (event "
                             f"{self.recorded.version}): {self.recorded.summary}.{cited}")


class Application(Protocol):
    """What the bot calls: the question engine and the read model it reads, the recorder
    (and the catch-up a writer runs after it), a channel's verbs, the record form's
    choices, and the database its record of deliveries is kept in."""

    engine: Engine
    questions: QuestionEngine
    readmodel: ReadModel
    recorder: Recorder
    channels: ChannelCommands
    choices: RecordChoices

    def catch_up(self) -> int: ...


class Bot:
    """Answers and records for Slack users; `container` is called when the store is needed,
    so that the bot can start (and say so on /healthz) while the store is down."""

    def __init__(self, container: Callable[[], Application], editors: Editors) -> None:
        self.container, self.editors = container, editors
        self._deliveries: Deliveries | None = None

    # Deliveries ----------------------------------------------------------------------

    def first_delivery(self, key: str, *, retry_num: int = 0,
                       retry_reason: str | None = None) -> bool:
        """Whether this delivery (or message) is seen for the first time; claims it."""
        engine = self.container().engine  # a new one after the database restarted
        if self._deliveries is None or self._deliveries.engine is not engine:
            create_table(engine)
            self._deliveries = Deliveries(engine)
        return self._deliveries.claim(key, retry_num=retry_num, retry_reason=retry_reason)

    # Questions -----------------------------------------------------------------------

    def ask(self, text: str, *, shareable: bool = False, as_at: date | None = None,
            known_at: datetime | None = None) -> Message:
        """Answer what a person typed (its times, in words, read by the question engine,
        as every surface's are), at `as_at` and `known_at` when given (they win over the
        words); with `shareable`, the answer offers to be shared."""
        question = words.question(text)
        return self._answer(words.Question(question.text, as_at, known_at),
                            shareable=shareable)

    def follow(self, value: str, *, share: bool = False) -> Message:
        """Answer the question a button carries (a near tie's choice, "Share", or "Show
        more" and the page it asks for), as it was read when the button was made."""
        try:
            question, shareable, page = values.unpack(value)
        except UnreadableAskedError:
            return blocks.notice(UNREADABLE_BUTTON)
        return self._answer(question, shareable=shareable and not share, page=page)

    def help(self) -> Message:
        return self.ask("help")

    def list_items(self, words: str) -> Message:
        """`/cms list [kind or partner]`: the items now, with their keys; other words
        ("list agreements awaiting endorsement") are asked as a question."""
        try:
            reader = self.container().readmodel
            with reader.reading() as conn:
                which = items.read_filter(reader, conn, words)
                rows = items.list_items(reader, conn, which)
        except items.UnknownListFilterError:
            return self.ask(f"list {words}", shareable=True)
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return blocks.notice(STORE_DOWN)
        if which.kind is not None:
            title = f"{which.kind.capitalize()}s: {len(rows)}"
        elif which.partner_label is not None:
            title = f"Items with {which.partner_label}: {len(rows)}"
        else:
            title = f"Items: {len(rows)}"
        return blocks.item_list(title, [(f"`{r.key}`", _listed(r)) for r in rows],
                                "The keys are what `/cms record` and history files take.")

    def _answer(self, question: words.Question | Asked, *, shareable: bool,
                page: int = 1) -> Message:
        try:
            container = self.container()
            # Only the page shown is read (a long list's other entries are only counted).
            if isinstance(question, Asked):
                answer = container.questions.ask(question, page=page, size=blocks.PAGE_SIZE)
            else:
                answer = container.questions.answer(question.text, as_at=question.as_at,
                                                    known_at=question.known_at, page=page,
                                                    size=blocks.PAGE_SIZE)
        except UnreadableAskedError:
            return blocks.notice(UNREADABLE_BUTTON)
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return blocks.notice(STORE_DOWN)
        asked = answer.asked
        share = None
        if shareable and asked is not None and answer.intent not in (
                "help", "clarify", "not_found"):
            share = values.pack(asked, shareable=True)
        return blocks.answer_message(
            answer, today=container.readmodel.today(), share=share, page=page,
            ask_again=values.ask_again(asked, shareable) if asked else None,
            more=values.more(asked, shareable) if asked else None)

    # The Home tab ----------------------------------------------------------------------

    def home(self, user_id: str, channel: str | None) -> dict[str, Any]:
        """The person's Home tab; `channel` is their direct-message channel with cmsbot,
        whose follows are theirs (None: nothing followed is shown)."""
        try:
            container = self.container()
            content = home.read(container.readmodel, container.questions, container.channels,
                                channel, may_record=self.may_record(user_id))
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return home.unavailable(STORE_DOWN)
        return home.home_view(content)

    # Channels: digests and follows ----------------------------------------------------

    def channel_command(self, verb: str, rest: str, *, user_id: str, channel_id: str,
                        ) -> Message:
        """`/cms subscribe|unsubscribe|subscriptions|follow|unfollow …` for a channel."""
        target, words_left = channel_of(rest.split())
        channel = target or channel_id
        here = channel == channel_id
        try:
            principal = Principal(f"slack:{user_id}", self.editors.may_record(user_id))
            channels = self.container().channels
            if verb == "subscribe":
                schedule, changed = channels.subscribe(
                    principal, channel, read_subscribe(rest).schedule, in_channel=here)
                said = "now gets" if changed else "already gets"
                return blocks.notice(f"<#{channel}> {said} a {schedule.describe()}.")
            if verb == "unsubscribe":
                channels.unsubscribe(principal, channel, in_channel=here)
                return blocks.notice(f"<#{channel}> gets no more digests.")
            if verb == "subscriptions":
                return _listing(channels.listing(channel))
            what = " ".join(words_left)
            if verb == "follow":
                label = channels.follow(principal, channel, what, in_channel=here)
                return blocks.notice(f"<#{channel}> will get a thread for every update on "
                                     f"{label}.")
            label = channels.unfollow(principal, channel, what, in_channel=here)
            return blocks.notice(f"<#{channel}> no longer follows {label}.")
        except NotAuthorizedError as error:
            return blocks.notice(str(error))
        except DomainError as error:
            return blocks.notice(f"Nothing was changed: {error}")
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return blocks.notice(STORE_DOWN)

    # Recording -----------------------------------------------------------------------

    def may_record(self, user_id: str) -> bool:
        return self.editors.may_record(user_id)

    def record_form(self, origin: forms.Origin) -> dict[str, Any]:
        """The form as first opened: the item to choose (pre-chosen when the message that
        it was opened from names one clearly)."""
        if origin.item is None and origin.message_text:
            match = self._named_item(origin.message_text)
            if match is not None:
                origin = forms.Origin(origin.team, origin.channel, origin.message_ts,
                                      origin.message_text, match.key, match.kind)
        return self._form(origin)

    def grown_form(self, view: dict[str, Any]) -> dict[str, Any]:
        """The form after an item or an event type was chosen in it."""
        origin = forms.Origin.load(view.get("private_metadata"))
        form = forms.read_form(view)
        kind = origin.kind
        if form.item != origin.item:
            kind = self.container().choices.kind_of(form.item or "")
        origin = forms.Origin(origin.team, origin.channel, origin.message_ts,
                              origin.message_text, form.item, kind,
                              form.what if form.item == origin.item else None)
        return self._form(origin)

    def submit(self, user_id: str, view: dict[str, Any]) -> Submitted:
        """Record what a submitted form says, as the Slack user; the same submission
        (same form, same values) records once."""
        principal = self.editors.principal(user_id)
        if not principal.may_record:
            return Submitted(refusal=REFUSAL)
        origin = forms.Origin.load(view.get("private_metadata"))
        form = forms.read_form(view)
        if not form.item:
            return Submitted(errors={forms.ITEM: "Choose the item."})
        if not form.what:
            return Submitted(errors={forms.WHAT: "Choose what happened."})
        if not form.occurred:
            return Submitted(errors={forms.OCCURRED: "Say when it happened."})
        ref = _submission_ref(view)
        try:
            container = self.container()
            source = sources.slack_form(form.source, team=origin.team,
                                        channel=origin.channel, message_ts=origin.message_ts)
            recorded = container.recorder.record(
                principal, key=form.item, what=form.what, fields=form.fields,
                occurred=form.occurred, source=source, note=form.note, ref=ref)
        except NotAuthorizedError as error:
            return Submitted(refusal=str(error))
        except DomainError as error:
            return Submitted(errors={forms.error_block(error, view): str(error)[:2000]})
        except ConcurrentWriteError as error:
            return Submitted(errors={forms.WHAT: f"Not recorded: {error}"})
        except STORE_ERRORS as error:
            log.error("the store did not record: %s", type(error).__name__)
            return Submitted(errors={forms.WHAT: f"Not recorded. {STORE_DOWN_RECORDING}"})
        return Submitted(recorded=recorded, source=source, ref=ref)

    def settle(self, submitted: Submitted) -> bool:
        """After a recorded form was answered (Slack waits 3 s for the answer, so this is
        not done before it): bring the views up to date, and claim the confirmation.
        Returns whether to send it: False when the same submission was confirmed before."""
        if submitted.recorded is None or submitted.ref is None:
            return False
        try:
            self.container().catch_up()
        except STORE_ERRORS as error:  # the projector or the next write catches them up
            log.error("recorded, but the views did not catch up: %s", type(error).__name__)
        try:
            return self.first_delivery(f"recorded:{submitted.ref}")
        except STORE_ERRORS as error:  # a confirmation twice beats none
            log.error("recorded, but not claimed: %s", type(error).__name__)
            return True

    def _form(self, origin: forms.Origin) -> dict[str, Any]:
        items = self._items()
        specs: list[EventSpec] | None = None
        spec: EventSpec | None = None
        if origin.item and origin.kind:
            kind = Kind(origin.kind)
            specs = [s for s in specs_for(kind) if forms.editable(s)]
            if origin.what:
                try:
                    spec = lookup(kind, origin.what)
                except DomainError:
                    spec = None
        return forms.record_view(origin, items, specs=specs, spec=spec,
                                 partners=self._partners() if spec else None)

    def _items(self) -> list[forms.Choice]:
        return [forms.Choice(c.key, c.label, _KIND_GROUPS.get(c.kind or "", c.kind or ""))
                for c in self.container().choices.items()]

    def options(self, typed: str) -> list[forms.Choice]:
        """Items whose title or key holds what was typed (for a long item list)."""
        wanted = typed.lower().strip()
        return [c for c in self._items()
                if wanted in c.label.lower() or wanted in c.value][: forms.MAX_OPTIONS]

    def _partners(self) -> list[forms.Choice]:
        return [forms.Choice(c.key, c.label) for c in self.container().choices.partners()]

    def _named_item(self, text: str) -> Match | None:
        question = words.question(text)
        answer = self.container().questions.answer(question.text)
        if answer.intent in ("status", "history") and len(answer.matches) == 1:
            return answer.matches[0]
        return None


_KIND_GROUPS = {"agreement": "Agreements", "meeting": "Meetings", "post": "Posts",
                "consultation": "Consultations", "engagement": "Engagements"}


def _listed(row: items.ItemRow) -> str:
    partners = f", with {', '.join(row.partners)}" if row.partners else ""
    return f"{row.title} ({row.kind}{partners}): {row.status}"


def _listing(listing: Listing) -> Message:
    lines = [f"Digest: {listing.schedule.describe()}" if listing.schedule else "Digest: none"]
    lines += [f"Follows the {kind} {key}" for kind, key in listing.follows]
    note = lag_note(listing.views_behind)
    if note:
        lines += ["", note]
    return blocks.notice("\n".join(lines))


def _submission_ref(view: dict[str, Any]) -> str:
    """The same form submitted with the same values gets the same ref, so records once."""
    values = json.dumps(view.get("state", {}).get("values", {}), sort_keys=True)
    digest = hashlib.sha256(values.encode()).hexdigest()[:20]
    return f"slack:{view.get('id', '')}:{digest}"

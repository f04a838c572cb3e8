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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from cmsbot.app.auth import NotAuthorizedError, Principal
from cmsbot.app.recording import ConcurrentWriteError, Recorded
from cmsbot.bootstrap import Container
from cmsbot.db import STORE_ERRORS as STORE_ERRORS  # re-exported for the listeners
from cmsbot.digests.service import Subscriptions
from cmsbot.digests.words import channel_of, read_subscribe
from cmsbot.questions.answer import Answer, Match
from cmsbot.questions.parse import parse
from cmsbot.slack import blocks, forms, words
from cmsbot.slack.auth import Editors
from cmsbot.slack.blocks import Message
from cmsbot.slack.deliveries import Deliveries, create_table
from domain.catalogue import EventSpec, lookup, specs_for
from domain.channels import Schedule
from domain.errors import DomainError
from domain.provenance import Source
from domain.state import Kind
from projections import queries

log = logging.getLogger(__name__)

REFUSAL = ("Sorry, only Secretariat editors may record updates. If you should be one, ask "
           "for your Slack account to be added to CMSBOT_EDITORS or the editors' user group.")
STORE_DOWN = ("I can't reach the Secretariat's records just now, so I can't answer. "
              "Please try again in a minute.")
STORE_DOWN_RECORDING = ("I can't reach the Secretariat's records just now, so nothing can "
                        "be recorded. Please try again in a minute.")
_QUESTION_IN_VALUE = 1500  # a button's value holds at most 2,000 characters


@dataclass(frozen=True)
class Submitted:
    """What became of a submitted form: recorded, refused, or errors to show on it."""

    recorded: Recorded | None = None
    source: Source | None = None
    refusal: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    confirm: bool = False  # False when the same submission was confirmed before

    def confirmation(self) -> Message:
        if self.recorded is None:
            return blocks.notice(self.refusal or "Nothing was recorded.")
        cited = f" Source: {self.source.cite()}." if self.source else ""
        return blocks.notice(f"Recorded on {self.recorded.title} (event "
                             f"{self.recorded.version}): {self.recorded.summary}.{cited}")


class Bot:
    """Answers and records for Slack users; `container` is called when the store is needed,
    so that the bot can start (and say so on /healthz) while the store is down."""

    def __init__(self, container: Callable[[], Container], editors: Editors) -> None:
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

    def ask(self, text: str, *, shareable: bool = False) -> Message:
        """Answer what a person typed; with `shareable`, the answer offers to be shared."""
        try:
            question = words.question(text)
        except words.OptionError as error:
            return blocks.notice(str(error))
        return self._answer(question, shareable=shareable)

    def follow(self, value: str, *, share: bool = False) -> Message:
        """Answer the question a button carries (a near tie's choice, or "Share")."""
        question, shareable = _unpack(value)
        return self._answer(question, shareable=shareable and not share)

    def help(self) -> Message:
        return self.ask("help")

    def _answer(self, question: words.Question, *, shareable: bool) -> Message:
        try:
            container = self.container()
            answer = container.questions.answer(question.text, as_at=question.as_at,
                                                known_at=question.known_at)
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return blocks.notice(STORE_DOWN)
        today = container.questions.today()
        share = None
        if shareable and answer.intent not in ("help", "clarify", "not_found"):
            share = _pack(question, shareable=True)
        return blocks.answer_message(answer, today=today, share=share,
                                     ask_again=self._ask_again(question, answer, today,
                                                               shareable))

    @staticmethod
    def _ask_again(question: words.Question, answer: Answer, today: date,
                   shareable: bool) -> Callable[[Match], str]:
        """A candidate's button asks the same kind of question about that item, by key."""
        intent = parse(question.text, question.as_at or today).intent
        phrase = {"history": "history of {}", "submissions": "who submitted on {}"}.get(
            intent, "status of {}")

        def value(match: Match) -> str:
            again = words.Question(phrase.format(match.key), question.as_at,
                                   question.known_at)
            return _pack(again, shareable=shareable)

        return value

    # Channels: digests and follows ----------------------------------------------------

    def channel_command(self, verb: str, rest: str, *, user_id: str, channel_id: str,
                        ) -> Message:
        """`/cms subscribe|unsubscribe|subscriptions|follow|unfollow …` for a channel."""
        try:
            container = self.container()
            service = Subscriptions(container.tracker, container.questions)
            principal = Principal(f"slack:{user_id}", self.editors.may_record(user_id))
            target, words_left = channel_of(rest.split())
            channel = target or channel_id
            here = channel == channel_id
            if verb == "subscribe":
                request = read_subscribe(rest)
                schedule = request.schedule
                if schedule.filter_kind == "partner":
                    schedule = self._filter_target(service, schedule)
                changed = service.subscribe(principal, channel, schedule, in_channel=here)
                said = "now gets" if changed else "already gets"
                return blocks.notice(f"<#{channel}> {said} a {schedule.describe()}.")
            if verb == "unsubscribe":
                service.unsubscribe(principal, channel, in_channel=here)
                return blocks.notice(f"<#{channel}> gets no more digests.")
            if verb == "subscriptions":
                container.catch_up()
                current, follows = service.listing(channel)
                lines = [f"Digest: {current.describe()}" if current else "Digest: none"]
                lines += [f"Follows the {kind} {key}" for kind, key in follows]
                return blocks.notice("\n".join(lines))
            what = " ".join(words_left)
            if verb == "follow":
                _, _, label = service.follow(principal, channel, what, in_channel=here)
                return blocks.notice(f"<#{channel}> will get a thread for every update on "
                                     f"{label}.")
            _, _, label = service.unfollow(principal, channel, what, in_channel=here)
            return blocks.notice(f"<#{channel}> no longer follows {label}.")
        except NotAuthorizedError as error:
            return blocks.notice(str(error))
        except DomainError as error:
            return blocks.notice(f"Nothing was changed: {error}")
        except STORE_ERRORS as error:
            log.error("the store did not answer: %s", type(error).__name__)
            return blocks.notice(STORE_DOWN)

    @staticmethod
    def _filter_target(service: Subscriptions, schedule: Schedule) -> Schedule:
        """A bare filter names a partner if one is called so, else an item."""
        kind, key, _ = service.target(schedule.filter_value or "")
        return replace(schedule, filter_kind=kind, filter_value=key)

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
            kind = self._kinds().get(form.item or "")
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
            source = _source(form, origin)
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
        # Recorded: whatever fails from here on, the person is told so.
        try:
            container.catch_up()
        except STORE_ERRORS as error:  # the views catch up on the next read
            log.error("recorded, but the views did not catch up: %s", type(error).__name__)
        try:
            confirm = self.first_delivery(f"recorded:{ref}")
        except STORE_ERRORS as error:  # a confirmation twice beats none
            log.error("recorded, but not claimed: %s", type(error).__name__)
            confirm = True
        return Submitted(recorded=recorded, source=source, confirm=confirm)

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
        with self.container().engine.connect() as conn:
            rows = queries.index_rows(conn)
        return [forms.Choice(r.key, r.title, _KIND_GROUPS.get(r.kind, r.kind))
                for r in sorted(rows, key=lambda r: (r.kind, r.title))]

    def _kinds(self) -> dict[str, str]:
        with self.container().engine.connect() as conn:
            return {r.key: r.kind for r in queries.index_rows(conn)}

    def options(self, typed: str) -> list[forms.Choice]:
        """Items whose title or key holds what was typed (for a long item list)."""
        wanted = typed.lower().strip()
        return [c for c in self._items()
                if wanted in c.label.lower() or wanted in c.value][: forms.MAX_OPTIONS]

    def _partners(self) -> list[forms.Choice]:
        with self.container().engine.connect() as conn:
            rows = queries.partner_rows(conn)
        return [forms.Choice(r.key, f"{r.acronym} ({r.name})" if r.acronym and
                             r.acronym != r.name else r.name) for r in rows]

    def _named_item(self, text: str) -> Match | None:
        question = words.question(text)
        answer = self.container().questions.answer(question.text)
        if answer.intent in ("status", "history") and len(answer.matches) == 1:
            return answer.matches[0]
        return None


_KIND_GROUPS = {"agreement": "Agreements", "meeting": "Meetings", "post": "Posts",
                "consultation": "Consultations", "engagement": "Engagements"}


def _pack(question: words.Question, *, shareable: bool) -> str:
    return json.dumps({"q": question.text[:_QUESTION_IN_VALUE],
                       "a": question.as_at.isoformat() if question.as_at else None,
                       "k": question.known_at.isoformat() if question.known_at else None,
                       "s": shareable}, ensure_ascii=False)


def _unpack(value: str) -> tuple[words.Question, bool]:
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return words.Question(str(value)), False
    try:
        as_at = date.fromisoformat(data["a"]) if data.get("a") else None
        known_at = datetime.fromisoformat(data["k"]) if data.get("k") else None
    except (TypeError, ValueError):
        as_at = known_at = None
    return words.Question(str(data.get("q") or ""), as_at, known_at), bool(data.get("s"))


def _source(form: forms.RecordForm, origin: forms.Origin) -> Source:
    """Where the fact came from: what the form says, else the message it was opened
    from (team/channel/ts), else the channel."""
    text = (form.source or "").strip()
    if text.startswith(("http://", "https://")):
        return Source(chat=text)
    if text:
        document, _, paragraph = text.partition("¶")
        return Source(document=document.strip() or text, paragraph=paragraph.strip() or None)
    if origin.channel and origin.message_ts:
        return Source(chat=f"{origin.team}/{origin.channel}/{origin.message_ts}")
    return Source(chat="/".join(p for p in (origin.team, origin.channel) if p) or "slack")


def _submission_ref(view: dict[str, Any]) -> str:
    """The same form submitted with the same values gets the same ref, so records once."""
    values = json.dumps(view.get("state", {}).get("values", {}), sort_keys=True)
    digest = hashlib.sha256(values.encode()).hexdigest()[:20]
    return f"slack:{view.get('id', '')}:{digest}"

"""The "Record update" modal: its views, and reading what was submitted.

The form grows as it is filled in: choosing the item offers what can happen to an item of
its kind (the domain's catalogue); choosing what happened adds that event's own fields.
Dates are typed as the source gave them ("14 October 2015", "late November 2015",
"2016-Q3"), so their precision is what was written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.catalogue import EventSpec, FieldSpec
from domain.errors import DomainError, InvalidDateError, InvalidTextError, UnknownItemError

Block = dict[str, Any]

CALLBACK = "record_update"  # the modal's callback id
ITEM, WHAT, OCCURRED, SOURCE, NOTE = "item", "what", "occurred", "source", "note"
FIELD = "field:"  # block ids of an event's own fields: field:<name>:<type>
VALUE = "value"  # the action id of every input that is not a select
PARTNER_FIELDS = ("partner", "donor", "organisers")
LONG_FIELDS = ("summary", "outcome", "reason", "description", "changes")
MAX_OPTIONS = 100
DATE_HINT = ("As the source gave it: 14 October 2015, October 2015, late November 2015, "
             "2016-Q3, 27-29 October 2015, “2016, most probably”. The precision is kept.")


@dataclass(frozen=True)
class Choice:
    """An option of a select: what is stored, and what is shown."""

    value: str
    label: str
    group: str = ""


@dataclass(frozen=True)
class Origin:
    """Where the form was opened, carried in the view's private metadata."""

    team: str
    channel: str | None = None
    message_ts: str | None = None
    message_text: str | None = None
    item: str | None = None
    kind: str | None = None
    what: str | None = None

    def dump(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        text = json.dumps(data, ensure_ascii=False)
        while len(text) > 3000 and data.get("message_text"):  # Slack's limit
            words = str(data["message_text"])
            data["message_text"] = words[: max(0, len(words) - (len(text) - 3000) - 10)]
            text = json.dumps(data, ensure_ascii=False)
        return text

    @classmethod
    def load(cls, text: str | None) -> Origin:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        known = {name: str(value) for name, value in data.items()
                 if name in cls.__dataclass_fields__ and value is not None}
        known.setdefault("team", "")
        return cls(**known)


@dataclass(frozen=True)
class RecordForm:
    """What a submitted form says, in plain types."""

    item: str | None
    what: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    occurred: str | None = None
    source: str | None = None
    note: str | None = None


def record_view(origin: Origin, items: list[Choice], *, specs: list[EventSpec] | None = None,
                spec: EventSpec | None = None, partners: list[Choice] | None = None,
                ) -> Block:
    """The modal as far as it is filled in: the item, then what happened, then its fields."""
    chosen_item = next((c for c in items if c.value == origin.item), None)
    blocks: list[Block] = [_input(ITEM, "Item", _select(ITEM, items, chosen_item,
                                                        "Choose the item"),
                                  dispatch=True)]
    if specs is not None:
        whats = [Choice(s.name, s.label) for s in specs if editable(s)]
        chosen = next((c for c in whats if spec is not None and c.value == spec.name), None)
        blocks.append(_input(WHAT, "What happened", _select(WHAT, whats, chosen,
                                                            "Choose what happened"),
                             dispatch=True))
    if spec is not None:
        blocks += [_field_input(f, partners or []) for f in spec.fields]
        blocks.append(_input(OCCURRED, "When it happened", _text(), hint=DATE_HINT))
        source_hint = ("Leave empty to cite the message this form was opened from."
                       if origin.message_ts else
                       "A Slack message link, or a document and paragraph "
                       "(UNEP/CMS/StC45/Doc.12 ¶4). Leave empty to cite this channel.")
        blocks.append(_input(SOURCE, "Source", _text(), hint=source_hint, optional=True))
        blocks.append(_input(NOTE, "Note", _text(multiline=True), optional=True))
    view: Block = {
        "type": "modal", "callback_id": CALLBACK, "private_metadata": origin.dump(),
        "title": {"type": "plain_text", "text": "Record update"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
    if spec is not None:
        view["submit"] = {"type": "plain_text", "text": "Record"}
    return view


def refusal_view(text: str) -> Block:
    """What replaces the form when the person may not record."""
    return {"type": "modal", "title": {"type": "plain_text", "text": "Record update"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def editable(spec: EventSpec) -> bool:
    """Whether a form can hold the event's fields (a correction's mapping cannot)."""
    return all(f.type != "dict" for f in spec.fields)


def read_form(view: Mapping[str, Any]) -> RecordForm:
    """The submitted values, typed by their inputs: lists split by line, numbers as ints."""
    values: Mapping[str, Any] = view.get("state", {}).get("values", {}) or {}
    fields: dict[str, Any] = {}
    for block_id, actions in values.items():
        if block_id.startswith(FIELD):
            _, name, kind = [*block_id.split(":"), "", ""][:3]
            value = _value(next(iter(actions.values()), {}), kind)
            if value not in (None, "", []):
                fields[name] = value

    def one(block_id: str) -> str | None:
        state: Mapping[str, Any] = next(iter(values.get(block_id, {}).values()), {})
        value = _value(state, "str")
        return value if isinstance(value, str) and value else None

    return RecordForm(item=one(ITEM), what=one(WHAT), fields=fields, occurred=one(OCCURRED),
                      source=one(SOURCE), note=one(NOTE))


def error_block(error: DomainError, view: Mapping[str, Any]) -> str:
    """The block of the form an error is about (Slack shows the message under it)."""
    present = [b.get("block_id", "") for b in view.get("blocks", []) if b.get("type") == "input"]
    message = str(error)
    wanted: list[str] = []
    texts = None  # the field of unstorable text: "note", "source.chat", "topics[1]"…
    if isinstance(error, InvalidTextError):
        texts = error.field.split(".")[0].split("[")[0]
        wanted += [b for b in (NOTE, SOURCE, OCCURRED) if b == texts]
    for block_id in present:
        if block_id.startswith(FIELD):
            name = block_id.split(":")[1]
            if name == texts or (isinstance(error, InvalidDateError)
                                 and message.startswith(f"{name}:")):
                wanted.insert(0, block_id)
            elif f"'{name}'" in message or (name in PARTNER_FIELDS and "partner" in message):
                wanted.append(block_id)
    if isinstance(error, InvalidDateError):
        wanted.append(OCCURRED)
    if isinstance(error, UnknownItemError) and "partner" not in message:
        wanted.append(ITEM)
    wanted += [WHAT, ITEM]
    return next((b for b in wanted if b in present), present[0] if present else ITEM)


def _value(state: Mapping[str, Any], kind: str) -> Any:
    if "selected_options" in state:
        chosen = [o.get("value") for o in state.get("selected_options") or []]
        return bool(chosen) if kind == "bool" else chosen
    if "selected_option" in state:
        option = state.get("selected_option") or {}
        return option.get("value")
    value = state.get("value")
    if not isinstance(value, str):
        return value
    value = value.strip()
    if kind == "int" and value:
        try:
            return int(value)
        except ValueError:
            return value  # the catalogue names the field in its error
    if kind == "list":
        return [v.strip() for v in value.splitlines() if v.strip()]
    return value


def _input(block_id: str, label: str, element: Block, *, hint: str | None = None,
           optional: bool = False, dispatch: bool = False) -> Block:
    block: Block = {"type": "input", "block_id": block_id,
                    "label": {"type": "plain_text", "text": label[:2000]},
                    "element": element, "optional": optional}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint[:2000]}
    if dispatch:
        block["dispatch_action"] = True
    return block


def _select(action_id: str, choices: list[Choice], chosen: Choice | None,
            placeholder: str) -> Block:
    element: Block = {"type": "static_select", "action_id": action_id,
                      "placeholder": {"type": "plain_text", "text": placeholder}}
    if len(choices) > MAX_OPTIONS:
        # Slack shows at most 100 options: search the rest as the person types.
        element.update(type="external_select", min_query_length=1)
    elif any(c.group for c in choices):
        groups: dict[str, list[Block]] = {}
        for choice in choices:
            groups.setdefault(choice.group, []).append(option(choice))
        element["option_groups"] = [{"label": {"type": "plain_text", "text": g[:75]},
                                     "options": o} for g, o in groups.items()]
    else:
        element["options"] = [option(c) for c in choices]
    if chosen is not None:
        element["initial_option"] = option(chosen)
    return element


def option(choice: Choice) -> Block:
    return {"text": {"type": "plain_text", "text": choice.label[:75]},
            "value": choice.value[:150]}


def _text(*, multiline: bool = False) -> Block:
    return {"type": "plain_text_input", "action_id": VALUE, "multiline": multiline}


def _field_input(spec: FieldSpec, partners: list[Choice]) -> Block:
    block_id = f"{FIELD}{spec.name}:{spec.type}"
    label = spec.name.replace("_", " ").capitalize()
    optional = not spec.required
    if spec.name in PARTNER_FIELDS and partners and len(partners) <= MAX_OPTIONS:
        many = spec.type == "list"
        element: Block = {"type": "multi_static_select" if many else "static_select",
                          "action_id": VALUE, "options": [option(p) for p in partners],
                          "placeholder": {"type": "plain_text", "text": "Choose a partner"}}
        return _input(block_id, label, element, optional=optional)
    if spec.type == "bool":
        element = {"type": "checkboxes", "action_id": VALUE, "options": [
            {"text": {"type": "plain_text", "text": "Yes"}, "value": "yes"}]}
        return _input(block_id, label, element, optional=True)
    if spec.type == "int":
        element = {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": False}
        return _input(block_id, label, element, optional=optional)
    hint = {"date": DATE_HINT, "list": "One per line."}.get(spec.type)
    if spec.name in PARTNER_FIELDS:
        hint = "Partner keys, e.g. cites" + (", one per line." if spec.type == "list" else ".")
    element = _text(multiline=spec.type == "list" or spec.name in LONG_FIELDS)
    return _input(block_id, label, element, hint=hint, optional=optional)

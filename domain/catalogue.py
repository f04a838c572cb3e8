"""The catalogue of what can happen to each kind of item, for imports and chat.

A history file or a Slack form names an event by a short phrase ("endorsed", "submission
received"); the catalogue says which command records it, which fields it takes and of
what type, and turns raw values into typed ones with a clear error when they are wrong.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import events as ev
from domain.dates import PartialDate
from domain.errors import InvalidDateError, InvalidFieldError, UnknownEventTypeError
from domain.limits import MAX_LIST, checked_value, checked_whole, shown, within_length
from domain.state import Kind

_PROVENANCE = {"originator_id", "originator_version", "timestamp", "occurred", "actor",
               "source", "note", "ref"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "str", "date", "list", "bool", "int", "dict"
    required: bool


@dataclass(frozen=True)
class EventSpec:
    """One thing that can happen to an item of a kind, and how to record it."""

    name: str
    kind: Kind | None  # None: every kind
    command: str
    event_class: type[ev.ItemEvent]
    fields: tuple[FieldSpec, ...]
    label: str
    # Field names a history file or form may also write, and the field each stands for
    # (a meeting's `rescheduled` takes `date`, as `postponed` does, for its `dates`).
    renames: tuple[tuple[str, str], ...] = ()
    note_required: bool = False  # `noted`: the note is what happened

    @functools.cached_property
    def field_names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.fields)

    def coerce(self, raw: dict[str, Any], *, today: date | None = None) -> dict[str, Any]:
        """Typed keyword arguments for the command, or InvalidFieldError naming the field.
        Given `today`, a date more than HORIZON_YEARS after it is refused."""
        if self.renames:
            raw = {dict(self.renames).get(name, name): value for name, value in raw.items()}
        known = self.field_names
        if not known.issuperset(raw):
            unknown = sorted(map(str, set(raw) - known))
            raise InvalidFieldError(
                f"'{self.name}' has no field {', '.join(shown(k, 40) for k in unknown[:5])}"
                f"{' …' if len(unknown) > 5 else ''}; "
                f"its fields are {', '.join(sorted(known)) or 'none'}")
        values: dict[str, Any] = {}
        for spec in self.fields:
            value = raw.get(spec.name)
            if value is None or value == "" or value == []:
                if spec.required:
                    raise InvalidFieldError(f"'{self.name}' needs the field '{spec.name}'")
                continue
            values[spec.name] = coerce_value(spec, value, today=today)
        return values


def coerce_value(spec: FieldSpec, value: Any, *, today: date | None = None) -> Any:
    """`value` as the field's type, within the bounds of domain.limits (and, given `today`,
    a date within the horizon), or a DomainError naming the field."""
    kind = spec.type
    if kind == "date":
        try:
            parsed = PartialDate.parse(value)
            return parsed if today is None else parsed.within_horizon(today)
        except InvalidDateError as error:
            raise type(error)(f"{spec.name}: {error}") from None
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidFieldError(f"'{spec.name}' must be text, not {shown(value)}")
        text = value if isinstance(value, str) else str(checked_value(value, spec.name))
        return within_length(text, spec.name).strip()
    if kind == "list":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise InvalidFieldError(f"'{spec.name}' must be a list of text, not {shown(value)}")
        if len(items) > MAX_LIST:
            raise InvalidFieldError(f"'{spec.name}' has {len(items):,} entries; a list holds "
                                    f"at most {MAX_LIST:,}")
        return [within_length(v, spec.name).strip() for v in items]
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidFieldError(f"'{spec.name}' must be true or false, not {shown(value)}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidFieldError(f"'{spec.name}' must be a whole number, not {shown(value)}")
        return checked_whole(value, spec.name)
    if not isinstance(value, dict):
        raise InvalidFieldError(f"'{spec.name}' must be a mapping, not {shown(value)}")
    return checked_value(value, spec.name)


def _field_type(annotation: str) -> tuple[str, bool]:
    optional = "None" in annotation
    base = annotation.replace("| None", "").strip()
    if base.startswith("list"):
        return "list", False
    if base.startswith("dict"):
        return "dict", not optional
    return {"PartialDate": "date", "bool": "bool", "int": "int"}.get(base, "str"), (
        not optional and base != "bool")


def _fields(event_class: type[ev.ItemEvent]) -> tuple[FieldSpec, ...]:
    specs = []
    for f in dataclasses.fields(event_class):
        if f.name in _PROVENANCE:
            continue
        type_name, required = _field_type(str(f.type))
        specs.append(FieldSpec(f.name, type_name, required))
    return tuple(specs)


def _label(event_class: type[ev.ItemEvent]) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", event_class.__name__).lower().split()
    for prefix in ("agreement", "post", "meeting", "consultation", "engagement", "event",
                   "item"):
        if words[0] == prefix and len(words) > 1:
            words = words[1:]
    return " ".join(words)


_COMMANDS: list[tuple[Kind | None, type[ev.ItemEvent], str]] = [
    (None, ev.PartnerJoined, "join_partner"),
    (None, ev.DocumentLinked, "link_document"),
    (None, ev.EventCorrected, "correct"),
    (None, ev.EventRetracted, "retract"),
    (None, ev.ItemNoted, "note"),
    (None, ev.ItemPostponed, "postpone"),
    (None, ev.OutcomeUnknown, "close_step"),
    (Kind.AGREEMENT, ev.AgreementProposed, "propose"),
    (Kind.AGREEMENT, ev.AgreementDraftingStarted, "start_drafting"),
    (Kind.AGREEMENT, ev.AgreementDrafted, "complete_draft"),
    (Kind.AGREEMENT, ev.AgreementNegotiationProgressed, "progress_negotiation"),
    (Kind.AGREEMENT, ev.AgreementSubmittedForEndorsement, "submit_for_endorsement"),
    (Kind.AGREEMENT, ev.AgreementEndorsed, "endorse"),
    (Kind.AGREEMENT, ev.AgreementSigned, "sign"),
    (Kind.AGREEMENT, ev.AgreementImplementationStarted, "start_implementation"),
    (Kind.AGREEMENT, ev.AgreementProgressReported, "report_progress"),
    (Kind.AGREEMENT, ev.AgreementExpired, "expire"),
    (Kind.AGREEMENT, ev.AgreementRenewed, "renew"),
    (Kind.AGREEMENT, ev.AgreementSuperseded, "supersede"),
    (Kind.POST, ev.PostProposed, "propose"),
    (Kind.POST, ev.PostFunded, "fund"),
    (Kind.POST, ev.PostStalled, "note_stalled"),
    (Kind.POST, ev.OfficerRecruited, "recruit"),
    (Kind.POST, ev.OfficerStarted, "start_work"),
    (Kind.POST, ev.PostVacated, "vacate"),
    (Kind.MEETING, ev.MeetingPlanned, "plan"),
    (Kind.MEETING, ev.MeetingScheduled, "schedule"),
    (Kind.MEETING, ev.MeetingRescheduled, "reschedule"),
    (Kind.MEETING, ev.MeetingRelocated, "relocate"),
    (Kind.MEETING, ev.MeetingCancelled, "cancel"),
    (Kind.MEETING, ev.MeetingHeld, "hold"),
    (Kind.CONSULTATION, ev.ConsultationAnnounced, "announce"),
    (Kind.CONSULTATION, ev.ConsultationIssued, "issue"),
    (Kind.CONSULTATION, ev.SubmissionReceived, "receive_submission"),
    (Kind.CONSULTATION, ev.ConsultationClosed, "close"),
    (Kind.CONSULTATION, ev.ConsolidationPlanned, "plan_consolidation"),
    (Kind.CONSULTATION, ev.ConsultationConsolidated, "consolidate"),
    (Kind.ENGAGEMENT, ev.EngagementStarted, "start"),
    (Kind.ENGAGEMENT, ev.EngagementProgressNoted, "note_progress"),
    (Kind.ENGAGEMENT, ev.MilestonePlanned, "plan_milestone"),
    (Kind.ENGAGEMENT, ev.MilestoneReached, "reach_milestone"),
    (Kind.ENGAGEMENT, ev.EngagementConcluded, "conclude"),
]

# A planned thing of any kind but a meeting (which has its own) can be called off.
_COMMANDS += [(kind, ev.ItemCancelled, "cancel_plan")
              for kind in (Kind.AGREEMENT, Kind.POST, Kind.CONSULTATION, Kind.ENGAGEMENT)]

# Other names an event goes by: `rescheduled` is `postponed` for every kind but meetings,
# whose own `rescheduled` comes first.
_ALSO: dict[type[ev.ItemEvent], tuple[str, ...]] = {ev.ItemPostponed: ("rescheduled",)}
_RENAMES: dict[type[ev.ItemEvent], tuple[tuple[str, str], ...]] = {
    ev.MeetingRescheduled: (("date", "dates"),)}

SPECS: tuple[EventSpec, ...] = tuple(
    EventSpec(_label(cls), kind, command, cls, _fields(cls),
              _label(cls).capitalize(), _RENAMES.get(cls, ()), cls is ev.ItemNoted)
    for kind, cls, command in _COMMANDS
)

# What a partner's `category` may be (docs/history-files.md says what each means).
PARTNER_CATEGORIES = ("convention", "cms-instrument", "cms-body", "un", "unep-office", "igo",
                      "rfmo", "ngo", "government", "secretariat", "fund", "academic",
                      "other")


@functools.lru_cache(maxsize=4096)
def _normal(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def specs_for(kind: Kind) -> list[EventSpec]:
    """What can happen to an item of this kind, shared events last."""
    return [s for s in SPECS if s.kind is kind] + [s for s in SPECS if s.kind is None]


def _index() -> dict[tuple[Kind, str], EventSpec]:
    """Every spec under both its normalised names, per kind; the first spec wins."""
    index: dict[tuple[Kind, str], EventSpec] = {}
    for kind in Kind:
        for spec in specs_for(kind):
            for name in (spec.name, spec.event_class.__name__,
                         *_ALSO.get(spec.event_class, ())):
                index.setdefault((kind, _normal(name)), spec)
    return index


_BY_NAME = _index()


def lookup(kind: Kind, name: str) -> EventSpec:
    """The spec for an event named as staff write it: "endorsed", "Submission received",
    "submission-received" or the class name "SubmissionReceived"."""
    spec = _BY_NAME.get((kind, _normal(name)))
    if spec is not None:
        return spec
    names = ", ".join(s.name for s in specs_for(kind))
    raise UnknownEventTypeError(
        f"{kind.named} has no event {shown(name)}; it can be: {names}")

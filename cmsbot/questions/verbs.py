"""Yes/no questions: "did StC44 endorse the Ramsar JWP?", "has the Panama workshop been
held?", "is the IOTC MoC signed?" — what each asks happened, to what, and by whom."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    """What a yes/no question can ask happened: the events that say it did, the kinds of
    item it happens to, and how the answer says it."""

    words: str  # a regular expression of its forms
    events: tuple[str, ...]
    kinds: frozenset[str]
    said: str  # "endorsed"
    by: str = "by"  # how it names who did it: "endorsed by StC44", "held in Panama"


_AGREEMENT, _MEETING = frozenset({"agreement"}), frozenset({"meeting"})
VERBS: dict[str, Verb] = {v.said: v for v in (
    Verb(r"endors\w*|approv\w*|adopt\w*", ("AgreementEndorsed",), _AGREEMENT, "endorsed"),
    Verb(r"sign|signs|signed", ("AgreementSigned",), _AGREEMENT, "signed"),
    Verb(r"submit\w*", ("AgreementSubmittedForEndorsement",), _AGREEMENT, "submitted"),
    Verb(r"draft|drafted", ("AgreementDrafted",), _AGREEMENT, "drafted"),
    Verb(r"expire[sd]?", ("AgreementExpired",), _AGREEMENT, "expired"),
    Verb(r"renew\w*", ("AgreementRenewed",), _AGREEMENT, "renewed"),
    Verb(r"held|hold|take place|taken place|took place|happen\w*|met|meet",
         ("MeetingHeld",), _MEETING, "held", "in"),
    Verb(r"cancel+(?:ed|s)?|called off", ("MeetingCancelled",), _MEETING, "cancelled"),
    Verb(r"postpone[sd]?|reschedule[sd]?|delayed", ("MeetingRescheduled",), _MEETING,
         "postponed"),
    Verb(r"issue[sd]?|sent out|send out", ("ConsultationIssued",),
         frozenset({"consultation"}), "issued"),
    Verb(r"close[sd]?", ("ConsultationClosed",), frozenset({"consultation"}), "closed"),
    Verb(r"recruit\w*|fill(?:ed)?|hired?|appointed", ("OfficerRecruited",),
         frozenset({"post"}), "recruited"),
    Verb(r"fund(?:ed)?", ("PostFunded",), frozenset({"post"}), "funded"),
    Verb(r"start(?:ed)?|beg[ua]n|launched",
         ("OfficerStarted", "AgreementImplementationStarted", "EngagementStarted"),
         frozenset(), "started"),
    Verb(r"conclude[sd]?|finish(?:ed)?|complete[sd]?", ("EngagementConcluded",),
         frozenset({"engagement"}), "concluded"),
)}
_FORMS = "|".join(f"(?P<v{i}>{verb.words})" for i, verb in enumerate(VERBS.values()))
_QUESTION = re.compile(
    r"^(?:did|does|do|has|have|had|is|are|was|were|will)\s+(?P<before>.*?)\s*"
    r"(?:\b(?:been|be|got|get|already|yet|actually|ever)\s+)*\b(?:" + _FORMS + r")\b"
    r"(?P<after>.*)$", re.IGNORECASE)
_BY = re.compile(r"\b(by|at|in|during)\s+(?:the\s+)?(.+)$", re.IGNORECASE)
_NOBODY = re.compile(r"^(?:we|you|they|it|cms|the secretariat|anything|something|nothing|"
                     r"anyone|there)$", re.IGNORECASE)


@dataclass(frozen=True)
class YesNo:
    """A yes/no question as read: its verb (a key of `VERBS`), who or where it names with
    its preposition ("by StC44", "in Panama"), and the words naming the item."""

    verb: str
    by: str | None
    rest: str


def asked(words: str) -> YesNo | None:
    """The yes/no question in `words` (its times already taken out), or None."""
    found = _QUESTION.match(words.strip().rstrip("?!. "))
    if not found:
        return None
    verb = next(v for i, v in enumerate(VERBS) if found.group(f"v{i}"))
    preposition = VERBS[verb].by
    before = _bare(found.group("before"))
    after = _bare(found.group("after"))
    by = None
    named = _BY.search(after)
    if named:
        by = f"{named.group(1).lower()} {_bare(named.group(2))}"
        after = _bare(after[:named.start()])
    if after:  # "did StC44 endorse the Ramsar JWP": the agent, then the item
        item = after
        if before and not _NOBODY.match(before):
            by = by or f"{preposition} {before}"
    else:  # "has the Panama workshop been held (by …)"
        item = before
    if not item or _NOBODY.match(item):
        return None
    return YesNo(verb, by, item)


def _bare(words: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", words.strip(" ,?!."), flags=re.IGNORECASE)

"""What the question engine takes and returns, in plain types.

An `Asked` is a question as read: what it asks (`Parsed`: intent, subject, dates, kinds)
and the times it is asked at. An `Answer` carries its English text, the structure behind
it (items, listed lines, sources), and the `Asked` it answers, so that a button can ask
the same again, or the same about one of its candidates, without reading words again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from cmsbot.lag import lag_note
from cmsbot.questions.parse import Parsed
from domain.errors import DomainError
from domain.provenance import Source
from domain.state import ItemState


class UnreadableAskedError(DomainError):
    """A stored question (a button's value) that is not one the engine wrote."""


@dataclass(frozen=True)
class Asked:
    """A question as the engine read it, and the times it is asked at."""

    parsed: Parsed
    as_at: date | None = None
    known_at: datetime | None = None

    @property
    def intent(self) -> str:
        """What the question asks for: status, history, upcoming, changes, submissions,
        overdue or help (an answer's own intent may differ: a near tie is "clarify")."""
        return self.parsed.intent

    def about(self, key: str) -> Asked:
        """The same question about one item, by its key (a near tie's choice): its intent,
        dates, window and kinds as asked, at the same times; only its subject (and the
        words kept for it) is the key."""
        return Asked(replace(self.parsed, subject=key, text=key), self.as_at, self.known_at)

    def to_json(self) -> dict[str, Any]:
        p = self.parsed
        return {"intent": p.intent, "subject": p.subject, "text": p.text,
                "window": [d.isoformat() for d in p.window] if p.window else None,
                "since": p.since.isoformat() if p.since else None,
                "kinds": sorted(p.kinds), "subtypes": sorted(p.subtypes),
                "flags": [name for name in _FLAGS if getattr(p, name)],
                "since_name": p.since_name, "verb": p.verb, "by": p.by,
                "at": p.at.isoformat() if p.at else None, "unread": list(p.unread),
                "as_at": self.as_at.isoformat() if self.as_at else None,
                "known_at": self.known_at.isoformat() if self.known_at else None}

    @classmethod
    def from_json(cls, data: object) -> Asked:
        """What `to_json` wrote; anything else raises `UnreadableAskedError`."""
        try:
            if not isinstance(data, dict):
                raise TypeError(type(data).__name__)
            window = data["window"]
            flags = set(_strings(data["flags"]))
            parsed = Parsed(
                _string(data["intent"]), _string(data["subject"]),
                window=((date.fromisoformat(window[0]), date.fromisoformat(window[1]))
                        if window else None),
                since=date.fromisoformat(data["since"]) if data["since"] else None,
                kinds=set(_strings(data["kinds"])), subtypes=set(_strings(data["subtypes"])),
                text=_string(data["text"]), since_name=_optional(data.get("since_name")),
                verb=_optional(data.get("verb")), by=_optional(data.get("by")),
                at=date.fromisoformat(data["at"]) if data.get("at") else None,
                unread=tuple(_strings(data.get("unread", []))),
                **{name: name in flags for name in _FLAGS})
            as_at = date.fromisoformat(data["as_at"]) if data["as_at"] else None
            known_at = datetime.fromisoformat(data["known_at"]) if data["known_at"] else None
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise UnreadableAskedError(f"not a stored question: {error}") from None
        return cls(parsed, as_at, known_at)


_FLAGS = ("listy", "partner_cue", "upcoming_cue", "plural", "past", "recorded")


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _string(value)


def _strings(values: object) -> list[str]:
    if not isinstance(values, list):
        raise TypeError(type(values).__name__)
    return [_string(v) for v in values]


@dataclass(frozen=True)
class Match:
    """An item an answer is about, as it stood at the answer's time."""

    id: str
    key: str
    kind: str
    title: str
    status: str
    status_since: str | None
    partners: list[str]
    next_date: str | None
    next_label: str | None = None
    detail: str | None = None
    late: tuple[str, ...] = ()  # what is overdue, settled or slipped, in words

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "kind": self.kind, "title": self.title,
                "status": self.status, "status_since": self.status_since,
                "partners": self.partners, "next_date": self.next_date,
                "late": list(self.late)}


@dataclass(frozen=True)
class Line:
    """One entry of a listed answer (a history entry, a calendar entry, a submission)."""

    when: str
    text: str
    item: str | None = None
    sources: tuple[Source, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"when": self.when, "text": self.text, "item": self.item,
                "sources": [_source_json(s) for s in self.sources]}


@dataclass
class Answer:
    """An answer of one kind (`intent`: status, history, upcoming, partner, list, changes,
    submissions, clarify, not_found or help), in words and in structure.

    Most answers hold every entry. An answer asked for one page of a long list (upcoming,
    overdue) holds that page's lines (from `first`), the matches and sources of their
    items, and says how many entries the whole answer has (`entries`); its text is the
    whole answer's text with only the page's entries (its heading counts them all)."""

    intent: str
    text: str
    matches: list[Match] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)
    as_at: str | None = None
    known_at: str | None = None
    views_behind: int = 0  # events of the log the views had not applied when it was read
    asked: Asked | None = None  # what it answers (None for an answer made by hand)
    first: int = 0  # where its first line stands among the whole answer's entries
    entries: int | None = None  # the whole answer's entries, when it says (a page's answer)

    @property
    def lag_note(self) -> str | None:
        """What the answer says when the views it read lag the log."""
        return lag_note(self.views_behind)

    @property
    def total(self) -> int:
        """How many entries the whole answer has: `entries` when it says, else its listed
        lines, else the items it is about."""
        if self.entries is not None:
            return self.entries
        return len(self.lines) or len(self.matches)

    @property
    def listed(self) -> int:
        """How many listed lines the whole answer has (what `cmsbot.questions.pages` cuts
        into pages)."""
        return self.entries if self.entries is not None else len(self.lines)

    def to_json(self) -> dict[str, Any]:
        """What it holds (nothing is cut here: `cmsbot.questions.pages` cuts pages), with the
        question as read: `lines` are the whole answer's entries `first`+1 onwards, of
        `total`; an answer asked for one page holds that page's lines, and the matches and
        sources of their items."""
        return {
            "intent": self.intent,
            "text": self.text,
            "total": self.total,
            "first": self.first,
            "matches": [m.to_json() for m in self.matches],
            "lines": [line.to_json() for line in self.lines],
            "candidates": [m.to_json() for m in self.candidates],
            "sources": [_source_json(s) for s in self.sources],
            "as_at": self.as_at,
            "known_at": self.known_at,
            "views_behind": self.views_behind,
            "asked": self.asked.to_json() if self.asked is not None else None,
        }


def _source_json(source: Source) -> dict[str, Any]:
    """Only what a source says: a paragraph or url is left out, never null."""
    return {**source.to_json(), "document": source.document or source.chat}


def match_of(state: ItemState, names: dict[str, str], after: Any = None,
             late: Sequence[str] = (), skip: Collection[str] = ()) -> Match:
    """The item as an answer shows it: its next date after `after` (leaving out the
    labels in `skip`, steps that have settled), and what is `late`, in words."""
    entry = state.next_entry(after, skip)
    return Match(
        id=state.id, key=state.key, kind=state.kind.value, title=state.title,
        status=state.status,
        status_since=str(state.status_since) if state.status_since else None,
        partners=[names.get(p, p) for p in state.partners],
        next_date=str(entry[1]) if entry else None,
        next_label=entry[0] if entry else None,
        detail=state.detail,
        late=tuple(late),
    )


def unique_sources(sources: list[Source]) -> list[Source]:
    return list(dict.fromkeys(sources))  # in first-seen order

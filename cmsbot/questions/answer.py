"""What a question engine returns: English text plus the structure behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmsbot.lag import lag_note
from domain.provenance import Source
from domain.state import ItemState


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

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "kind": self.kind, "title": self.title,
                "status": self.status, "status_since": self.status_since,
                "partners": self.partners, "next_date": self.next_date}


@dataclass(frozen=True)
class Line:
    """One entry of a listed answer (a history entry, a calendar entry, a submission)."""

    when: str
    text: str
    item: str | None = None
    sources: tuple[Source, ...] = ()


@dataclass
class Answer:
    intent: str
    text: str
    matches: list[Match] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)
    as_at: str | None = None
    known_at: str | None = None
    views_behind: int = 0  # events of the log the views had not applied when it was read

    @property
    def lag_note(self) -> str | None:
        """What the answer says when the views it read lag the log."""
        return lag_note(self.views_behind)

    def to_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "text": self.text,
            "matches": [m.to_json() for m in self.matches],
            "sources": [{"document": s.document or s.chat, "paragraph": s.paragraph}
                        for s in self.sources],
            "as_at": self.as_at,
            "known_at": self.known_at,
            "views_behind": self.views_behind,
        }


def match_of(state: ItemState, names: dict[str, str], after: Any = None) -> Match:
    entry = state.next_entry(after)
    return Match(
        id=state.id, key=state.key, kind=state.kind.value, title=state.title,
        status=state.status,
        status_since=str(state.status_since) if state.status_since else None,
        partners=[names.get(p, p) for p in state.partners],
        next_date=str(entry[1]) if entry else None,
        next_label=entry[0] if entry else None,
        detail=state.detail,
    )


def cite(sources: list[Source]) -> str:
    """"UNEP/CMS/StC44/18 ¶8, ¶10" — sources grouped by document."""
    by_document: dict[str, list[str]] = {}
    for source in sources:
        document = source.document or source.cite()  # a chat or the command line
        paragraphs = by_document.setdefault(document, [])
        if source.paragraph and source.paragraph not in paragraphs:
            paragraphs.append(source.paragraph)
    parts = []
    for document, paragraphs in by_document.items():
        marks = ", ".join(p if not p[0].isdigit() else f"¶{p}" for p in paragraphs)
        parts.append(f"{document} {marks}".strip())
    return "; ".join(parts)


def unique_sources(sources: list[Source]) -> list[Source]:
    return list(dict.fromkeys(sources))  # in first-seen order

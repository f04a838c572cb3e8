"""Where a recorded fact came from, and who recorded it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.dates import PartialDate
from domain.errors import InvalidFieldError

COMMAND_LINE = "cli:"  # the command line's actors and chat references: cli:<OS user>
_OLD_COMMAND_LINE = re.compile(r"cli:(.+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
ON_BEHALF = " on behalf of "


def acting_for(recorder: str, other: str | None) -> str:
    """The actor of an event that `recorder` records for `other` (say, a script's `--actor`):
    the recorder first, always, so that no one can record as someone else."""
    other = (other or "").strip()
    return f"{recorder}{ON_BEHALF}{other}" if other and other != recorder else recorder


def recorder_of(actor: str) -> str:
    """Who recorded an event, without whom they recorded it for."""
    return actor.split(ON_BEHALF, 1)[0]


@dataclass(frozen=True)
class Source:
    """A document and paragraph (for imports) or a chat reference (for Slack); a document
    may also give the address it can be read at (`url`). Stores written before `url`
    existed hold no such field, and read as None."""

    document: str | None = None
    paragraph: str | None = None
    chat: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if not (self.document or self.chat):
            raise InvalidFieldError("a source needs a document or a chat reference")

    def cite(self) -> str:
        if self.document:
            if not self.paragraph:
                return self.document
            mark = "¶" if self.paragraph[0].isdigit() else ""
            return f"{self.document} {mark}{self.paragraph}"
        chat = self.chat or ""
        if chat.startswith(COMMAND_LINE):
            # Older stores hold "cli:<actor> <time>", actor "cli:<user>" or as --actor said.
            older = _OLD_COMMAND_LINE.fullmatch(chat)
            said = ", ".join(older.groups()) if older else chat
            return f"command line ({said})"
        return f"chat {chat}"

    @classmethod
    def command_line(cls, user: str) -> Source:
        """What the command line records on when no document is given: who ran it (the
        event's own timestamp says when)."""
        return cls(chat=f"{COMMAND_LINE}{user}")

    def to_dict(self) -> dict[str, Any]:
        """The stored form: a source without a url is stored as it always was."""
        data = {"document": self.document, "paragraph": self.paragraph, "chat": self.chat}
        if self.url:
            data["url"] = self.url
        return data

    def to_json(self) -> dict[str, str]:
        """What an answer or export shows: only what the source says (never a null
        paragraph)."""
        return {name: value for name, value in (
            ("document", self.document), ("paragraph", self.paragraph),
            ("url", self.url), ("chat", self.chat)) if value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls.shared(data.get("document"), data.get("paragraph"), data.get("chat"),
                          data.get("url"))

    @classmethod
    def shared(cls, document: str | None = None, paragraph: str | None = None,
               chat: str | None = None, url: str | None = None) -> Source:
        """The source, made once for each distinct one: sources are frozen, and logs,
        states and history files repeat them."""
        return _source(document, paragraph, chat, url)


@functools.lru_cache(maxsize=65536)
def _source(document: str | None, paragraph: str | None, chat: str | None,
            url: str | None) -> Source:
    return Source(document, paragraph, chat, url)


@dataclass(frozen=True)
class Fact:
    """What every recorded event carries besides its own data.

    `occurred` is business time; `recorded` is left to the store's clock unless an
    import carries the original recording time; `ref` is a stable key that makes
    re-importing an entry a no-op.
    """

    occurred: PartialDate
    actor: str
    source: Source
    note: str | None = None
    ref: str | None = None
    recorded: datetime | None = None

    def __post_init__(self) -> None:
        if not self.actor.strip():
            raise InvalidFieldError("every event needs the actor who recorded it")

    def event_fields(self) -> dict[str, Any]:
        return {
            "occurred": self.occurred,
            "actor": self.actor,
            "source": self.source,
            "note": self.note,
            "ref": self.ref,
            "timestamp": self.recorded,
        }


@dataclass(frozen=True)
class Cited:
    """Who said a date: the event that gave it (its version), and the sources that said
    it, the event's own and then those of the restatements that corroborated it and the
    corrections that corrected it, in the order recorded."""

    version: int
    sources: tuple[Source, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "sources": [s.to_dict() for s in self.sources]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cited:
        return cls(data["version"], tuple(Source.from_dict(s) for s in data["sources"]))

    def corroborated(self, version: int, source: Source) -> Cited:
        """As a restatement or a correction of `version` by `source` leaves it."""
        if version != self.version or source in self.sources:
            return self
        return Cited(self.version, (*self.sources, source))

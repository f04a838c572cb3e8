"""Reading a history file's fields, each problem noted with the mapping it is in: text,
lists, dates; what an entry cites (`source:`, a document symbol or a mapping of document,
paragraph and url); keys (lower-case slugs) and partner categories."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol

from cmsbot.history_parsing import MAX_ALIASES, MAX_PROBLEMS, HistoryFileError, LinedMapping
from cmsbot.history_stream import ItemTexts
from domain.catalogue import PARTNER_CATEGORIES
from domain.dates import PartialDate
from domain.errors import DomainError, InvalidFieldError
from domain.limits import MAX_LIST, MAX_TEXT, shown, within_length
from domain.provenance import Source
from domain.state import Kind
from domain.text import check_text

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_URL = re.compile(r"https?://[^\s]+")
_SOURCE_FIELDS = ("document", "paragraph", "url")


class SourceProblem(ValueError):
    """A `source:` that cannot be read; its message says why."""


def slug_problem(key: str, what: str) -> str | None:
    """Why `key` cannot be a new key, or None when it can."""
    if _SLUG.fullmatch(key):
        return None
    return (f"the {what} key {shown(key, 60)} is not a lower-case slug: letters a-z, digits "
            "and single hyphens between them, e.g. 'iwc-jwp'")


def category_problem(category: str) -> str | None:
    """Why `category` is not one of the partner categories, or None."""
    if category in PARTNER_CATEGORIES:
        return None
    return (f"unknown partner category {shown(category, 60)}; it must be one of "
            f"{', '.join(PARTNER_CATEGORIES)}")


def read_source(value: Any, default: Source) -> Source:
    """The source an entry cites: `value` as written (text, a document symbol; or a mapping
    of document, paragraph and url), over `default` (the document it would cite
    otherwise, whose paragraph and url a new document does not keep)."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return Source.shared(_text(value, "source"))
    if not isinstance(value, dict):
        raise SourceProblem(f"'source' must be a document symbol or a mapping of "
                            f"{', '.join(_SOURCE_FIELDS)}, not {shown(value)}")
    unknown = sorted(set(map(str, value)) - set(_SOURCE_FIELDS))
    if unknown:
        raise SourceProblem(f"a source has no field {', '.join(shown(u, 40) for u in unknown)}"
                            f"; its fields are {', '.join(_SOURCE_FIELDS)}")
    document = _text(value.get("document"), "source.document") if value.get(
        "document") not in (None, "") else None
    paragraph = _text(value.get("paragraph"), "source.paragraph") if value.get(
        "paragraph") not in (None, "") else None
    url = _text(value.get("url"), "source.url") if value.get("url") not in (None, "") else None
    if url is not None and not _URL.fullmatch(url):
        raise SourceProblem(f"source.url {shown(url, 60)} is not a web address "
                            "(http:// or https://)")
    if document is None or document == default.document:
        return Source.shared(default.document, paragraph or default.paragraph, None,
                             url or default.url)
    return Source.shared(document, paragraph, None, url)


def with_paragraph(source: Source, paragraph: str | None) -> Source:
    """The source at another paragraph of its document (None: as it is)."""
    if paragraph is None or paragraph == source.paragraph:
        return source
    return Source.shared(source.document, paragraph, source.chat, source.url)


class Lined(Protocol):
    """What a problem is placed at: a mapping of the file, or an item's gist."""

    @property
    def line(self) -> int: ...


class FieldReader:
    """Reads fields of a file's mappings, noting each problem with the mapping it is in:
    the base of the history check (`cmsbot.history`)."""

    def __init__(self, name: str, today: date | None = None, document: str = "?",
                 stored: Mapping[str, tuple[Kind, str]] | None = None) -> None:
        self.name = name
        self.today = today or datetime.now(UTC).date()
        self.document = Source.shared(document)
        self.stored = stored or {}
        self.problems: list[tuple[Lined, str]] = []

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def fail(self, at: Lined, reason: str) -> None:
        if not self.full:  # a file of many problems is refused as surely by the first ones
            self.problems.append((at, reason))

    def error(self) -> HistoryFileError:
        return HistoryFileError(self.name, [(at.line, reason) for at, reason in self.problems])

    def _check_unique(self, keyed: list[tuple[LinedMapping, str]], what: str) -> None:
        seen: set[str] = set()
        for at, key in keyed:
            if key in seen:
                self.fail(at, f"the {what} key {key!r} appears twice")
            seen.add(key)

    def _list(self, data: LinedMapping, name: str) -> list[LinedMapping]:
        value = data.get(name) or []
        if isinstance(value, ItemTexts):  # read as a stream: its mappings alone are kept
            if not value.all_mappings:
                self.fail(data, f"every entry of '{name}' must be a mapping")
            return value  # type: ignore[return-value]
        if not isinstance(value, list):
            self.fail(data, f"'{name}' must be a list")
            return []
        entries = [v for v in value if isinstance(v, LinedMapping)]
        if len(entries) != len(value):
            self.fail(data, f"every entry of '{name}' must be a mapping")
        return entries

    def _text(self, data: LinedMapping, name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if type(value) is str and value:
            return value.strip() if self._fits(data, name, value) else None
        if value is None or value == "":
            if required:
                self.fail(data, f"'{name}' is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(data, f"'{name}' must be text")
            return None
        text = str(value)
        return text.strip() if self._fits(data, name, text) else None

    def _texts(self, data: LinedMapping, name: str) -> list[str]:
        value = data.get(name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.fail(data, f"'{name}' must be a list of text")
            return []
        most = MAX_ALIASES if name == "aliases" else MAX_LIST
        if len(value) > most:
            self.fail(data, f"'{name}' has {len(value):,} entries; at most {most:,} are taken")
            return []
        texts = [str(v).strip() for v in value]
        return texts if all(self._fits(data, name, t) for t in texts) else []

    def _fits(self, data: LinedMapping, name: str, text: str) -> bool:
        """Whether a field can hold the text (short enough, and storable); if not, the
        problem is noted."""
        if text.isprintable() and len(text) <= MAX_TEXT:  # nearly all text: two C calls
            return True
        try:
            within_length(text, name)
            check_text(name, text)
        except InvalidFieldError as error:
            self.fail(data, str(error))
            return False
        return True

    def _date(self, value: Any, at: LinedMapping, name: str) -> PartialDate | None:
        try:
            return PartialDate.parse(value).within_horizon(self.today)
        except DomainError as error:
            self.fail(at, f"{name}: {error}")
            return None

    def _source(self, data: LinedMapping, default: Source) -> Source:
        if "source" not in data:
            return default
        try:
            return read_source(data["source"], default)
        except SourceProblem as problem:
            self.fail(data, str(problem))
            return default



def _text(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SourceProblem(f"'{name}' must be text, not {shown(value)}")
    text = str(value).strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise SourceProblem(f"'{name}' must be printable text of 1 to {MAX_TEXT:,} "
                            "characters")
    return text

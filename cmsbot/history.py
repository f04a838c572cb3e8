"""History files: a report's facts in YAML (or JSON), read with line numbers and checked
whole.

The format is documented in docs/history-files.md. `cmsbot.history_parsing` turns a
file's text into values within the file's bounds; this module checks what they say and
makes the entries an import records. It is a little over 400 lines because the check
names every problem of every field with its line, in one pass, and keeps all of that in
one place. Reading a file never touches the store; `cmsbot.app.importing.Importer` records
what a checked file says.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cmsbot.history_outline import OutlineEntry, read_outline
from cmsbot.history_parsing import (
    MAX_ALIASES,
    MAX_ITEMS,
    MAX_PROBLEMS,
    LinedMapping,
    parse_json,
    parse_yaml,
    read_text,
)
from cmsbot.history_parsing import HistoryFileError as HistoryFileError  # for callers
from domain.catalogue import EventSpec, lookup
from domain.dates import PartialDate
from domain.errors import DomainError, InvalidFieldError
from domain.limits import MAX_LIST, MAX_TEXT, shown, within_length
from domain.state import Kind
from domain.text import check_fields, check_text
from projections.bulk import collector_paused

SEED = Path(__file__).parent / "data" / "stc44-synergies-and-partnerships.yaml"

@dataclass(slots=True)
class PartnerEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    key: str
    name: str
    acronym: str | None
    aliases: list[str]
    category: str | None


@dataclass(slots=True)  # a large file has hundreds of thousands
class EventEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    id: str
    spec: EventSpec
    raw: dict[str, Any]
    occurred: PartialDate
    paragraph: str | None
    note: str | None


@dataclass(slots=True)
class ItemEntry:
    at: LinedMapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    key: str
    kind: Kind
    title: str
    occurred: PartialDate
    paragraph: str | None
    details: dict[str, Any]
    events: list[EventEntry] = field(default_factory=list)


@dataclass
class Header:
    """What a history file says of itself, and its partners, checked."""

    name: str
    document: str
    actor: str
    as_at: PartialDate | None
    partners: list[PartnerEntry]
    outline: OutlineEntry | None = field(default=None, kw_only=True)  # its `report:`

    def ref(self, *parts: str) -> str:
        return f"{self.document}#{'/'.join(parts)}"


@dataclass
class History(Header):
    """A checked history file."""

    items: list[ItemEntry]


@dataclass
class Draft(Header):
    """A history file read, its header and partners checked, its items not yet. Each item
    is checked on its own, so a large file's items can be checked (and recorded) in
    several processes; `check` checks them all here."""

    items: list[Any]  # the items' mappings, as written
    problems: list[tuple[Any, str]]  # found so far, each with the mapping it is about
    root: Any  # the file's top mapping, where problems of the whole file are placed
    today: date  # dates beyond the horizon from this day are refused

    def check(self) -> History:
        """The checked history, or HistoryFileError listing every problem in the file."""
        items, problems = self.check_items(self.items)
        problems += self.file_problems()
        if problems:
            raise HistoryFileError(self.name, problems)
        return History(self.name, self.document, self.actor, self.as_at, self.partners, items,
                       outline=self.outline)

    def check_items(self, mappings: list[Any]) -> tuple[list[ItemEntry], list[tuple[int, str]]]:
        """These items checked: the entries, and each problem with its line."""
        checker = _Checker(self.name, self.today)
        items = []
        for mapping in mappings:
            if checker.full:  # enough to refuse the file; the rest is not looked at
                break
            item = checker._item(mapping, self.as_at)
            if item is not None:
                items.append(item)
        return items, _located(checker.problems)

    def file_problems(self) -> list[tuple[int, str]]:
        """The problems of the file as a whole: its header's and partners', and item keys
        written twice."""
        checker = _Checker(self.name, self.today)
        checker._check_unique([(m, k) for m in self.items
                               if (k := item_key_of(m)) is not None], "item")
        if not self.items and not self.partners:
            checker.fail(self.root, "the file has no partners and no items")
        return _located(self.problems + checker.problems)


def item_key_of(mapping: Any) -> str | None:
    """An item's key as the checker reads it, or None when it is not text."""
    value = mapping.get("key")
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def _located(problems: list[tuple[Any, str]]) -> list[tuple[int, str]]:
    return [(at.line, reason) for at, reason in problems]


_ITEM_FIELDS = {"key", "kind", "title", "aliases", "partners", "mandates", "documents",
                "period", "subtype", "summary", "paragraph", "occurred", "events"}
_LIST_FIELDS = ("aliases", "partners", "mandates", "documents")
_EVENT_FIELDS = {"id", "type", "occurred", "paragraph", "note"}


def read_history(text: str, name: str = "<history>", *, today: date | None = None,
                 ) -> History:
    """Parse and check a history file; raises HistoryFileError listing every problem.
    Dates more than HORIZON_YEARS after `today` (by default the day it is) are refused."""
    return read_history_draft(text, name, today=today).check()


def read_history_draft(text: str, name: str = "<history>", *, today: date | None = None,
                       ) -> Draft:
    """Parse a YAML history file and check all but its items."""
    data = parse_yaml(text, name)
    return _Checker(name, today).draft(data)


def read_json_history(text: str, name: str = "<history>", *, today: date | None = None,
                      ) -> History:
    """The same format written as JSON, for machine-made histories: it parses over fifty
    times faster than YAML, and every problem still names its line."""
    with collector_paused():
        return read_json_draft(text, name, today=today).check()


def read_json_draft(text: str, name: str = "<history>", *, today: date | None = None,
                    ) -> Draft:
    """Parse a JSON history file and check all but its items."""
    with collector_paused():
        data = parse_json(text, name)
    return _Checker(name, today).draft(data)


def read_history_file(path: Path, *, today: date | None = None) -> History:
    """Read and check a history file (YAML, or JSON when its name ends in .json)."""
    draft = read_draft_file(path, today=today)
    with collector_paused():
        return draft.check()


def read_draft_file(path: Path, *, today: date | None = None) -> Draft:
    """Read a history file (YAML, or JSON when its name ends in .json) and check all but
    its items. A file over its format's size limit, or holding more values than it may,
    is refused before it is parsed (and one over the size limit before it is read)."""
    text, json_file = read_text(path)
    if json_file:
        return read_json_draft(text, str(path), today=today)
    return read_history_draft(text, str(path), today=today)


class _Checker:
    def __init__(self, name: str, today: date | None = None) -> None:
        self.name = name
        self.today = today or datetime.now(UTC).date()
        self.problems: list[tuple[LinedMapping, str]] = []

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def fail(self, at: LinedMapping, reason: str) -> None:
        if not self.full:  # a file of many problems is refused as surely by the first ones
            self.problems.append((at, reason))

    def error(self) -> HistoryFileError:
        return HistoryFileError(self.name, [(at.line, reason) for at, reason in self.problems])

    def draft(self, data: Any) -> Draft:
        if not isinstance(data, LinedMapping):
            raise HistoryFileError(self.name, [(1, "a history file is a mapping with "
                                                   "'document' and 'items'")])
        document = self._text(data, "document", required=True) or "?"
        as_at = self._date(data.get("as_at"), data, "as_at") if "as_at" in data else None
        actor = self._text(data, "actor") or f"import:{document}"
        outline = read_outline(data, self.fail)
        unknown = set(data) - {"document", "title", "as_at", "actor", "partners", "items",
                               "report"}
        if unknown:
            self.fail(data, f"unknown top-level field(s): {_names(unknown)}")
        items = self._list(data, "items")
        if len(items) > MAX_ITEMS:  # refused before any item is checked
            raise HistoryFileError(self.name, [(items[MAX_ITEMS].line, (
                f"item {MAX_ITEMS + 1:,} of {len(items):,}: a history file holds at most "
                f"{MAX_ITEMS:,} items; split it into several files"))])
        partners = [p for p in (self._partner(e) for e in self._list(data, "partners"))
                    if p is not None]
        self._check_unique([(p.at, p.key) for p in partners], "partner")
        return Draft(self.name, document, actor, as_at, partners, items, self.problems, data,
                     self.today, outline=outline)

    def _check_unique(self, keyed: list[tuple[LinedMapping, str]], what: str) -> None:
        seen: set[str] = set()
        for at, key in keyed:
            if key in seen:
                self.fail(at, f"the {what} key {key!r} appears twice")
            seen.add(key)

    def _list(self, data: LinedMapping, name: str) -> list[LinedMapping]:
        value = data.get(name) or []
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

    def _partner(self, data: LinedMapping) -> PartnerEntry | None:
        key = self._text(data, "key", required=True)
        name = self._text(data, "name", required=True)
        unknown = set(data) - {"key", "name", "acronym", "aliases", "category"}
        if unknown:
            self.fail(data, f"a partner has no field {_names(unknown)}")
        if key is None or name is None:
            return None
        return PartnerEntry(data, key, name, self._text(data, "acronym"),
                            self._texts(data, "aliases"),
                            self._text(data, "category"))

    def _item(self, data: LinedMapping, as_at: PartialDate | None) -> ItemEntry | None:
        key = self._text(data, "key", required=True)
        title = self._text(data, "title", required=True)
        kind_name = self._text(data, "kind", required=True)
        unknown = set(data) - _ITEM_FIELDS
        if unknown:
            self.fail(data, f"an item has no field {_names(unknown)}")
        kind = None
        if kind_name is not None:
            try:
                kind = Kind(kind_name.lower())
            except ValueError:
                self.fail(data, f"unknown kind {kind_name!r}; it must be one of "
                                f"{', '.join(k.value for k in Kind)}")
        paragraph = self._text(data, "paragraph")
        details: dict[str, Any] = {name: self._texts(data, name) for name in _LIST_FIELDS}
        for name in ("period", "subtype", "summary"):
            details[name] = self._text(data, name)
        if key is None or title is None or kind is None:
            return None
        events: list[EventEntry] = []
        per_type: Counter[str] = Counter()
        for entry in self._list(data, "events"):
            event = self._event(entry, kind, as_at, paragraph)
            if event is not None:
                per_type[event.spec.name] += 1
                if not event.id:
                    number = per_type[event.spec.name]
                    event.id = event.spec.name.replace(" ", "-") + (
                        f"-{number}" if number > 1 else "")
                events.append(event)
        self._check_unique([(e.at, e.id) for e in events], f"event id in {key!r}, the")
        occurred = (self._date(data["occurred"], data, "occurred") if "occurred" in data
                    else _earliest([e.occurred for e in events]) or as_at)
        if occurred is None:
            if "occurred" not in data:  # else its problem is said already
                self.fail(data, "'occurred' is required when the file has no 'as_at' date")
            return None
        return ItemEntry(data, key, kind, title, occurred, paragraph, details, events)

    def _event(self, data: LinedMapping, kind: Kind, as_at: PartialDate | None,
               paragraph: str | None) -> EventEntry | None:
        type_name = self._text(data, "type", required=True)
        if type_name is None:
            return None
        try:
            spec = lookup(kind, type_name)
        except DomainError as error:
            self.fail(data, str(error))
            return None
        raw = {k: v for k, v in data.items() if k not in _EVENT_FIELDS}
        try:
            check_fields(raw)
        except InvalidFieldError as error:
            self.fail(data, str(error))
        try:
            # A correction names its target by entry id; the importer turns it into a version.
            typed = spec.coerce({k: 0 if k in ("corrects", "retracts") else v
                                 for k, v in raw.items()}
                                if "corrects" in raw or "retracts" in raw else raw,
                                today=self.today)
        except DomainError as error:
            self.fail(data, str(error))
            typed = {}
        for name in ("corrects", "retracts"):
            if name in raw:
                target = raw[name]
                if isinstance(target, bool) or not isinstance(target, int | str):
                    self.fail(data, f"'{name}' names an earlier entry by its id or version "
                                    f"number, not by {shown(target)}")
                elif isinstance(target, int) or self._fits(data, name, target):
                    typed[name] = target
        occurred: PartialDate | None
        if "occurred" in data:
            occurred = self._date(data["occurred"], data, "occurred")
        elif as_at is not None:
            occurred = _by(as_at.end)  # one object for the file's undated events
        else:
            self.fail(data, "'occurred' is required when the file has no 'as_at' date")
            occurred = None
        if occurred is None:
            return None
        return EventEntry(data, self._text(data, "id") or "", spec, typed, occurred,
                          self._text(data, "paragraph") or paragraph,
                          self._text(data, "note"))


def _names(fields: set[str]) -> str:
    """Field names for an error message: a few, each cut short."""
    names = sorted(fields)
    return ", ".join(shown(n, 40)[1:-1] for n in names[:5]) + (" …" if len(names) > 5 else "")


@functools.lru_cache(maxsize=16)
def _by(day: date) -> PartialDate:
    return PartialDate.by(day)


def _earliest(dates: list[PartialDate]) -> PartialDate | None:
    return min(dates, key=lambda d: d.end) if dates else None


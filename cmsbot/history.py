"""History files: a report's facts in YAML (or JSON), read with line numbers and checked
whole.

The format is documented in docs/history-files.md. Reading a file never touches the
store; `cmsbot.app.importing.Importer` records what a checked file says.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from domain.catalogue import EventSpec, lookup
from domain.dates import PartialDate
from domain.errors import DomainError, InvalidTextError
from domain.state import Kind
from domain.text import check_fields, check_text
from projections.bulk import collector_paused

SEED = Path(__file__).parent / "data" / "stc44-synergies-and-partnerships.yaml"


class HistoryFileError(Exception):
    """A history file that cannot be imported; nothing of it was recorded."""

    def __init__(self, name: str, problems: list[tuple[int, str]]) -> None:
        self.name, self.problems = name, sorted(problems)
        lines = [f"{name}:{line}: {reason}" for line, reason in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"… and {len(self.problems) - 50} more problems")
        super().__init__(f"{name} was not imported; nothing was recorded:\n" + "\n".join(lines))


class _Mapping(dict[str, Any]):
    """A mapping of the file, which knows the line it starts on. A JSON file's lines are
    counted only when one is asked for: a file without problems never needs them."""

    _line = 0
    _document: _JSONDocument | None = None

    @property
    def line(self) -> int:
        if self._document is not None:
            self._document.number()
        return self._line

    @line.setter
    def line(self, value: int) -> None:
        self._line = value


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _Loader(_Base):  # type: ignore[misc]
    """A safe loader that remembers each mapping's line and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        constructed = super().construct_mapping(node, deep=True)
        mapping = _Mapping({str(k): v for k, v in constructed.items()})
        mapping.line = node.start_mark.line + 1
        return mapping


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    return loader.construct_mapping(node)


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Dates stay text so that PartialDate reads them, and "2015-13-45" becomes a clear error.
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)


@dataclass
class PartnerEntry:
    at: _Mapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    key: str
    name: str
    acronym: str | None
    aliases: list[str]
    category: str | None


@dataclass
class EventEntry:
    at: _Mapping  # where the entry is written; `line` counts lines only when asked

    @property
    def line(self) -> int:
        return self.at.line

    id: str
    spec: EventSpec
    raw: dict[str, Any]
    occurred: PartialDate
    paragraph: str | None
    note: str | None


@dataclass
class ItemEntry:
    at: _Mapping  # where the entry is written; `line` counts lines only when asked

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

    def check(self) -> History:
        """The checked history, or HistoryFileError listing every problem in the file."""
        items, problems = self.check_items(self.items)
        problems += self.file_problems()
        if problems:
            raise HistoryFileError(self.name, problems)
        return History(self.name, self.document, self.actor, self.as_at, self.partners, items)

    def check_items(self, mappings: list[Any]) -> tuple[list[ItemEntry], list[tuple[int, str]]]:
        """These items checked: the entries, and each problem with its line."""
        checker = _Checker(self.name)
        items = [i for i in (checker._item(m, self.as_at) for m in mappings) if i is not None]
        return items, _located(checker.problems)

    def file_problems(self) -> list[tuple[int, str]]:
        """The problems of the file as a whole: its header's and partners', and item keys
        written twice."""
        checker = _Checker(self.name)
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


def read_history(text: str, name: str = "<history>") -> History:
    """Parse and check a history file; raises HistoryFileError listing every problem."""
    return read_history_draft(text, name).check()


def read_history_draft(text: str, name: str = "<history>") -> Draft:
    """Parse a YAML history file and check all but its items."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a safe loader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise HistoryFileError(name, [(line, f"not valid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise HistoryFileError(name, [(0, f"not valid YAML: {error}")]) from None
    return _Checker(name).draft(data)


class _DuplicateKeyError(ValueError):
    pass


class _JSONDocument:
    """A JSON history's text and objects, numbered with their lines on first need."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root: Any = None
        self.numbered = False
        document = self

        class Mapping(_Mapping):
            _document = document

        self.mapping = Mapping

    def number(self) -> None:
        if not self.numbered:
            self.numbered = True
            _number_lines(self.root, self.text)

    def pairs(self, pairs: list[tuple[str, Any]]) -> _Mapping:
        mapping = self.mapping(pairs)
        if len(mapping) != len(pairs):
            keys = [key for key, _ in pairs]
            raise _DuplicateKeyError(
                f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
        return mapping


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\{')


def _number_lines(data: Any, text: str) -> None:
    """Give each JSON object the line it starts on: the objects, taken in document order,
    are the `{` outside strings, taken in text order."""
    opened = (m.start() for m in _JSON_TOKEN.finditer(text) if m.group() == "{")
    line, counted = 1, 0
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, _Mapping):
            continue
        position = next(opened)
        line += text.count("\n", counted, position)
        counted = position
        node._line = line
        stack.extend(reversed(node.values()))


def read_json_history(text: str, name: str = "<history>") -> History:
    """The same format written as JSON, for machine-made histories: it parses over fifty
    times faster than YAML, and every problem still names its line."""
    with collector_paused():
        return read_json_draft(text, name).check()


def read_json_draft(text: str, name: str = "<history>") -> Draft:
    """Parse a JSON history file and check all but its items."""
    document = _JSONDocument(text)
    try:
        with collector_paused():
            data = document.root = json.loads(text, object_pairs_hook=document.pairs)
    except json.JSONDecodeError as error:
        raise HistoryFileError(name, [(error.lineno, f"not valid JSON: {error.msg}")]) from None
    except _DuplicateKeyError as error:
        # Read it again as YAML (JSON is YAML), which names the duplicate's line.
        try:
            read_history(text, name)
        except HistoryFileError as located:
            duplicates = [(line, reason.removeprefix("not valid YAML: "))
                          for line, reason in located.problems if "duplicate key" in reason]
            if duplicates:
                raise HistoryFileError(name, duplicates) from None
        raise HistoryFileError(name, [(0, str(error))]) from None
    return _Checker(name).draft(data)


def read_history_file(path: Path) -> History:
    """Read and check a history file (YAML, or JSON when its name ends in .json)."""
    draft = read_draft_file(path)
    with collector_paused():
        return draft.check()


def read_draft_file(path: Path) -> Draft:
    """Read a history file (YAML, or JSON when its name ends in .json) and check all but
    its items."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryFileError(str(path), [(0, f"cannot read the file: {error}")]) from None
    if path.suffix.lower() == ".json":
        return read_json_draft(text, str(path))
    return read_history_draft(text, str(path))


class _Checker:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[tuple[_Mapping, str]] = []

    def fail(self, at: _Mapping, reason: str) -> None:
        self.problems.append((at, reason))

    def error(self) -> HistoryFileError:
        return HistoryFileError(self.name, [(at.line, reason) for at, reason in self.problems])

    def draft(self, data: Any) -> Draft:
        if not isinstance(data, _Mapping):
            raise HistoryFileError(self.name, [(1, "a history file is a mapping with "
                                                   "'document' and 'items'")])
        document = self._text(data, "document", required=True) or "?"
        as_at = self._date(data.get("as_at"), data, "as_at") if "as_at" in data else None
        actor = self._text(data, "actor") or f"import:{document}"
        unknown = sorted(set(data) - {"document", "title", "as_at", "actor", "partners",
                                      "items"})
        if unknown:
            self.fail(data, f"unknown top-level field(s): {', '.join(unknown)}")
        partners = [p for p in (self._partner(e) for e in self._list(data, "partners"))
                    if p is not None]
        self._check_unique([(p.at, p.key) for p in partners], "partner")
        return Draft(self.name, document, actor, as_at, partners, self._list(data, "items"),
                     self.problems, data)

    def _check_unique(self, keyed: list[tuple[_Mapping, str]], what: str) -> None:
        seen: set[str] = set()
        for at, key in keyed:
            if key in seen:
                self.fail(at, f"the {what} key {key!r} appears twice")
            seen.add(key)

    def _list(self, data: _Mapping, name: str) -> list[_Mapping]:
        value = data.get(name) or []
        if not isinstance(value, list):
            self.fail(data, f"'{name}' must be a list")
            return []
        entries = [v for v in value if isinstance(v, _Mapping)]
        if len(entries) != len(value):
            self.fail(data, f"every entry of '{name}' must be a mapping")
        return entries

    def _text(self, data: _Mapping, name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if type(value) is str and value:
            return value.strip() if self._storable(data, name, value) else None
        if value is None or value == "":
            if required:
                self.fail(data, f"'{name}' is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(data, f"'{name}' must be text")
            return None
        return str(value).strip()

    def _texts(self, data: _Mapping, name: str) -> list[str]:
        value = data.get(name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.fail(data, f"'{name}' must be a list of text")
            return []
        texts = [str(v).strip() for v in value]
        return texts if all(self._storable(data, name, t) for t in texts) else []

    def _storable(self, data: _Mapping, name: str, text: str) -> bool:
        """Whether a store can hold the text; if not, the problem is noted."""
        if text.isprintable():  # nearly all text: one C call
            return True
        try:
            check_text(name, text)
        except InvalidTextError as error:
            self.fail(data, str(error))
            return False
        return True

    def _date(self, value: Any, at: _Mapping, name: str) -> PartialDate | None:
        try:
            return PartialDate.parse(value)
        except DomainError as error:
            self.fail(at, f"{name}: {error}")
            return None

    def _partner(self, data: _Mapping) -> PartnerEntry | None:
        key = self._text(data, "key", required=True)
        name = self._text(data, "name", required=True)
        unknown = sorted(set(data) - {"key", "name", "acronym", "aliases", "category"})
        if unknown:
            self.fail(data, f"a partner has no field {', '.join(unknown)}")
        if key is None or name is None:
            return None
        return PartnerEntry(data, key, name, self._text(data, "acronym"),
                            self._texts(data, "aliases"),
                            self._text(data, "category"))

    def _item(self, data: _Mapping, as_at: PartialDate | None) -> ItemEntry | None:
        key = self._text(data, "key", required=True)
        title = self._text(data, "title", required=True)
        kind_name = self._text(data, "kind", required=True)
        unknown = sorted(set(data) - _ITEM_FIELDS)
        if unknown:
            self.fail(data, f"an item has no field {', '.join(unknown)}")
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
            self.fail(data, "'occurred' is required when the file has no 'as_at' date")
            return None
        return ItemEntry(data, key, kind, title, occurred, paragraph, details, events)

    def _event(self, data: _Mapping, kind: Kind, as_at: PartialDate | None,
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
        except InvalidTextError as error:
            self.fail(data, str(error))
        try:
            # A correction names its target by entry id; the importer turns it into a version.
            typed = spec.coerce({k: 0 if k in ("corrects", "retracts") else v
                                 for k, v in raw.items()}
                                if "corrects" in raw or "retracts" in raw else raw)
        except DomainError as error:
            self.fail(data, str(error))
            typed = {}
        for name in ("corrects", "retracts"):
            if name in raw:
                typed[name] = raw[name]
        occurred: PartialDate | None
        if "occurred" in data:
            occurred = self._date(data["occurred"], data, "occurred")
        elif as_at is not None:
            occurred = PartialDate.by(as_at.end)
        else:
            self.fail(data, "'occurred' is required when the file has no 'as_at' date")
            occurred = None
        if occurred is None:
            return None
        return EventEntry(data, self._text(data, "id") or "", spec, typed, occurred,
                          self._text(data, "paragraph") or paragraph,
                          self._text(data, "note"))


def _earliest(dates: list[PartialDate]) -> PartialDate | None:
    return min(dates, key=lambda d: d.end) if dates else None


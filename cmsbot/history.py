"""History files: a report's facts in YAML (or JSON), read with line numbers and checked
whole.

The format is documented in docs/history-files.md. Reading a file never touches the
store; `cmsbot.app.importing.Importer` records what a checked file says.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from domain.catalogue import EventSpec, lookup
from domain.dates import PartialDate
from domain.errors import DomainError, InvalidFieldError
from domain.limits import MAX_DEPTH, MAX_LIST, MAX_TEXT, shown, within_length
from domain.state import Kind
from domain.text import check_fields, check_text
from projections.bulk import collector_paused

SEED = Path(__file__).parent / "data" / "stc44-synergies-and-partnerships.yaml"

# The bounds of a history file (docs/history-files.md); fields are bounded by
# domain.limits. A file is read whole, so its values bound the memory checking it takes:
# at most about 230 bytes a value of a JSON file, twice that of a YAML one (its parser
# keeps a node for each value as well), so 1,500,000 values take under 500 MB.
MAX_YAML_BYTES = 8 * 2**20
MAX_JSON_BYTES = 64 * 2**20
MAX_VALUES = 1_500_000  # values in a JSON file; in a YAML file, half as many
MAX_ITEMS = 50_000  # items in one file
MAX_PROBLEMS = 1_000  # problems a check finds before it stops looking
MAX_ALIASES = 100  # aliases of one item or partner
MAX_NUMBER_DIGITS = 19  # digits of a number written as a number (the store's 64 bits)


class HistoryFileError(Exception):
    """A history file that cannot be imported; nothing of it was recorded."""

    def __init__(self, name: str, problems: list[tuple[int, str]]) -> None:
        self.name, self.problems = name, sorted(problems)
        lines = [f"{name}:{line}: {reason}" for line, reason in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"… and {len(self.problems) - 50} more problems" + (
                f"; the check stops at {MAX_PROBLEMS:,}"
                if len(self.problems) >= MAX_PROBLEMS else ""))
        super().__init__(f"{name} was not imported; nothing was recorded:\n" + "\n".join(lines))


class _Mapping(dict[str, Any]):
    """A mapping of the file, which knows the line it starts on. A JSON file's lines are
    counted only when one is asked for: a file without problems never needs them."""

    __slots__ = ("_line",)  # a large file has hundreds of thousands: no __dict__ each
    _document: _JSONDocument | None = None

    @property
    def line(self) -> int:
        if self._document is not None:
            self._document.number()
        return getattr(self, "_line", 0)

    @line.setter
    def line(self, value: int) -> None:
        self._line = value


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _AliasError(Exception):
    """A YAML alias met while building the file's data (located afterwards)."""


class _Loader(_Base):  # type: ignore[misc]
    """A safe loader that remembers each mapping's line, and refuses duplicate keys,
    aliases (which can make a small file expand without bound), nesting deeper than
    MAX_DEPTH, and numbers a store cannot keep."""

    depth = 0

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Every node is built once; one met again is the target of an alias.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasError
        if not isinstance(node, yaml.CollectionNode):
            return super().construct_object(node, deep=True)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
            return super().construct_object(node, deep=True)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping = _Mapping()
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be text", key_node.start_mark)
            name = str(key)
            if name in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shown(key)} (first on line {seen[name] + 1})",
                    key_node.start_mark)
            seen[name] = key_node.start_mark.line
            mapping[name] = self.construct_object(value_node)
        mapping.line = node.start_mark.line + 1
        return mapping


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    return loader.construct_mapping(node)


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Dates stay text so that PartialDate reads them, and "2015-13-45" becomes a clear error.
    return str(loader.construct_scalar(node))


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    if sum(c.isdigit() for c in node.value) > MAX_NUMBER_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, _LONG_NUMBER, node.start_mark)
    return int(loader.construct_yaml_int(node))


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    value = float(loader.construct_yaml_float(node))
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value} is not a number a history file can hold; write it "
                        "in quotes if it is text", node.start_mark)
    return value


def _refuse(loader: _Loader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"a history file holds no {node.tag.rsplit(':', 1)[-1]}; write a plain "
                    "list or mapping", node.start_mark)


_LONG_NUMBER = (f"a number of more than {MAX_NUMBER_DIGITS} digits; write it in quotes if "
                "it is text")

_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
for _tag in ("set", "omap", "pairs", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)


def _first_alias(text: str) -> tuple[int, str]:
    """The line and anchor name of a YAML text's first alias: its events are read up to
    there, and nothing is built of them."""
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            return (mark.line + 1 if mark else 0), str(event.anchor)
    return 0, "?"


@dataclass(slots=True)
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


@dataclass(slots=True)  # a large file has hundreds of thousands
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


@dataclass(slots=True)
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
    today: date  # dates beyond the horizon from this day are refused

    def check(self) -> History:
        """The checked history, or HistoryFileError listing every problem in the file."""
        items, problems = self.check_items(self.items)
        problems += self.file_problems()
        if problems:
            raise HistoryFileError(self.name, problems)
        return History(self.name, self.document, self.actor, self.as_at, self.partners, items)

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
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a safe loader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise HistoryFileError(name, [(line, f"not valid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise HistoryFileError(name, [(0, f"not valid YAML: {error}")]) from None
    except _AliasError:
        line, anchor = _first_alias(text)
        raise HistoryFileError(name, [(line, f"an alias (*{shown(anchor, 30)[1:-1]}) repeats "
                                             "a value written before; a history file writes "
                                             "every value out")]) from None
    return _Checker(name, today).draft(data)


class _DuplicateKeyError(ValueError):
    pass


class _NumberError(ValueError):
    """A number in a JSON text that a history file cannot hold (located afterwards)."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(reason)
        self.token = token


def _whole_number(token: str) -> int:
    if len(token.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _NumberError(token, _LONG_NUMBER)
    return int(token)


def _real_number(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NumberError(token, f"{token} is too large for a number")
    return value


def _constant(token: str) -> Any:
    raise _NumberError(token, f"{token} is not a number a history file can hold")


_JSON_STRING = r'"(?:[^"\\]|\\.)*"'


def _json_line(text: str, token: str) -> int:
    """The line of the first `token` outside the strings of a JSON text (0: not found)."""
    wanted = re.compile(_JSON_STRING + r"|(?<![\w.+-])" + re.escape(token) + r"(?![\w.])")
    for found in wanted.finditer(text):
        if not found.group().startswith('"'):
            return text.count("\n", 0, found.start()) + 1
    return 0


def _json_too_deep(text: str) -> int:
    """The line where a JSON text first nests more than MAX_DEPTH levels (0: it does not)."""
    depth = 0
    for found in re.finditer(_JSON_STRING + r"|[\[\]{}]", text):
        bracket = found.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, found.start()) + 1
        elif bracket in "]}":
            depth -= 1
    return 0


class _JSONDocument:
    """A JSON history's text and objects, numbered with their lines on first need."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root: Any = None
        self.numbered = False
        document = self

        class Mapping(_Mapping):
            __slots__ = ()
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


def read_json_history(text: str, name: str = "<history>", *, today: date | None = None,
                      ) -> History:
    """The same format written as JSON, for machine-made histories: it parses over fifty
    times faster than YAML, and every problem still names its line."""
    with collector_paused():
        return read_json_draft(text, name, today=today).check()


def read_json_draft(text: str, name: str = "<history>", *, today: date | None = None,
                    ) -> Draft:
    """Parse a JSON history file and check all but its items."""
    document = _JSONDocument(text)
    try:
        with collector_paused():
            data = document.root = json.loads(
                text, object_pairs_hook=document.pairs, parse_int=_whole_number,
                parse_float=_real_number, parse_constant=_constant)
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
    except _NumberError as error:
        raise HistoryFileError(name, [(_json_line(text, error.token), str(error))]) from None
    except RecursionError:  # the parser's own bound, near a thousand levels
        raise HistoryFileError(name, [(_json_too_deep(text),
                                       f"nested more than {MAX_DEPTH} levels deep")]) from None
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
    json_file = path.suffix.lower() == ".json"
    kind = "JSON" if json_file else "YAML"
    limit = MAX_JSON_BYTES if json_file else MAX_YAML_BYTES
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            # Read one byte past the limit: what a device, a pipe or a growing file gives
            # need not be its size on disk.
            content = b"" if size > limit else stream.read(limit + 1)
        if max(size, len(content)) > limit:
            raise HistoryFileError(str(path), [(0, (
                f"the file is larger than {limit // 2**20} MB, the most a {kind} history "
                "file may be; split it into several files"))])
        values, most = _values_in(content, json_file)
        if values > most:
            raise HistoryFileError(str(path), [(0, (
                f"the file holds about {values:,} values, more than the {most:,} a {kind} "
                "history file may hold; split it into several files"))])
        text = content.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryFileError(str(path), [(0, f"cannot read the file: {error}")]) from None
    del content
    if json_file:
        return read_json_draft(text, str(path), today=today)
    return read_history_draft(text, str(path), today=today)


_JSON_MARKS = bytes(c for c in range(256) if c not in b",[{")
_YAML_MARKS = bytes(c for c in range(256) if c not in b"-:,[{?\n")


def _values_in(content: bytes, json_file: bool) -> tuple[int, int]:
    """How many values a file's text holds at most, counted without parsing it (a JSON
    value but the first follows a comma or an opening bracket; a YAML node follows one of
    - : , [ { ? or a line break), and how many it may hold."""
    if json_file:
        return len(content.translate(None, _JSON_MARKS)) + 1, MAX_VALUES
    return len(content.translate(None, _YAML_MARKS)) + 1, MAX_VALUES // 2


class _Checker:
    def __init__(self, name: str, today: date | None = None) -> None:
        self.name = name
        self.today = today or datetime.now(UTC).date()
        self.problems: list[tuple[_Mapping, str]] = []

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    def fail(self, at: _Mapping, reason: str) -> None:
        if not self.full:  # a file of many problems is refused as surely by the first ones
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
        unknown = set(data) - {"document", "title", "as_at", "actor", "partners", "items"}
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
                     self.today)

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

    def _texts(self, data: _Mapping, name: str) -> list[str]:
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

    def _fits(self, data: _Mapping, name: str, text: str) -> bool:
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

    def _date(self, value: Any, at: _Mapping, name: str) -> PartialDate | None:
        try:
            return PartialDate.parse(value).within_horizon(self.today)
        except DomainError as error:
            self.fail(at, f"{name}: {error}")
            return None

    def _partner(self, data: _Mapping) -> PartnerEntry | None:
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

    def _item(self, data: _Mapping, as_at: PartialDate | None) -> ItemEntry | None:
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


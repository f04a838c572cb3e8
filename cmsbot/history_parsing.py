"""History files read as text into values that keep their lines, within a file's bounds.

YAML and JSON become plain mappings and lists (`LinedMapping` keeps each mapping's line);
a file too large, holding too many values, nested too deep, writing an alias, or a number
too long is refused here with its line, before anything is checked. `cmsbot.history`
checks what the values say.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import yaml

from domain.limits import MAX_DEPTH, shown

# The bounds of a history file (docs/history-files.md); fields are bounded by
# domain.limits. A file parsed whole (YAML; JSON read as a stream is parsed an item at a
# time, `cmsbot.history_stream`) has its values bound the memory checking it takes: at
# most about 230 bytes a value of a JSON file, twice that of a YAML one (its parser keeps
# a node for each value as well), so 1,500,000 values take under 500 MB.
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


class LinedMapping(dict[str, Any]):
    """A mapping of the file, which knows the line it starts on. A JSON file's lines are
    counted only when one is asked for: a file without problems never needs them."""

    __slots__ = ("_line",)  # a large file has hundreds of thousands: no __dict__ each
    _document: JSONDocument | None = None

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
        mapping = LinedMapping()
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


class JSONDocument:
    """A JSON text and its objects, numbered with their lines on first need: a whole
    history, or one value of it that starts on `first_line` (`cmsbot.history_stream`)."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text, self.first_line = text, first_line
        self.root: Any = None
        self.numbered = False
        document = self

        class Mapping(LinedMapping):
            __slots__ = ()
            _document = document

        self.mapping = Mapping

    def number(self) -> None:
        if not self.numbered:
            self.numbered = True
            _number_lines(self.root, self.text, self.first_line)

    def pairs(self, pairs: list[tuple[str, Any]]) -> LinedMapping:
        return mapping_of(self.mapping, pairs)


def mapping_of(kind: type[LinedMapping], pairs: list[tuple[str, Any]]) -> LinedMapping:
    """A JSON object's mapping, refused if it writes a key twice."""
    mapping = kind(pairs)
    if len(mapping) != len(pairs):
        keys = [key for key, _ in pairs]
        raise _DuplicateKeyError(
            f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return mapping


def json_decoder(pairs: Callable[[list[tuple[str, Any]]], LinedMapping]) -> json.JSONDecoder:
    """A decoder of a history's JSON values: objects made by `pairs`, numbers a store can
    keep. What it refuses raises a ValueError."""
    return json.JSONDecoder(object_pairs_hook=pairs, parse_int=_whole_number,
                            parse_float=_real_number, parse_constant=_constant)


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\{')


def _number_lines(data: Any, text: str, line: int = 1) -> None:
    """Give each JSON object the line it starts on (the text's first line is `line`): the
    objects, taken in document order, are the `{` outside strings, taken in text order."""
    opened = (m.start() for m in _JSON_TOKEN.finditer(text) if m.group() == "{")
    counted = 0
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, LinedMapping):
            continue
        position = next(opened)
        line += text.count("\n", counted, position)
        counted = position
        node._line = line
        stack.extend(reversed(node.values()))


_JSON_MARKS = bytes(c for c in range(256) if c not in b",[{")
_YAML_MARKS = bytes(c for c in range(256) if c not in b"-:,[{?\n")


def json_values_begun(content: bytes) -> int:
    """How many JSON values but the first a piece of JSON text begins, at most: counted
    piece by piece, the pieces of a text add up to its count."""
    return len(content.translate(None, _JSON_MARKS))


def _values_in(content: bytes, json_file: bool) -> tuple[int, int]:
    """How many values a file's text holds at most, counted without parsing it (a JSON
    value but the first follows a comma or an opening bracket; a YAML node follows one of
    - : , [ { ? or a line break), and how many it may hold."""
    if json_file:
        return json_values_begun(content) + 1, MAX_VALUES
    return len(content.translate(None, _YAML_MARKS)) + 1, MAX_VALUES // 2


def parse_yaml(text: str, name: str) -> Any:
    """The values of a YAML history file; raises HistoryFileError naming the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a safe loader
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


def parse_json(text: str, name: str) -> Any:
    """The values of a JSON history file; raises HistoryFileError naming the line."""
    document = JSONDocument(text)
    try:
        data = document.root = json.loads(
            text, object_pairs_hook=document.pairs, parse_int=_whole_number,
            parse_float=_real_number, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise HistoryFileError(name, [(error.lineno, f"not valid JSON: {error.msg}")]) from None
    except _DuplicateKeyError as error:
        # Read it again as YAML (JSON is YAML), which names the duplicate's line.
        try:
            parse_yaml(text, name)
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
    return data


def read_text(path: Path) -> tuple[str, bool]:
    """A history file's text, and whether it is JSON (its name ends in .json). A file over
    its format's size limit, or holding more values than it may, is refused before it is
    parsed (and one over the size limit before it is read)."""
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
    return text, json_file

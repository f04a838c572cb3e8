"""A JSON history's items read as a stream: the file's values are never all in memory.

The scan parses the file's top mapping value by value, and its `items` one item at a
time: each item is parsed once, to find where it ends, to refuse what the whole file's
parse refuses, and to take its gist (what the whole file needs to know of it before any
item is checked: its key, its line, how many events). Then only its text is kept, as
UTF-8, and it is parsed again when its piece of the import is checked
(`cmsbot.app.importing`), and dropped after. So the parsed items of a file are in memory
one piece at a time, not all at once: a 200,000-event file's objects take about 100 MB,
its items' text 29 MB.

A text the scan does not read as a JSON object (invalid, a key written twice, a number a
store cannot keep, nested too deep) is parsed whole by `parse_json`, which says why with
its line: a bad file is refused with the same problems either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

from cmsbot.history_parsing import (
    JSONDocument,
    LinedMapping,
    json_decoder,
    mapping_of,
    parse_json,
)

G = TypeVar("G")

_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace


class _UnscannedError(Exception):
    """The text is not a JSON object as the scan reads one: parsed whole, it says why."""


class ItemTexts(Sequence[LinedMapping], Generic[G]):
    """The items of a JSON history, each kept as its text and parsed anew (with its
    lines) each time it is asked for; `gists` holds each one's gist, taken by the scan.
    `all_mappings` is false when an entry of the list was not a mapping (it is not kept)."""

    def __init__(self) -> None:
        self.texts: list[bytes] = []
        self.lines: list[int] = []
        self.gists: list[G] = []
        self.all_mappings = True

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, number: int) -> LinedMapping: ...

    @overload
    def __getitem__(self, number: slice) -> list[LinedMapping]: ...

    def __getitem__(self, number: int | slice) -> LinedMapping | list[LinedMapping]:
        if isinstance(number, slice):
            return [self[n] for n in range(len(self))[number]]
        item: LinedMapping = _parsed(self.texts[number].decode("utf-8"), self.lines[number])[0]
        return item

    def __iter__(self) -> Iterator[LinedMapping]:
        return (self[number] for number in range(len(self)))


def parse_json_items(text: str, name: str, gist: Callable[[LinedMapping], G]) -> Any:
    """The values of a JSON history file, as `parse_json` gives them but for its top
    mapping's `items` list, which is an ItemTexts (`gist` takes each item's gist); raises
    HistoryFileError naming the line."""
    try:
        return _Scan(text, gist).top()
    except (ValueError, RecursionError, _UnscannedError):  # the whole parse says why
        return parse_json(text, name)


def _parsed(text: str, first_line: int, start: int = 0) -> tuple[Any, int]:
    """The JSON value at `start` of the text, whose objects are numbered from
    `first_line` (the line of `start`) on first need, and where it ends."""
    document = JSONDocument("", first_line)
    value, end = json_decoder(document.pairs).raw_decode(text, start)
    document.text, document.root = text[start:end] if start else text, value
    return value, end


class _Scan(Generic[G]):
    def __init__(self, text: str, gist: Callable[[LinedMapping], G]) -> None:
        self.text, self.gist = text, gist
        # Items are parsed with plain mappings: only the item's own line is needed.
        self.decode = json_decoder(lambda pairs: mapping_of(LinedMapping, pairs)).raw_decode
        self.counted, self.line = 0, 1  # the line at `counted`

    def line_at(self, position: int) -> int:
        self.line += self.text.count("\n", self.counted, position)
        self.counted = position
        return self.line

    def skip(self, position: int, then: str = "") -> int:
        """The position after the whitespace at `position` (and after `then` there)."""
        position = _SPACE.match(self.text, position).end()  # type: ignore[union-attr]
        if then:
            if not self.text.startswith(then, position):
                raise _UnscannedError
            position = _SPACE.match(self.text, position + 1).end()  # type: ignore[union-attr]
        return position

    def top(self) -> LinedMapping:
        text = self.text
        position = self.skip(0)
        line = self.line_at(position)
        position = self.skip(position, "{")
        pairs: list[tuple[str, Any]] = []
        while not (text.startswith("}", position) and not pairs):
            if not text.startswith('"', position):
                raise _UnscannedError
            key, position = self.decode(text, position)
            position = self.skip(position, ":")
            if key == "items" and text.startswith("[", position):
                value, position = self.items(position)
            else:
                value, position = _parsed(text, self.line_at(position), position)
            pairs.append((key, value))
            position = self.skip(position)
            if not text.startswith(",", position):
                break
            position = self.skip(position, ",")
        if self.skip(self.skip(position, "}")) != len(text):
            raise _UnscannedError
        top = mapping_of(LinedMapping, pairs)
        top.line = line
        return top

    def items(self, position: int) -> tuple[ItemTexts[G], int]:
        text = self.text
        items: ItemTexts[G] = ItemTexts()
        position = self.skip(position, "[")
        if text.startswith("]", position):
            return items, position + 1
        while True:
            item, end = self.decode(text, position)
            if isinstance(item, LinedMapping):
                item.line = self.line_at(position)
                items.gists.append(self.gist(item))
                items.texts.append(text[position:end].encode("utf-8"))
                items.lines.append(item.line)
            else:
                items.all_mappings = False
            position = self.skip(end)
            if text.startswith("]", position):
                return items, position + 1
            position = self.skip(position, ",")


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

import codecs
import functools
import itertools
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar, overload

from cmsbot.history_parsing import (
    MAX_JSON_BYTES,
    MAX_VALUES,
    JSONDocument,
    LinedMapping,
    json_decoder,
    json_values_begun,
    mapping_of,
    parse_json,
)

G = TypeVar("G")

_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace
PIECE_CHARACTERS = 2**20  # read at a time, at least


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
        item: LinedMapping = _parsed(self.lines[number], self.texts[number].decode("utf-8"))[0]
        return item

    def __iter__(self) -> Iterator[LinedMapping]:
        return (self[number] for number in range(len(self)))

    def many(self, numbers: list[int]) -> list[LinedMapping]:
        """These items (in the file's order), parsed as one text: a list of them, with as
        many line breaks between two as the file has, so that each object's line is
        counted as in the file."""
        if any(a >= b for a, b in itertools.pairwise(numbers)):
            return [self[number] for number in numbers]
        parts: list[bytes] = []
        line = self.lines[numbers[0]] if numbers else 1
        for number in numbers:
            parts.append(b"\n" * (self.lines[number] - line))
            parts.append(self.texts[number])
            line = self.lines[number] + self.texts[number].count(b"\n")
            parts.append(b",")
        text = b"[" + b"".join(parts[:-1]) + b"]"
        items: list[LinedMapping] = _parsed(self.lines[numbers[0]] if numbers else 1,
                                            text.decode("utf-8"))[0]
        return items


def read_json_items(path: Path, gist: Callable[[LinedMapping], G]) -> Any | None:
    """The values of a JSON history file as `parse_json_items` gives them, read piece by
    piece (never all of its text at once); or None when the stream does not read it whole
    within the file's bounds (too large, too many values, not UTF-8, not read as a JSON
    object): read whole (`read_text`, `parse_json`), it is refused with its reason."""
    try:
        with path.open("rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return None  # a pipe or a device is read once, whole
            _Reading(stream).count()  # the bounds first, as a whole file's are
            stream.seek(0)
            return _Scan(_Reading(stream).read, gist).top()
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, _UnscannedError):
        return None


def parse_json_items(text: str, name: str, gist: Callable[[LinedMapping], G]) -> Any:
    """The values of a JSON history file, as `parse_json` gives them but for its top
    mapping's `items` list, which is an ItemTexts (`gist` takes each item's gist); raises
    HistoryFileError naming the line."""
    pieces = iter([text])
    try:
        return _Scan(lambda _size: next(pieces, ""), gist).top()
    except (ValueError, RecursionError, _UnscannedError):  # the whole parse says why
        return parse_json(text, name)


class _Reading:
    """A JSON file's text, piece by piece, within its bounds (or _UnscannedError)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        if os.fstat(stream.fileno()).st_size > MAX_JSON_BYTES:
            raise _UnscannedError
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.bytes, self.values = 0, 1

    def count(self) -> None:
        """Read the whole file for its bounds alone, keeping nothing."""
        while self._bytes(PIECE_CHARACTERS):
            pass

    def _bytes(self, size: int) -> bytes:
        content = self.stream.read(size)
        self.bytes += len(content)
        self.values += json_values_begun(content)
        if self.bytes > MAX_JSON_BYTES or self.values > MAX_VALUES:
            raise _UnscannedError
        return content

    def read(self, size: int) -> str:
        """About `size` more characters; "" at the end."""
        while True:
            content = self._bytes(size)
            text = self.decoder.decode(content, final=not content)
            if text or not content:
                return text


def _parsed(first_line: int, text: str, start: int = 0) -> tuple[Any, int]:
    """The JSON value at `start` of the text, whose objects are numbered from
    `first_line` (the line of `start`) on first need, and where it ends."""
    document = JSONDocument("", first_line)
    value, end = json_decoder(document.pairs).raw_decode(text, start)
    document.text, document.root = text[start:end] if start else text, value
    return value, end


class _Scan(Generic[G]):
    """The file's text as it comes, in a buffer that holds from the value being read on:
    what has been read is dropped (counting its lines)."""

    def __init__(self, read: Callable[[int], str], gist: Callable[[LinedMapping], G]) -> None:
        self.read, self.gist = read, gist
        self.text = ""
        # Items are parsed with plain mappings: only the item's own line is needed.
        self.decode = json_decoder(lambda pairs: mapping_of(LinedMapping, pairs)).raw_decode
        self.counted, self.line = 0, 1  # the line at `counted`

    def more(self) -> bool:
        """Read more of the file (as much as is held, to read a long value in few tries);
        False at its end."""
        text = self.read(max(PIECE_CHARACTERS, len(self.text)))
        self.text += text
        return bool(text)

    def drop(self, position: int) -> int:
        """Drop the text before `position`, which is read, once it is a quarter of a
        piece (each drop copies what is held): the same place, now."""
        if position < PIECE_CHARACTERS // 4:
            return position
        self.line_at(position)
        self.text, self.counted = self.text[position:], 0
        return 0

    def line_at(self, position: int) -> int:
        self.line += self.text.count("\n", self.counted, position)
        self.counted = position
        return self.line

    def value(self, position: int, decode: Callable[[str, int], tuple[Any, int]],
              ) -> tuple[Any, int]:
        """The value at `position` and where it ends, read whole: one the text ends
        in (a number may go on) is read again with more."""
        while True:
            try:
                value, end = decode(self.text, position)
            except json.JSONDecodeError:
                if self.more():
                    continue
                raise
            if end < len(self.text) or not self.more():
                return value, end

    def skip(self, position: int, then: str = "") -> int:
        """The position after the whitespace at `position` (and after `then` there)."""
        while True:
            position = _SPACE.match(self.text, position).end()  # type: ignore[union-attr]
            if position < len(self.text) or not self.more():
                break
        if then:
            if not self.text.startswith(then, position):
                raise _UnscannedError
            return self.skip(position + 1)
        return position

    def top(self) -> LinedMapping:
        position = self.skip(0)
        line = self.line_at(position)
        position = self.skip(position, "{")
        pairs: list[tuple[str, Any]] = []
        while not (self.text.startswith("}", position) and not pairs):
            if not self.text.startswith('"', position):
                raise _UnscannedError
            key, position = self.value(position, self.decode)
            position = self.skip(position, ":")
            if key == "items" and self.text.startswith("[", position):
                value, position = self.items(position)
            else:
                value, position = self.value(
                    position, functools.partial(_parsed, self.line_at(position)))
            pairs.append((key, value))
            position = self.skip(self.drop(position))
            if not self.text.startswith(",", position):
                break
            position = self.skip(position, ",")
        if self.skip(self.skip(position, "}")) != len(self.text):
            raise _UnscannedError
        top = mapping_of(LinedMapping, pairs)
        top.line = line
        return top

    def items(self, position: int) -> tuple[ItemTexts[G], int]:
        items: ItemTexts[G] = ItemTexts()
        position = self.skip(position, "[")
        if self.text.startswith("]", position):
            return items, position + 1
        while True:
            position = self.drop(position)
            item, end = self.value(position, self.decode)
            if isinstance(item, LinedMapping):
                item.line = self.line_at(position)
                items.gists.append(self.gist(item))
                items.texts.append(self.text[position:end].encode("utf-8"))
                items.lines.append(item.line)
            else:
                items.all_mappings = False
            position = self.skip(end)
            if self.text.startswith("]", position):
                return items, position + 1
            position = self.skip(position, ",")

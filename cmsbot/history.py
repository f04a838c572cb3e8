"""History files: a report's facts in YAML (or JSON), read with line numbers and checked
whole.

The format is documented in docs/history-files.md. `cmsbot.history_parsing` turns a
file's text into values within the file's bounds; this module checks what they say and
makes the entries an import records (`cmsbot.history_entries`), naming every problem of
every field with its line, in one pass; `cmsbot.history_sources` reads what an entry
cites and how keys and categories are spelt. Reading a file never touches the store; the
importer hands the check the kind and title of each item recorded before, and records
what a checked file says (`cmsbot.app.importing.Importer`).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cmsbot.history_entries import EventEntry as EventEntry
from cmsbot.history_entries import Header as Header
from cmsbot.history_entries import History as History
from cmsbot.history_entries import ItemEntry as ItemEntry
from cmsbot.history_entries import ItemGist as ItemGist
from cmsbot.history_entries import PartnerEntry as PartnerEntry
from cmsbot.history_entries import fact_key, gist_of
from cmsbot.history_entries import item_key_of as item_key_of
from cmsbot.history_fields import (
    FieldReader,
    category_problem,
    slug_problem,
    with_paragraph,
)
from cmsbot.history_outline import read_outline
from cmsbot.history_parsing import (
    MAX_ITEMS,
    LinedMapping,
    parse_yaml,
    read_text,
)
from cmsbot.history_parsing import HistoryFileError as HistoryFileError  # for callers
from cmsbot.history_stream import ItemTexts, parse_json_items, read_json_items
from domain.catalogue import lookup
from domain.dates import PartialDate
from domain.errors import DomainError, InvalidFieldError
from domain.limits import shown
from domain.provenance import Source
from domain.state import Kind
from domain.text import check_fields
from projections.bulk import collector_paused

SEED = Path(__file__).parent / "data" / "stc44-synergies-and-partnerships.yaml"

@dataclass
class Draft(Header):
    """A history file read, its header and partners checked, its items not yet. Each item
    is checked on its own, so a large file's items can be checked (and recorded) in
    several processes; `check` checks them all here."""

    items: Sequence[Any]  # the items' mappings, as written (ItemTexts: parsed when asked)
    problems: list[tuple[Any, str]]  # found so far, each with the mapping it is about
    root: Any  # the file's top mapping, where problems of the whole file are placed
    today: date  # dates beyond the horizon from this day are refused

    @functools.cached_property
    def gists(self) -> list[ItemGist]:
        """Each item's gist, in the file's order (taken as the file was read, if it was
        read as a stream)."""
        if isinstance(self.items, ItemTexts):
            return self.items.gists
        return [gist_of(mapping) for mapping in self.items]

    def check(self, stored: Stored | None = None) -> History:
        """The checked history, or HistoryFileError listing every problem in the file.
        `stored` gives the kind and title of the items already recorded, which an entry
        extends by its key alone."""
        items, problems = self.check_items(self.items, stored)
        problems += self.file_problems()
        if problems:
            raise HistoryFileError(self.name, problems)
        return History(self.name, self.document, self.actor, self.as_at, self.partners, items,
                       outline=self.outline)

    def mappings(self, numbers: list[int]) -> list[Any]:
        """These items' mappings, in this order (parsed then, if the file was read as a
        stream)."""
        if isinstance(self.items, ItemTexts):
            return self.items.many(numbers)
        return [self.items[number] for number in numbers]

    def check_items(self, mappings: Iterable[Any], stored: Stored | None = None,
                    ) -> tuple[list[ItemEntry], list[tuple[int, str]]]:
        """These items checked (`stored`: the kind and title of those recorded before):
        the entries, and each problem with its line."""
        checker = _Checker(self.name, self.today, self.document, stored)
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
        first: dict[str, ItemGist] = {}
        for gist in self.gists:
            key = gist.key
            if key is None:
                continue
            if key not in first:
                first[key] = gist
                continue
            earlier = first[key]
            differs = [f"its {name} {shown(value, 60)} differs from {shown(before, 60)} there"
                       for name, value, before in (("kind", gist.kind, earlier.kind),
                                                   ("title", gist.title, earlier.title))
                       if value not in (None, before)]
            checker.fail(gist, f"the item key {key!r} appears twice (first on line "
                               f"{earlier.line}){'; ' if differs else ''}"
                               f"{'; '.join(differs)}: write its events under one entry")
        if not self.items and not self.partners:
            checker.fail(self.root, "the file has no partners and no items")
        return _located(self.problems + checker.problems)


def _located(problems: list[tuple[Any, str]]) -> list[tuple[int, str]]:
    return [(at.line, reason) for at, reason in problems]


_ITEM_FIELDS = {"key", "kind", "title", "aliases", "partners", "mandates", "documents",
                "period", "subtype", "summary", "paragraph", "source", "occurred", "events"}
_LIST_FIELDS = ("aliases", "partners", "mandates", "documents")
_EVENT_FIELDS = {"id", "type", "occurred", "paragraph", "source", "note"}
# The kind and title of each item recorded before, by key.
Stored = Mapping[str, tuple[Kind, str]]


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
        data = parse_json_items(text, name, gist_of)
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
    if path.suffix.lower() == ".json":
        with collector_paused():
            data = read_json_items(path, gist_of)
        if data is not None:
            return _Checker(str(path), today).draft(data)
    text, json_file = read_text(path)  # a file the stream did not read is refused here
    if json_file:
        return read_json_draft(text, str(path), today=today)
    return read_history_draft(text, str(path), today=today)


class _Checker(FieldReader):
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

    def _partner(self, data: LinedMapping) -> PartnerEntry | None:
        key = self._text(data, "key", required=True)
        name = self._text(data, "name", required=True)
        unknown = set(data) - {"key", "name", "acronym", "aliases", "category"}
        if unknown:
            self.fail(data, f"a partner has no field {_names(unknown)}")
        category = self._text(data, "category")
        for problem in (key and slug_problem(key, "partner"),
                        category and category_problem(category)):
            if problem:
                self.fail(data, problem)
        if key is None or name is None:
            return None
        return PartnerEntry(data, key, name, self._text(data, "acronym"),
                            self._texts(data, "aliases"), category)

    def _item(self, data: LinedMapping, as_at: PartialDate | None) -> ItemEntry | None:
        key = self._text(data, "key", required=True)
        title = self._text(data, "title")
        kind_name = self._text(data, "kind")
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
        if key is not None:
            kind, title = self._as_stored(data, key, kind_name, kind, title)
        source = with_paragraph(self._source(data, self.document),
                                self._text(data, "paragraph"))
        details: dict[str, Any] = {name: self._texts(data, name) for name in _LIST_FIELDS}
        for name in ("period", "subtype", "summary"):
            details[name] = self._text(data, name)
        if key is None or title is None or kind is None:
            return None
        events: list[EventEntry] = []
        per_type: Counter[str] = Counter()
        for entry in self._list(data, "events"):
            event = self._event(entry, kind, as_at, source)
            if event is not None:
                per_type[event.spec.name] += 1
                if not event.id:
                    number = per_type[event.spec.name]
                    event.id = event.spec.name.replace(" ", "-") + (
                        f"-{number}" if number > 1 else "")
                events.append(event)
        self._check_unique([(e.at, e.id) for e in events], f"event id in {key!r}, the")
        events = self._without_repeats(events)
        occurred = (self._date(data["occurred"], data, "occurred") if "occurred" in data
                    else _earliest([e.occurred for e in events]) or as_at)
        if occurred is None:
            if "occurred" not in data:  # else its problem is said already
                self.fail(data, "'occurred' is required when the file has no 'as_at' date")
            return None
        return ItemEntry(data, key, kind, title, occurred, source, details, events)

    def _as_stored(self, data: LinedMapping, key: str, kind_name: str | None,
                   kind: Kind | None, title: str | None) -> tuple[Kind | None, str | None]:
        """The item's kind and title: as written, which must be as recorded before if it
        was; or, for an item recorded before, as recorded."""
        known = self.stored.get(key)
        if known is None:
            for name, value in (("kind", kind_name), ("title", title)):
                if value is None:
                    self.fail(data, f"'{name}' is required: no item has the key {key!r} "
                                    "yet (an item recorded before is extended by its key "
                                    "alone)")
            problem = slug_problem(key, "item")
            if problem:
                self.fail(data, problem)
            return kind, title
        if kind is not None and kind is not known[0]:
            self.fail(data, f"{key!r} is already tracked as {known[0].named}, not "
                            f"{kind.named}")
        if title is not None and title != known[1]:
            self.fail(data, f"{key!r} is already tracked as “{known[1]}”, not “{title}”; "
                            "leave the title out to extend it (a `corrected` event "
                            "changes it)")
        return known

    def _without_repeats(self, events: list[EventEntry]) -> list[EventEntry]:
        """The events, each repeat of an earlier one noted as a problem and left out. An
        entry of another type between two makes the second a fact of its own (a post
        vacated, filled and vacated again on one day)."""
        seen: dict[tuple[Any, ...], EventEntry] = {}
        kept: list[EventEntry] = []
        for event in events:
            if kept and kept[-1].spec is not event.spec:
                seen.clear()
            said = (*fact_key(event.spec.name, event.occurred, event.raw), event.note)
            first = seen.setdefault(said, event)
            if first is event:
                kept.append(event)
            else:
                self.fail(event.at, f"repeats the entry on line {first.line} (the same "
                                    f"'{event.spec.name}', date and fields); write it once")
        return kept

    def _event(self, data: LinedMapping, kind: Kind, as_at: PartialDate | None,
               item_source: Source) -> EventEntry | None:
        """The entry, or None when it has a problem (then its command is not run)."""
        found = len(self.problems)
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
        note = self._text(data, "note")
        if spec.note_required and not note:
            self.fail(data, f"'{spec.name}' needs the field 'note'")
        source = with_paragraph(self._source(data, item_source), self._text(data, "paragraph"))
        if occurred is None or len(self.problems) > found:
            return None
        return EventEntry(data, self._text(data, "id") or "", spec, typed, occurred, source,
                          note)



def _names(fields: set[str]) -> str:
    """Field names for an error message: a few, each cut short."""
    names = sorted(fields)
    return ", ".join(shown(n, 40)[1:-1] for n in names[:5]) + (" …" if len(names) > 5 else "")


@functools.lru_cache(maxsize=16)
def _by(day: date) -> PartialDate:
    return PartialDate.by(day)


def _earliest(dates: list[PartialDate]) -> PartialDate | None:
    return min(dates, key=lambda d: d.end) if dates else None


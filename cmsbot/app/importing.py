"""Importing a history file: all of it in one save, or nothing.

The import is one pipeline applied piece by piece. The file's new items are cut, in the
file's order, into pieces of about `piece_events` events. Each piece is checked, its
commands are run on its own aggregates and its events are encoded as rows (`_Work.do`);
the pieces' rows are added to one save in the file's order. A pool of processes
(`cmsbot.app.import_pool`) does the pieces: this process alone for a small file, one
process per core for a large one, with the same result. The partners come first in the
log and the items recorded before last, each in the file's order; those items are extended
by this process, which alone reads the store. The save commits only if no piece found a
problem, so a bad file records nothing, and the problems reported are those one process
finds: the checks' if any check failed, else those the commands met, each with its line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from cmsbot.app.auth import Principal
from cmsbot.app.import_pool import ImportPool
from cmsbot.app.outlining import outline_to_record
from cmsbot.app.recording import check_partners, partners_named, typed_changes
from cmsbot.eventstore.bulk_rows import AddRows, EventRow, encode_rows
from cmsbot.eventstore.tracker import Tracker
from cmsbot.history import (
    Draft,
    Header,
    History,
    HistoryFileError,
    ItemEntry,
    item_key_of,
    read_draft_file,
)
from cmsbot.wording import count
from domain.errors import CorrectionTargetError, DomainError
from domain.items import ITEM_CLASSES, Item, Partner, item_id, partner_id
from domain.outlines import ReportOutline
from domain.provenance import Fact, Source
from projections.bulk import collector_paused

# Problems, each with the line of the file it is about.
Problems = list[tuple[int, str]]


@dataclass(frozen=True)
class ImportResult:
    partners: int
    items: int
    events: int
    skipped: int
    outlined: bool = False  # the file's report outline was recorded (new or changed)

    def __str__(self) -> str:
        if not (self.partners or self.items or self.events):
            said = ("its one entry was" if self.skipped == 1
                    else f"all {self.skipped} entries were")
            if self.outlined:
                return f"Recorded the report's outline; nothing else was new ({said} " \
                       "recorded before)."
            return f"Nothing new: {said} recorded before."
        outline = ", the report's outline" if self.outlined else ""
        return (f"Recorded {count(self.events, 'event')}, {count(self.items, 'new item')}"
                f"{outline} and {count(self.partners, 'new partner')} "
                f"({count(self.skipped, 'entry', 'entries')} already recorded).")


class Importer:
    """Records a history file: all of it in one transaction, or nothing.

    `pool` does the pieces of a file of `parallel_from` events or more (by default one
    process per core, up to four); a smaller file is done in this process alone, where
    starting processes would cost more than they save."""

    PARALLEL_FROM = 20_000  # events in a file
    PIECE_EVENTS = 2_000  # events in a piece of work: small, so that all finish together

    def __init__(self, tracker: Tracker, *, pool: ImportPool | None = None,
                 piece_events: int = PIECE_EVENTS, parallel_from: int = PARALLEL_FROM,
                 ) -> None:
        self.tracker = tracker
        self.pool = pool if pool is not None else ImportPool(min(4, os.cpu_count() or 1))
        self.piece_events, self.parallel_from = piece_events, parallel_from

    def run(self, principal: Principal, history: History) -> ImportResult:
        """Record a checked history."""
        principal.require_editor()
        with collector_paused():
            return self._import(_File.checked(history))

    def run_file(self, principal: Principal, path: Path) -> ImportResult:
        """Read, check and record a history file."""
        principal.require_editor()
        return self.run_draft(principal, read_draft_file(path))

    def run_draft(self, principal: Principal, draft: Draft) -> ImportResult:
        """Check and record a history file read but not yet checked."""
        principal.require_editor()
        with collector_paused():
            return self._import(_File.drafted(draft))

    def _import(self, file: _File) -> ImportResult:
        header = file.header
        saved = self.tracker.existing([partner_id(p.key) for p in header.partners]
                                      + [item_id(key) for key in file.keys if key is not None])
        partners, skipped = self._new_partners(header, saved)
        outline, outline_problems = outline_to_record(self.tracker, header, file.keys)
        known = self._known_partners(header, file.named)
        was_saved = [key is not None and item_id(key) in saved for key in file.keys]
        fresh = [n for n, before in enumerate(was_saved) if not before]
        recorded = [n for n, before in enumerate(was_saved) if before]
        pool = self.pool if file.events >= self.parallel_from else ImportPool(1)
        work = _Work(file, known, self.tracker.mapper, pool.flag())
        pieces = _cut(fresh, file.weights, self.piece_events)
        # The pool's other processes start on the pieces at once, while this one extends
        # the items recorded before; then it saves the pieces in order. The save begins
        # with the first rows, so a file found bad before then never asks to write.
        with pool.pieces(lambda number: work.do(pieces[number]), len(pieces)) as done, \
                contextlib.ExitStack() as stack:
            extended = work.do(recorded, load=self.tracker.item)
            save = _Save(lambda: stack.enter_context(self.tracker.insert_in_parts()),
                         file.problems + outline_problems)
            save.rows(work.rows([*partners, outline]))
            for piece in done:
                save.take(piece)
            save.take(extended)
            save.raise_problems(header.name)
        new_items, events, skipped_entries = save.counts
        return ImportResult(len(partners), new_items, events, skipped + skipped_entries,
                            outlined=outline is not None)

    def _new_partners(self, header: Header, saved: set[UUID]) -> tuple[list[Partner], int]:
        partners = [Partner.register(
            key=p.key, name=p.name, actor=header.actor, acronym=p.acronym,
            aliases=p.aliases, category=p.category, ref=header.ref("partner", p.key))
            for p in header.partners if partner_id(p.key) not in saved]
        return partners, len(header.partners) - len(partners)

    def _known_partners(self, header: Header, named: Iterable[Any]) -> set[str]:
        """The partner keys among those named that are the file's or already recorded."""
        known = {p.key for p in header.partners}
        others = _texts_in(named) - known
        recorded = self.tracker.existing([partner_id(key) for key in others])
        return known | {key for key in others if partner_id(key) in recorded}


@dataclass(frozen=True)
class _File:
    """A history file as the pipeline takes it: its header, and for each item its key
    (None where it is not text), its weight (1 + its events) and the partner keys its
    mappings name, unchecked. `check` checks items by number; `problems` are the file's
    own (its header's and partners', keys written twice)."""

    header: Header
    keys: list[str | None]
    weights: list[int]
    named: list[Any]
    check: Callable[[list[int]], tuple[list[ItemEntry], Problems]]
    problems: Problems

    @property
    def events(self) -> int:
        return sum(self.weights) - len(self.weights)

    @classmethod
    def checked(cls, history: History) -> _File:
        items = history.items
        return cls(history, [entry.key for entry in items],
                   [1 + len(entry.events) for entry in items],
                   [*(entry.details["partners"] for entry in items),
                    *(key for entry in items for event in entry.events
                      for key in partners_named(event.raw))],
                   lambda numbers: ([items[n] for n in numbers], []), [])

    @classmethod
    def drafted(cls, draft: Draft) -> _File:
        mappings = draft.items
        events = [_events_of(mapping) for mapping in mappings]
        return cls(draft, [item_key_of(mapping) for mapping in mappings],
                   [1 + len(its) for its in events],
                   [*(mapping.get("partners") for mapping in mappings),
                    *(key for its in events for event in its for key in partners_named(event))],
                   lambda numbers: draft.check_items([mappings[n] for n in numbers]),
                   draft.file_problems())


@dataclass(frozen=True)
class _Done:
    """A piece, done: the problems found (none if it can be recorded), whether they are
    the checks' (then its commands were not run), the counts of new items, events and
    what was recorded before, and its events' rows (made only while no process has found
    a problem)."""

    problems: Problems
    counts: tuple[int, int, int]
    checks_failed: bool = False
    rows: list[EventRow] = field(default_factory=list)


@dataclass(frozen=True)
class _Work:
    """What a worker does with a piece of the file's items: check them, run their
    commands and encode their events as rows. `failed` is a flag every worker sees, set
    once any has found a problem: the pieces done after that are still checked and their
    commands run (every problem is reported), but make no rows."""

    file: _File
    partners: set[str]
    mapper: Mapper[Any]
    failed: Any

    def do(self, numbers: list[int], load: Callable[[str], Item] | None = None) -> _Done:
        """Check these items, run their commands and encode their events: on new
        aggregates, or on those `load` reads from the store (items recorded before)."""
        entries, problems = self.file.check(numbers)
        if problems:
            self.failed.value = 1
            return _Done(problems, (0, 0, 0), checks_failed=True)
        recorder = _ItemRecorder(self.file.header, self.partners)
        items = [recorder.record(entry, None if load is None else load(entry.key))
                 for entry in entries]
        if recorder.problems:
            self.failed.value = 1
        rows = [] if self.failed.value else self.rows(items)
        return _Done(recorder.problems, recorder.counts, rows=rows)

    def rows(self, aggregates: Sequence[Item | Partner | ReportOutline | None],
             ) -> list[EventRow]:
        """The aggregates' new events, encoded (None: an item not recorded)."""
        return encode_rows(self.mapper, [a for a in aggregates if a is not None])


class _Save:
    """The pieces, taken in the file's order: their rows are added to the one save (begun
    by `begin` when the first rows come) until a problem is known, and their counts are
    summed. The problems are those one process reports: the checks', or if every check
    passed, the commands'."""

    def __init__(self, begin: Callable[[], AddRows], problems: Problems) -> None:
        self.begin = begin
        self.add: AddRows | None = None
        self.problems = list(problems)  # the checks' (the file's own first)
        self.unmet: Problems = []  # those the commands met
        self.counts = (0, 0, 0)  # new items, events, entries recorded before

    def rows(self, rows: list[EventRow]) -> None:
        if rows and not (self.problems or self.unmet):
            if self.add is None:
                self.add = self.begin()
            self.add(rows)

    def take(self, done: _Done) -> None:
        (self.problems if done.checks_failed else self.unmet).extend(done.problems)
        (new_items, events, skipped), more = self.counts, done.counts
        self.counts = (new_items + more[0], events + more[1], skipped + more[2])
        self.rows(done.rows)

    def raise_problems(self, name: str) -> None:
        if self.problems or self.unmet:
            raise HistoryFileError(name, self.problems or self.unmet)


class _ItemRecorder:
    """Runs checked entries' commands on their items' aggregates, and collects each problem
    with its line."""

    def __init__(self, header: Header, partners: set[str]) -> None:
        self.header, self.partners = header, partners
        self.problems: Problems = []
        self.new_items = self.events = self.skipped = 0

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.new_items, self.events, self.skipped

    def record(self, entry: ItemEntry, existing: Item | None) -> Item | None:
        header = self.header
        for key in entry.details["partners"]:
            if key not in self.partners:
                self.problems.append((entry.line, f"no partner has the key {key!r}"))
        if existing is not None:
            item = existing
            if item.KIND is not entry.kind:
                self.problems.append((entry.line, f"{entry.key!r} is already tracked as "
                                                  f"{_a(item.KIND.value)}, not "
                                                  f"{_a(entry.kind.value)}"))
                return None
            self.skipped += 1
        else:
            fact = Fact(entry.occurred, header.actor,
                        Source.shared(header.document, entry.paragraph), None,
                        header.ref(entry.key))
            item = ITEM_CLASSES[entry.kind].register(fact, key=entry.key, title=entry.title,
                                                     **entry.details)
            self.new_items += 1
        for event in entry.events:
            ref = header.ref(entry.key, event.id)
            if item.has_recorded(ref):
                self.skipped += 1
                continue
            try:
                values = dict(event.raw)
                check_partners(values, self.partners.__contains__)
                for name in ("corrects", "retracts"):
                    if name in values:
                        values[name] = _version_of(item, header, entry.key, values[name])
                if "changes" in values:
                    values["changes"] = typed_changes(item, values["corrects"],
                                                      values["changes"])
                fact = Fact(event.occurred, header.actor,
                            Source.shared(header.document, event.paragraph), event.note, ref)
                getattr(item, event.spec.command)(fact, **values)
                self.events += 1
            except DomainError as error:
                self.problems.append((event.line, str(error)))
            except TypeError as error:
                self.problems.append((event.line,
                                      f"wrong fields for '{event.spec.name}': {error}"))
        return item


def _cut(numbers: list[int], weights: list[int], size: int) -> list[list[int]]:
    """The items cut in the file's order into pieces of about `size` events each."""
    pieces: list[list[int]] = []
    piece: list[int] = []
    weight = 0
    for number in numbers:
        piece.append(number)
        weight += weights[number]
        if weight >= size:
            pieces.append(piece)
            piece, weight = [], 0
    if piece:
        pieces.append(piece)
    return pieces


def _events_of(mapping: Any) -> list[Any]:
    events = mapping.get("events")
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _texts_in(values: Iterable[Any]) -> set[str]:
    """Every text among these values and lists of values, as the checks strip it (what is
    not text is the checks' to report)."""
    texts: set[str] = set()
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                texts.add(text.strip())
    return texts


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _version_of(item: Item, history: Header, item_key: str, target: Any) -> int:
    """A correction names its target by version number, by entry id (in this file, or in
    an earlier one when only one entry of the item has that id) or by full ref."""
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    wanted = str(target)
    same_file = history.ref(item_key, wanted)
    refs = {event.ref: event.originator_version for event in item.history if event.ref}
    if same_file in refs:
        return refs[same_file]
    if wanted in refs:
        return refs[wanted]
    elsewhere = [v for ref, v in refs.items() if ref.endswith(f"#{item_key}/{wanted}")]
    if len(elsewhere) == 1:
        return elsewhere[0]
    raise CorrectionTargetError(f"{item_key!r} has no earlier event with id {wanted!r}"
                                + (" in one file only; give its full ref" if elsewhere else ""))

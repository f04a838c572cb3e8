"""Importing a history file: all of it in one save, or nothing.

The import is one pipeline applied piece by piece. The file's new items are cut, in the
file's order, into pieces of about `piece_events` events. Each piece is checked, its
commands are run on its own aggregates and its events are encoded as rows (`_Work.do`);
the pieces' rows are added to one save in the file's order. A pool of processes
(`cmsbot.app.import_pool`) does the pieces: this process alone for a small file, one
process per core for a large one, with the same result. The partners come first in the
log and the items recorded before last, each in the file's order; those items are extended
by this process, which alone reads the store, and which hands their kinds and titles to
the check (an entry extends one by its key alone). The save commits only if no piece found
a problem, so a bad file records nothing. Every problem is found in the one run: the
checks', and those the commands meet when they are run on the entries that passed them
(on new aggregates, or on copies of those recorded before), each with its line. A check
(`record=False`) does all of that and saves nothing.

A JSON file comes read as a stream (`cmsbot.history_stream`): the pipeline knows each item
by its gist (key, weight, partners named) and parses it only when its piece is done, and a
piece's objects are let go of as it ends, so the parsed file, its aggregates and its rows
are never all in memory at once; the one save still commits all of it or nothing.

A later document that restates a fact recorded before (the same event, business date and
fields, from another document) adds its source to it: a `FactCorroborated` event pointing
at the original, not a second copy of the fact.
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
from cmsbot.app.import_entries import ItemRecorder, Problems
from cmsbot.app.import_pool import ImportPool
from cmsbot.app.outlining import outline_to_record
from cmsbot.eventstore.bulk_rows import AddRows, EventRow, encode_rows
from cmsbot.eventstore.tracker import Tracker
from cmsbot.history import (
    Draft,
    Header,
    History,
    HistoryFileError,
    ItemEntry,
    Stored,
    read_draft_file,
)
from cmsbot.history_entries import partners_named
from cmsbot.wording import count
from domain.items import Item, Partner, item_id, partner_id
from domain.outlines import ReportOutline
from projections.bulk import collect_young, collector_paused


@dataclass(frozen=True)
class ImportResult:
    """What an import recorded (or, checked, would record). `events` are the items'
    events, `corroborated` the facts restated by this document (each recorded as an event
    adding its source); `entries` is what the log gains, registrations included, the
    count `cmsbot audit verify` adds up."""

    partners: int
    items: int
    events: int
    skipped: int
    extended: int = 0
    corroborated: int = 0
    checked: bool = False
    outlined: bool = False  # the file's report outline is recorded (new or changed)

    @property
    def entries(self) -> int:
        return self.partners + self.items + self.events + self.corroborated + self.outlined

    def __str__(self) -> str:
        said = "No problems. " if self.checked else ""
        verb = "Would record" if self.checked else "Recorded"
        if not self.entries - self.outlined:
            before = ("its one entry was" if self.skipped == 1
                      else f"all {self.skipped} entries were")
            if self.outlined:
                return f"{said}{verb} the report's outline; nothing else was new ({before} " \
                       "recorded before)."
            return f"{said}Nothing new: {before} recorded before."
        restated = (f" and {count(self.corroborated, 'restated fact')} (a source added)"
                    if self.corroborated else "")
        items = " and ".join(
            [count(self.items, "new item")] * bool(self.items or not self.extended)
            + [f"{count(self.extended, 'item')} recorded before"] * bool(self.extended))
        also = ([count(self.partners, "new partner")] * bool(self.partners)
                + ["the report's outline"] * self.outlined)
        rest = f", and {' and '.join(also)}" if also else ""
        # The entries of the items extended are said as such, not as recorded before.
        skipped = self.skipped - self.extended
        before = (f"; {count(skipped, 'entry', 'entries')} of the file recorded before"
                  if skipped else "")
        return (f"{said}{verb} {count(self.events, 'event')}{restated} on {items}{rest}: "
                f"{count(self.entries, 'log entry', 'log entries')}, registrations "
                f"included{before}.")


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

    def check_file(self, path: Path) -> ImportResult:
        """Everything an import of the file does but the save: every problem, raised as
        one HistoryFileError, or what it would record. Reads the store; writes nothing."""
        with collector_paused():
            return self._import(_File.drafted(read_draft_file(path)), record=False)

    def _import(self, file: _File, *, record: bool = True) -> ImportResult:
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
        flag = pool.flag()
        flag.value = 0 if record else 1  # a check makes no rows
        work = _Work(file, known, self.tracker.mapper, flag)
        pieces = _cut(fresh, file.weights, self.piece_events)
        # The pool's other processes start on the pieces at once, while this one extends
        # the items recorded before; then it saves the pieces in order. The save begins
        # with the first rows, so a file found bad before then never asks to write.
        with pool.pieces(lambda number: work.do(pieces[number]), len(pieces)) as done, \
                contextlib.ExitStack() as stack:
            extended = work.do(recorded, load=self.tracker.item)
            save = _Save(lambda: stack.enter_context(self.tracker.insert_in_parts()),
                         file.problems + outline_problems, record)
            save.rows(work.rows([*partners, outline]))
            for piece in done:
                save.take(piece)
            save.take(extended)
            save.raise_problems(header.name)
        new_items, events, skipped_entries, corroborated = save.counts
        return ImportResult(len(partners), new_items, events, skipped + skipped_entries,
                            len(recorded), corroborated, checked=not record,
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
    mappings name, unchecked. `check` checks items by number, given the kind and title of
    those recorded before; `problems` are the file's own (its header's and partners',
    keys written twice)."""

    header: Header
    keys: list[str | None]
    weights: list[int]
    named: list[Any]
    check: Callable[[list[int], Stored], tuple[list[ItemEntry], Problems]]
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
                   lambda numbers, _stored: ([items[n] for n in numbers], []), [])

    @classmethod
    def drafted(cls, draft: Draft) -> _File:
        """A file read but not checked: its items are checked piece by piece, each parsed
        then if the file was read as a stream (`cmsbot.history_stream`)."""
        gists = draft.gists
        return cls(draft, [gist.key for gist in gists], [gist.weight for gist in gists],
                   [named for gist in gists for named in gist.named],
                   lambda numbers, stored: draft.check_items(draft.mappings(numbers), stored),
                   draft.file_problems())


@dataclass(frozen=True)
class _Done:
    """A piece, done: the problems found (none if it can be recorded), the counts of new
    items, events, what was recorded before and facts corroborated, and its events' rows
    (made only while no process has found a problem)."""

    problems: Problems
    counts: tuple[int, int, int, int]
    rows: list[EventRow] = field(default_factory=list)


@dataclass(frozen=True)
class _Work:
    """What a worker does with a piece of the file's items: check them, run their
    commands and encode their events as rows. `failed` is a flag every worker sees, set
    once any has found a problem (or from the start, by a check): the pieces done after
    that are still checked and their commands run (every problem is reported), but make
    no rows. The commands run on the entries that passed their checks, so one run finds
    the problems of both."""

    file: _File
    partners: set[str]
    mapper: Mapper[Any]
    failed: Any

    def do(self, numbers: list[int], load: Callable[[str], Item] | None = None) -> _Done:
        """Check these items, run their commands and encode their events: on new
        aggregates, or on those `load` reads from the store (items recorded before). What
        the piece made but its result is let go of at once, cycles included (the collector
        is paused): so only pieces in hand are in memory, whatever the file's size."""
        done = self._do(numbers, load)
        collect_young()
        return done

    def _do(self, numbers: list[int], load: Callable[[str], Item] | None) -> _Done:
        loaded: dict[str, Item] = {}
        if load is not None:
            for number in numbers:
                key = self.file.keys[number]
                if key is not None:
                    loaded[key] = load(key)
        entries, problems = self.file.check(
            numbers, {key: (item.KIND, item.state.title) for key, item in loaded.items()})
        recorder = ItemRecorder(self.file.header, self.partners)
        items = [recorder.record(entry, loaded.get(entry.key)) for entry in entries]
        problems = problems + recorder.problems
        if problems:
            self.failed.value = 1
        rows = [] if self.failed.value else self.rows(items)
        return _Done(problems, recorder.counts, rows=rows)

    def rows(self, aggregates: Sequence[Item | Partner | ReportOutline | None],
             ) -> list[EventRow]:
        """The aggregates' new events, encoded (None: an item not recorded)."""
        return encode_rows(self.mapper, [a for a in aggregates if a is not None])


class _Save:
    """The pieces, taken in the file's order: their rows are added to the one save (begun
    by `begin` when the first rows come) until a problem is known, and their counts are
    summed. A check (`record` false) begins no save."""

    def __init__(self, begin: Callable[[], AddRows], problems: Problems, record: bool,
                 ) -> None:
        self.begin, self.record = begin, record
        self.add: AddRows | None = None
        self.problems = list(problems)  # the file's own first
        self.counts = (0, 0, 0, 0)  # new items, events, entries recorded before, restated

    def rows(self, rows: list[EventRow]) -> None:
        if rows and self.record and not self.problems:
            if self.add is None:
                self.add = self.begin()
            self.add(rows)

    def take(self, done: _Done) -> None:
        self.problems.extend(done.problems)
        self.counts = tuple(a + b for a, b in zip(self.counts, done.counts, strict=True))  # type: ignore[assignment]
        self.rows(done.rows)

    def raise_problems(self, name: str) -> None:
        if self.problems:
            raise HistoryFileError(name, self.problems)


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


def _texts_in(values: Iterable[Any]) -> set[str]:
    """Every text among these values and lists of values, as the checks strip it (what is
    not text is the checks' to report)."""
    texts: set[str] = set()
    for value in values:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                texts.add(text.strip())
    return texts

"""Application services: every write goes through here, authorized, and is saved whole."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import random
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing.connection import wait as connection_wait
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from cmsbot.history import (
    Draft,
    Header,
    History,
    HistoryFileError,
    ItemEntry,
    item_key_of,
    read_draft_file,
)
from cmsbot.sqliterecorder import EventRow
from cmsbot.store import Tracker, encode_rows
from cmsbot.wording import count
from domain.catalogue import SPECS, FieldSpec, coerce_value, lookup
from domain.dates import PartialDate
from domain.describe import describe
from domain.errors import CorrectionTargetError, DomainError, UnknownItemError
from domain.items import ITEM_CLASSES, Item, Partner, item_id, partner_id
from domain.provenance import Fact, Source
from projections.bulk import collector_paused, next_answer

log = logging.getLogger(__name__)
T = TypeVar("T")

# The summary of a record whose ref was recorded before: nothing new was recorded.
ALREADY_RECORDED = "already recorded"

# Fields whose values name partners by key; unknown keys are refused.
_PARTNER_FIELDS = ("partner", "donor", "organisers")


class NotAuthorizedError(Exception):
    """The person asking may read but not record."""


@dataclass(frozen=True)
class Principal:
    """Who is asking, and whether they may record."""

    id: str
    may_record: bool

    def require_editor(self) -> None:
        if not self.may_record:
            raise NotAuthorizedError(
                "Only editors may record updates; ask a Secretariat editor to add you.")


LOCAL_OPERATOR = Principal("local", may_record=True)


@dataclass(frozen=True)
class Recorded:
    item_key: str
    title: str
    version: int
    summary: str


@dataclass(frozen=True)
class ImportResult:
    partners: int
    items: int
    events: int
    skipped: int

    def __str__(self) -> str:
        if not (self.partners or self.items or self.events):
            said = ("its one entry was" if self.skipped == 1
                    else f"all {self.skipped} entries were")
            return f"Nothing new: {said} recorded before."
        return (f"Recorded {count(self.events, 'event')}, {count(self.items, 'new item')} "
                f"and {count(self.partners, 'new partner')} "
                f"({count(self.skipped, 'entry', 'entries')} already recorded).")


class Recorder:
    """Records facts about items: one command, one save, retried on a concurrent write."""

    def __init__(self, tracker: Tracker, *, attempts: int = 12,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self.tracker, self.attempts, self.today = tracker, attempts, today

    def record(self, principal: Principal, *, key: str, what: str, fields: dict[str, Any],
               occurred: PartialDate | str, source: Source, note: str | None = None,
               ref: str | None = None) -> Recorded:
        """Record that `what` happened to the item `key`; raises a DomainError if it makes
        no sense, and NotAuthorizedError unless the principal is an editor."""
        principal.require_editor()
        when = PartialDate.parse(occurred).within_horizon(self.today())

        def attempt() -> Recorded:
            item = self.tracker.item(key)  # a copy of this thread's own
            return self._apply(principal, item, key, what, fields, when, source, note, ref)

        return retrying(attempt, self.attempts)

    def _apply(self, principal: Principal, item: Item, key: str, what: str,
               fields: dict[str, Any], when: PartialDate, source: Source, note: str | None,
               ref: str | None) -> Recorded:
        if ref and item.has_recorded(ref):
            return Recorded(key, item.state.title, item.version, ALREADY_RECORDED)
        spec = lookup(item.KIND, what)
        values = spec.coerce(fields, today=self.today())
        self._check_partners(values)
        if spec.command == "correct":
            values["changes"] = _typed_changes(item, values["corrects"], values["changes"])
        fact = Fact(when, principal.id, source, note, ref)
        getattr(item, spec.command)(fact, **values)
        [event] = item.pending_events  # the one this command raised: what is confirmed
        self.tracker.save(item)
        return Recorded(key, item.state.title, event.originator_version,
                        describe(event, self._partner_name))

    def _check_partners(self, values: dict[str, Any]) -> None:
        for name in _PARTNER_FIELDS:
            value = values.get(name)
            for key in [value] if isinstance(value, str) else value or []:
                if not self.tracker.exists(partner_id(key)):
                    raise UnknownItemError(f"no partner has the key {key!r}")

    def _partner_name(self, key: str) -> str:
        try:
            partner = self.tracker.partner(key)
        except UnknownItemError:
            return key
        return partner.acronym or partner.name


class ConcurrentWriteError(Exception):
    """A write lost the race too many times; nothing was recorded."""


def retrying(attempt: Callable[[], T], attempts: int = 12) -> T:
    """Run `attempt` (load, command, save) until no other writer saved the same aggregate
    first; each attempt must load afresh (and evict what it mutated when it fails)."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except IntegrityError:
            # A short random pause, so that racing writers spread out.
            log.info("concurrent write, retrying (attempt %d)", number)
            time.sleep(random.uniform(0, 0.01 * number))  # noqa: S311 - not security
    raise ConcurrentWriteError("it kept changing while recording; try again")


def _typed_changes(item: Item, corrects: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Turn a correction's raw values into the corrected event's own field types."""
    if not 1 <= corrects <= len(item.history):
        raise CorrectionTargetError(f"{item.state.title} has no event {corrects}")
    target = item.history[corrects - 1]
    if target.type_name == "ItemRegistered":
        return changes
    spec = next((s for s in SPECS if s.event_class is type(target)), None)
    if spec is None:  # an acknowledged gap, not a recorded fact: `Item.correct` refuses it
        return changes
    typed: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "occurred":
            typed[name] = PartialDate.parse(value)
            continue
        field = next((f for f in spec.fields if f.name == name), FieldSpec(name, "str", False))
        typed[name] = coerce_value(field, value)
    return typed


class Importer:
    """Records a checked history file: all of it in one transaction, or nothing.

    A large file is checked and recorded in several processes at once (`workers`, one per
    core). Its new items are cut into pieces of about `PIECE_EVENTS` events, in the file's
    order; each process takes the next piece not yet taken, checks its items, runs their
    commands on their own aggregates and encodes the events. This process also saves: it
    adds each piece to the one save in the file's order as soon as the pieces before it are
    in, and does a piece itself whenever the next is not ready. The partners come first,
    the items recorded before last. The result is the same as in one process."""

    PARALLEL_FROM = 20_000  # events in a file: below this, starting processes costs more
    PIECE_EVENTS = 2_000  # events in a piece of work: small, so that all finish together

    def __init__(self, tracker: Tracker, *, workers: int | None = None) -> None:
        self.tracker = tracker
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)

    def run(self, principal: Principal, history: History) -> ImportResult:
        principal.require_editor()
        with collector_paused():
            return self._run(history)

    def run_file(self, principal: Principal, path: Path) -> ImportResult:
        """Read, check and record a history file."""
        principal.require_editor()
        return self.run_draft(principal, read_draft_file(path))

    def run_draft(self, principal: Principal, draft: Draft) -> ImportResult:
        principal.require_editor()
        if (self.workers < 2 or _event_count(draft) < self.PARALLEL_FROM
                or "fork" not in multiprocessing.get_all_start_methods()):
            with collector_paused():
                history = draft.check()
            return self.run(principal, history)
        with collector_paused():
            return self._run_parallel(draft)

    def _run(self, history: History) -> ImportResult:
        saved = self.tracker.existing([partner_id(p.key) for p in history.partners]
                                      + [item_id(entry.key) for entry in history.items])
        partners, skipped = self._new_partners(history, saved)
        known = self._known_partners(history, [
            *(entry.details["partners"] for entry in history.items),
            *(event.raw.get(name) for entry in history.items for event in entry.events
              for name in _PARTNER_FIELDS)])
        recorder = _ItemRecorder(history, known)
        new: list[Item] = []
        extended: list[Item] = []
        for entry in history.items:
            existing = None
            if item_id(entry.key) in saved:
                existing = self.tracker.item(entry.key)
            item = recorder.record(entry, existing)
            if item is not None:
                (new if existing is None else extended).append(item)
        if recorder.problems:
            raise HistoryFileError(history.name, recorder.problems)
        # In the log: the partners, the new items, then the items recorded before, each
        # in the file's order (as a parallel import records them).
        self.tracker.save_all(*partners, *new, *extended)
        return ImportResult(len(partners), recorder.new_items, recorder.events,
                            skipped + recorder.skipped)

    def _new_partners(self, header: Header, saved: set[UUID]) -> tuple[list[Partner], int]:
        partners = [Partner.register(
            key=p.key, name=p.name, actor=header.actor, acronym=p.acronym,
            aliases=p.aliases, category=p.category, ref=header.ref("partner", p.key))
            for p in header.partners if partner_id(p.key) not in saved]
        return partners, len(header.partners) - len(partners)

    def _known_partners(self, header: Header, named: list[Any]) -> set[str]:
        """The partner keys among those named that are the file's or already recorded."""
        known = {p.key for p in header.partners}
        others = _texts_in(named) - known
        recorded = self.tracker.existing([partner_id(key) for key in others])
        return known | {key for key in others if partner_id(key) in recorded}

    def _run_parallel(self, draft: Draft) -> ImportResult:
        problems = draft.file_problems()
        keys = [item_key_of(mapping) for mapping in draft.items]
        saved = self.tracker.existing([partner_id(p.key) for p in draft.partners]
                                      + [item_id(key) for key in keys if key is not None])
        partners, skipped = self._new_partners(draft, saved)
        known = self._known_partners(draft, [
            *(mapping.get("partners") for mapping in draft.items),
            *(event.get(name) for mapping in draft.items for event in _events_of(mapping)
              for name in _PARTNER_FIELDS)])
        fresh = [n for n, key in enumerate(keys) if key is None or item_id(key) not in saved]
        recorded = [n for n, key in enumerate(keys) if key is not None and item_id(key) in saved]
        work = _PieceWork(draft, known, self.tracker.mapper,
                          _cut(fresh, draft, self.PIECE_EVENTS),
                          failed=multiprocessing.get_context("fork").Value("b", 0, lock=False))
        # The other processes start on the pieces at once. This one extends the items
        # recorded before (it alone reads the store), then saves the pieces in order,
        # doing one itself whenever the next is not ready. The save commits only if no
        # piece found a problem, so a bad file still records nothing.
        with _Helpers(work, self.workers - 1) as helpers:
            extended = self._extend(work, recorded)
            with self.tracker.insert_in_parts() as add:
                save = _Save(add, problems)
                save.rows(work.rows(partners))
                for done in helpers.in_order():
                    save.take(done)
                save.take(extended)
                save.raise_problems(draft.name)
        new_items, events, skipped_entries = save.counts
        return ImportResult(len(partners), new_items, events, skipped + skipped_entries)

    def _extend(self, work: _PieceWork, numbers: list[int]) -> _Done:
        """Check the items recorded before and run their commands on them, as read from
        the store (which only this process may use)."""
        entries, problems = work.draft.check_items([work.draft.items[n] for n in numbers])
        if problems:
            return _Done(problems, (0, 0, 0), checks_failed=True)
        recorder = _ItemRecorder(work.draft, work.partners)
        items = []
        for entry in entries:
            item = self.tracker.item(entry.key)
            items.append(recorder.record(entry, item))
        rows = [] if recorder.problems else work.rows(items)
        return _Done(recorder.problems, recorder.counts, rows=rows)


class _Save:
    """The pieces of a parallel import, taken in the file's order: their rows are added to
    the one save until a problem is known, and their counts are summed. The problems are
    those one process reports: the checks', or if every check passed, the commands'."""

    def __init__(self, add: Callable[[Sequence[EventRow]], object],
                 problems: list[tuple[int, str]]) -> None:
        self.add = add
        self.problems = problems  # the checks' (the file's own first)
        self.unmet: list[tuple[int, str]] = []  # those the commands met
        self.counts = (0, 0, 0)  # new items, events, entries recorded before

    def rows(self, rows: list[EventRow]) -> None:
        if not (self.problems or self.unmet):
            self.add(rows)

    def take(self, done: _Done) -> None:
        (self.problems if done.checks_failed else self.unmet).extend(done.problems)
        (new_items, events, skipped), more = self.counts, done.counts
        self.counts = (new_items + more[0], events + more[1], skipped + more[2])
        if done.rows:
            self.rows(done.rows)

    def raise_problems(self, name: str) -> None:
        if self.problems or self.unmet:
            raise HistoryFileError(name, self.problems or self.unmet)


class _Helpers:
    """Forked processes doing pieces of an import beside this one, which saves them.

    A shared counter hands out the pieces: each process takes the next one not yet taken,
    so all stay busy whatever a piece costs. A helper writes each piece it did to a file of
    a private directory and sends its number and name through a pipe (a short message, so
    it never waits for this process to read). On leaving, helpers still running (this
    process failed first) are stopped, and the directory is removed."""

    def __init__(self, work: _PieceWork, count: int) -> None:
        self.work, self.count = work, count
        self.context = multiprocessing.get_context("fork")
        self.next_piece = self.context.Value("l", 0)
        self.processes: list[Any] = []
        self.readers: list[Any] = []  # the pipes of helpers that have not said they ended

    def __enter__(self) -> _Helpers:
        try:
            self.directory = tempfile.TemporaryDirectory(prefix="cmsbot-import-")
        except OSError as error:
            raise ImportFailedError(
                f"no directory for the import's processes to hand over their work ({error}); "
                "set TMPDIR to a writable directory; nothing was recorded") from None
        for _ in range(self.count):
            reader, writer = self.context.Pipe(duplex=False)
            process = self.context.Process(
                target=self.work.serve, args=(self.take, writer, Path(self.directory.name)),
                daemon=True)
            process.start()
            writer.close()  # theirs now: a process that dies closes it, and recv says so
            self.processes.append(process)
            self.readers.append(reader)
        return self

    def take(self) -> int:
        """The number of the next piece no process has taken (past the last when none)."""
        with self.next_piece.get_lock():
            number: int = self.next_piece.value
            self.next_piece.value = number + 1
        return number

    def in_order(self) -> Iterator[_Done]:
        """Every piece done, in the file's order, each as soon as those before it are."""
        done: dict[int, _Done] = {}
        pieces = len(self.work.pieces)
        for number in range(pieces):
            self._receive(done, wait=False)
            while number not in done:
                mine = self.take()
                if mine < pieces:
                    done[mine] = self.work.do(self.work.pieces[mine])
                    self._receive(done, wait=False)
                else:  # every piece is taken: wait for the helpers'
                    self._receive(done, wait=True)
            yield done.pop(number)

    def _receive(self, done: dict[int, _Done], *, wait: bool) -> None:
        """Take in the pieces the helpers have sent; if `wait`, wait for at least one."""
        if wait and not self.readers:
            raise RuntimeError("an import piece was taken but never done; nothing was recorded")
        for reader in connection_wait(self.readers, timeout=None if wait else 0):
            message = next_answer(reader, _import_failed)
            if message is None:  # it did all it took
                self.readers.remove(reader)
                continue
            number, name = message
            path = Path(self.directory.name) / name
            done[number] = pickle.loads(path.read_bytes())  # noqa: S301 - our own process's
            path.unlink()

    def __exit__(self, *exc: object) -> None:
        for reader in self.readers:
            reader.close()
        for process in self.processes:
            if process.is_alive() and exc[0] is not None:
                process.kill()
            process.join()
        self.directory.cleanup()


class ImportFailedError(RuntimeError):
    """A process of a parallel import died, or failed (a full disk, a bug): nothing was
    recorded. `trace` is the traceback it sent, if any."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace


def _import_failed(trace: str | None) -> ImportFailedError:
    if trace is None:
        return ImportFailedError("an import process ended without an answer; "
                                 "nothing was recorded")
    said = trace.strip().splitlines()[-1]  # the exception, as "Type: message"
    return ImportFailedError(f"an import process failed ({said}); nothing was recorded",
                             trace)


class _ItemRecorder:
    """Runs checked entries' commands on their items' aggregates, and collects each problem
    with its line: the per-item half of an import, the same in one process or several."""

    def __init__(self, header: Header, partners: set[str]) -> None:
        self.header, self.partners = header, partners
        self.problems: list[tuple[int, str]] = []
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
                for name in _PARTNER_FIELDS:
                    value = values.get(name)
                    for key in [value] if isinstance(value, str) else value or []:
                        if key not in self.partners:
                            raise UnknownItemError(f"no partner has the key {key!r}")
                for name in ("corrects", "retracts"):
                    if name in values:
                        values[name] = _version_of(item, header, entry.key, values[name])
                if "changes" in values:
                    values["changes"] = _typed_changes(item, values["corrects"],
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


@dataclass(frozen=True)
class _Done:
    """A piece of an import, done: the problems found (none if it can be recorded), whether
    they are the checks' (then its commands were not run), the counts of new items, events
    and what was recorded before, and its events' rows (made only while no process has
    found a problem)."""

    problems: list[tuple[int, str]]
    counts: tuple[int, int, int]
    checks_failed: bool = False
    rows: list[EventRow] = field(default_factory=list)


@dataclass(frozen=True)
class _PieceWork:
    """What a process does with a piece of new items: check them, run their commands and
    encode their events as rows."""

    draft: Draft
    partners: set[str]
    mapper: Any
    pieces: list[list[int]]  # the new items' numbers, cut in the file's order
    # A flag shared with the forked processes, set once any process has found a problem:
    # the pieces done after that are still checked and their commands run (every problem
    # is reported), but make no rows.
    failed: Any

    def do(self, numbers: list[int]) -> _Done:
        """Check a piece's items, run their commands and encode their events."""
        entries, problems = self.draft.check_items([self.draft.items[n] for n in numbers])
        if problems:
            self.failed.value = 1
            return _Done(problems, (0, 0, 0), checks_failed=True)
        recorder = _ItemRecorder(self.draft, self.partners)
        items = [recorder.record(entry, None) for entry in entries]
        if recorder.problems:
            self.failed.value = 1
        rows = [] if self.failed.value else self.rows(items)
        return _Done(recorder.problems, recorder.counts, rows=rows)

    def rows(self, aggregates: Sequence[Item | Partner | None]) -> list[EventRow]:
        """The aggregates' new events, encoded (None: an item not recorded)."""
        return encode_rows(self.mapper, [a for a in aggregates if a is not None])

    def serve(self, take: Callable[[], int], writer: Any, directory: Path) -> None:
        """In a forked process: do the next piece not yet taken until none is left, writing
        each to a file of `directory` and sending its number and the file's name; then
        None. If anything fails, send why instead."""
        try:
            while (number := take()) < len(self.pieces):
                name = f"{os.getpid()}-{number}"
                (directory / name).write_bytes(
                    pickle.dumps(self.do(self.pieces[number]), pickle.HIGHEST_PROTOCOL))
                writer.send((number, name))
            writer.send(None)
        except BaseException:
            with contextlib.suppress(OSError):  # the importing process failed first
                writer.send(traceback.format_exc())
        writer.close()


def _cut(numbers: list[int], draft: Draft, size: int) -> list[list[int]]:
    """The items cut in the file's order into pieces of about `size` events each."""
    pieces: list[list[int]] = []
    piece: list[int] = []
    weight = 0
    for number in numbers:
        piece.append(number)
        weight += 1 + len(_events_of(draft.items[number]))
        if weight >= size:
            pieces.append(piece)
            piece, weight = [], 0
    if piece:
        pieces.append(piece)
    return pieces


def _events_of(mapping: Any) -> list[Any]:
    events = mapping.get("events")
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _event_count(draft: Draft) -> int:
    return sum(len(_events_of(mapping)) for mapping in draft.items)


def _texts_in(values: list[Any]) -> set[str]:
    """Every text among these values and lists of values, as the checks strip it."""
    texts: set[str] = set()
    for value in values:
        for text in [value] if isinstance(value, str) else value or []:
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

"""Application services: every write goes through here, authorized, and is saved whole."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
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
from cmsbot.sqliterecorder import EventRow, event_row
from cmsbot.store import Tracker
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
            return f"Nothing new: all {self.skipped} entries were recorded before."
        return (f"Recorded {self.events} events, {self.items} new items and "
                f"{self.partners} new partners ({self.skipped} entries already recorded).")


class Recorder:
    """Records facts about items: one command, one save, retried on a concurrent write."""

    def __init__(self, tracker: Tracker, *, attempts: int = 12) -> None:
        self.tracker, self.attempts = tracker, attempts

    def record(self, principal: Principal, *, key: str, what: str, fields: dict[str, Any],
               occurred: PartialDate | str, source: Source, note: str | None = None,
               ref: str | None = None) -> Recorded:
        """Record that `what` happened to the item `key`; raises a DomainError if it makes
        no sense, and NotAuthorizedError unless the principal is an editor."""
        principal.require_editor()
        when = PartialDate.parse(occurred)

        def attempt() -> Recorded:
            item = self.tracker.item(key)
            try:
                return self._apply(principal, item, key, what, fields, when, source, note,
                                   ref)
            except BaseException:
                self.tracker.forget(item.id)  # its cached copy may hold the failed event
                raise

        return retrying(attempt, self.attempts)

    def _apply(self, principal: Principal, item: Item, key: str, what: str,
               fields: dict[str, Any], when: PartialDate, source: Source, note: str | None,
               ref: str | None) -> Recorded:
        if ref and item.has_recorded(ref):
            return Recorded(key, item.state.title, item.version, ALREADY_RECORDED)
        spec = lookup(item.KIND, what)
        values = spec.coerce(fields)
        self._check_partners(values)
        if spec.command == "correct":
            values["changes"] = _typed_changes(item, values["corrects"], values["changes"])
        fact = Fact(when, principal.id, source, note, ref)
        getattr(item, spec.command)(fact, **values)
        self.tracker.save(item)
        return Recorded(key, item.state.title, item.version,
                        describe(item.history[-1], self._partner_name))

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
    spec = next(s for s in SPECS if s.event_class is type(target))
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
    core): each takes a run of new items, checks them, runs their commands on their own
    aggregates and encodes the events; this process records what they all made in one
    save: the partners, the new items and then the items recorded before, each in the
    file's order. The result is the same as in one process."""

    PARALLEL_FROM = 20_000  # events in a file: below this, starting processes costs more
    PIECE_EVENTS = 5_000  # events a process makes before handing them to the save

    def __init__(self, tracker: Tracker, *, workers: int | None = None) -> None:
        self.tracker = tracker
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)

    def run(self, principal: Principal, history: History) -> ImportResult:
        principal.require_editor()
        return self._forgetting_on_failure(lambda touched: self._run(history, touched))

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
        return self._forgetting_on_failure(lambda touched: self._run_parallel(draft, touched))

    def _forgetting_on_failure(self, run: Callable[[list[UUID]], ImportResult],
                               ) -> ImportResult:
        """Run an import, given the list to note each recorded item it loads in. If it
        fails, their cached copies may hold events that were never saved: forget them."""
        touched: list[UUID] = []
        try:
            with collector_paused():
                return run(touched)
        except BaseException:
            self.tracker.forget(*touched)
            raise

    def _run(self, history: History, touched: list[UUID]) -> ImportResult:
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
                touched.append(existing.id)
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

    def _run_parallel(self, draft: Draft, touched: list[UUID]) -> ImportResult:
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
        work = _ShardWork(draft, known, self.tracker.mapper, self.PIECE_EVENTS)
        shards = _shards(fresh, draft, self.workers)
        totals = [0, 0, 0]
        unmet: list[tuple[int, str]] = []  # problems the commands met
        # The other shards go to other processes. This one extends the items recorded
        # before (it alone reads the store), then begins the one save with its own shard (a
        # smaller one) and adds the others' pieces as they come. The save commits only if
        # no part found a problem, so a bad file still records nothing.
        with _Forked(work, shards[1:]) as others:
            extended = list(self._extend(work, recorded, touched))
            with self.tracker.insert_in_parts() as add:
                if not problems:
                    add(self.tracker.event_rows(partners))
                for piece in itertools.chain(work.run(shards[0]), others.pieces(), extended):
                    if isinstance(piece, _Outcome):
                        (problems if piece.checks_failed else unmet).extend(piece.problems)
                        totals = [t + n for t, n in zip(totals, piece.counts, strict=True)]
                    elif not (problems or unmet):
                        add(piece)
                # As one process reports them: the checks' problems, or if the whole file
                # passed its checks, those its commands met.
                if problems or unmet:
                    raise HistoryFileError(draft.name, problems or unmet)
        return ImportResult(len(partners), totals[0], totals[1], skipped + totals[2])

    def _extend(self, work: _ShardWork, numbers: list[int], touched: list[UUID],
                ) -> Iterator[_Piece]:
        """Check the items recorded before and run their commands on them, as read from
        the store (which only this process may use)."""
        entries, problems = work.draft.check_items([work.draft.items[n] for n in numbers])
        if problems:
            yield _Outcome(problems, (0, 0, 0), checks_failed=True)
            return
        recorder = _ItemRecorder(work.draft, work.partners)
        items = []
        for entry in entries:
            item = self.tracker.item(entry.key)
            touched.append(item.id)
            items.append(recorder.record(entry, item))
        if not recorder.problems:
            yield work.rows(items)
        yield _Outcome(recorder.problems, recorder.counts)


class _Forked:
    """Forked processes doing shards of an import, each sending its pieces through a pipe;
    on leaving, any still running (this process failed first) are stopped."""

    def __init__(self, work: _ShardWork, shards: list[list[int]]) -> None:
        self.work, self.shards = work, shards
        self.started: list[tuple[Any, Any]] = []

    def __enter__(self) -> _Forked:
        context = multiprocessing.get_context("fork")
        for shard in self.shards:
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=self.work.send, args=(shard, writer), daemon=True)
            process.start()
            writer.close()  # theirs now: a process that dies closes it, and recv says so
            self.started.append((process, reader))
        return self

    def pieces(self) -> Iterator[_Piece]:
        """Each process's pieces, in the shards' order, as they come."""
        for _, reader in self.started:
            while True:
                piece = next_answer(reader, _import_failed)
                yield piece
                if isinstance(piece, _Outcome):
                    break

    def __exit__(self, *exc: object) -> None:
        for process, reader in self.started:
            reader.close()
            if process.is_alive() and exc[0] is not None:
                process.kill()
            process.join()


def _import_failed(trace: str | None) -> RuntimeError:
    if trace is None:
        return RuntimeError("an import process ended without an answer; nothing was recorded")
    return RuntimeError(f"an import process failed; nothing was recorded:\n{trace}")


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
class _Outcome:
    """How a run of items ended: the problems found (none if it was recorded), whether
    they are the checks' (then its commands were not run), and the counts of new items,
    events and what was recorded before."""

    problems: list[tuple[int, str]]
    counts: tuple[int, int, int]
    checks_failed: bool = False


# A part of an import: event rows to add to the save, or, last, how it ended.
_Piece = list[EventRow] | _Outcome


@dataclass(frozen=True)
class _ShardWork:
    """What a process does with its run of new items: check them, run their commands, and
    encode their events as rows, a piece at a time, so that the save can take each piece
    while the next is made."""

    draft: Draft
    partners: set[str]
    mapper: Any
    piece_events: int

    def run(self, shard: list[int]) -> Iterator[_Piece]:
        """The rows of each piece of the shard, then its outcome. Once a problem is found no
        more rows are made, but every item is still checked, and recorded while no check
        has failed, so the problems are those one process would report."""
        recorder = _ItemRecorder(self.draft, self.partners)
        failed_checks: list[tuple[int, str]] = []
        for piece in self._pieces(shard):
            entries, problems = self.draft.check_items([self.draft.items[n] for n in piece])
            failed_checks += problems
            if failed_checks:
                continue
            items = [recorder.record(entry, None) for entry in entries]
            if not recorder.problems:
                yield self.rows(items)
        if failed_checks:
            yield _Outcome(failed_checks, (0, 0, 0), checks_failed=True)
        else:
            yield _Outcome(recorder.problems, recorder.counts)

    def _pieces(self, shard: list[int]) -> Iterator[list[int]]:
        piece: list[int] = []
        weight = 0
        for number in shard:
            piece.append(number)
            weight += 1 + len(_events_of(self.draft.items[number]))
            if weight >= self.piece_events:
                yield piece
                piece, weight = [], 0
        if piece:
            yield piece

    def rows(self, items: list[Item | None]) -> list[EventRow]:
        """The items' new events, encoded."""
        to_stored = self.mapper.to_stored_event
        return [event_row(to_stored(event)) for item in items if item is not None
                for event in item.collect_events()]

    def send(self, shard: list[int], writer: Any) -> None:
        """In a forked process: do the work and send each piece, or why it failed. A thread
        writes the pieces, so that the work goes on while the pipe is full (the importing
        process reads them only once its own part is saved)."""
        pending: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()

        def write() -> None:
            try:
                while (message := pending.get()) is not None:
                    writer.send_bytes(message)
            except OSError:  # the importing process stopped reading: it failed first
                return

        writing = threading.Thread(target=write, daemon=True)
        writing.start()
        try:
            for piece in self.run(shard):  # pickled as `Connection.send` would
                pending.put(ForkingPickler.dumps(piece))
        except BaseException:
            pending.put(ForkingPickler.dumps(traceback.format_exc()))
        pending.put(None)
        writing.join()
        writer.close()


# The importing process's own run, against each other process's: it also saves. With the
# save taking pieces as they are made, 0.9 measured best for 60k events on two cores
# (median of five: 1.71–1.75 s, against 1.78–2.26 s at 0.8 and 1.80 s at 1.0).
_OWN_SHARE = 0.9


def _shards(numbers: list[int], draft: Draft, count: int) -> list[list[int]]:
    """The items split into `count` runs in file order, by their events: the first (this
    process's) a little smaller, since this process begins the save while the others
    finish."""
    weights = [1 + len(_events_of(draft.items[n])) for n in numbers]
    shares = [_OWN_SHARE] + [1.0] * (count - 1)
    total, current, weight = sum(weights), [], 0
    ends = list(itertools.accumulate(total * share / sum(shares) for share in shares))
    shards: list[list[int]] = []
    for number, item_weight in zip(numbers, weights, strict=True):
        current.append(number)
        weight += item_weight
        if len(shards) < count - 1 and weight >= ends[len(shards)]:
            shards.append(current)
            current = []
    shards.append(current)
    return shards + [[] for _ in range(count - len(shards))]


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

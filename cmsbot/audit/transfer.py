"""`audit export` (jsonl, csv) and importing a jsonl export into another store.

A jsonl export is complete: a header line, one line per event (its plain fields for
reading, the stored event itself under `stored`, and its chain hash), and a closing line
with the count and the chain head. Importing it re-inserts the stored events through the
store's own recorder, unchanged, so the new store has the same events with the same recorded
times, and so the same views, answers and chain head.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.utils import TopicError

from cmsbot.app.auth import Principal
from cmsbot.audit.chain import ChainKeeper, Head, digest_of, link
from cmsbot.audit.records import Book, record, record_of
from cmsbot.audit.tables import GENESIS
from cmsbot.audit.walk import PAGE, walk
from cmsbot.eventstore.tracker import Tracker
from cmsbot.history import HistoryFileError
from domain.events import VersionGapAcknowledged

FORMAT = "cmsbot-audit-export"
FORMAT_VERSION = 1
CSV_COLUMNS = ("position", "log_id", "recorded", "actor", "aggregate", "item", "version",
               "type", "occurred", "occurred_start", "occurred_end", "precision", "tentative",
               "source", "note", "ref", "summary", "data", "hash")
_PROBLEM_LIMIT = 50


def export_jsonl(tracker: Tracker, out: IO[str], *, page: int = PAGE) -> Head:
    """Write the whole log to `out`, one event a line, reading `page` events at a time;
    returns the chain head it ends at."""
    out.write(json.dumps({"format": FORMAT, "version": FORMAT_VERSION,
                          "exported_at": datetime.now(UTC).isoformat()}) + "\n")
    book, head = Book(), Head(0, GENESIS)
    for entry in walk(tracker, page=page):
        book.learn(entry.event)
        line = record(entry, book)
        line["stored"] = entry.content
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        head = Head(entry.position, entry.hash)
    out.write(json.dumps({"format": FORMAT, "end": True, "events": head.position,
                          "head": str(head)}) + "\n")
    return head


def export_csv(tracker: Tracker, out: IO[str]) -> Head:
    """Write the log as CSV for spreadsheets (for reading; only jsonl re-imports)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    book, head = Book(), Head(0, GENESIS)
    for entry in walk(tracker):
        book.learn(entry.event)
        data = record(entry, book)
        occurred = data["occurred"] or {}
        writer.writerow([
            data["position"], data["log_id"], data["recorded"], data["actor"] or "",
            data["aggregate"], data["item"], data["version"], data["type"],
            occurred.get("words", ""), occurred.get("start") or "", occurred.get("end", ""),
            occurred.get("precision", ""),
            "" if not occurred else ("yes" if occurred.get("tentative") else "no"),
            data["cite"] or "", data["note"] or "", data["ref"] or "", data["summary"],
            json.dumps(data["data"], ensure_ascii=False, sort_keys=True), data["hash"],
        ])
        head = Head(entry.position, entry.hash)
    return head


class PartlyImportedError(HistoryFileError):
    """An export was imported only in part, or something else was recorded meanwhile."""

    def __init__(self, name: str, added: int, reason: str) -> None:
        self.name, self.problems = name, [(0, reason)]
        Exception.__init__(self, f"{name}: {reason} ({added} of its events were recorded; "
                                 "run `cmsbot audit verify` and compare the chain head with "
                                 "the export's last line)")


@dataclass(frozen=True)
class LogImport:
    """What importing an export did."""

    name: str
    added: int
    already: int
    head: Head

    def __str__(self) -> str:
        if not self.added:
            return (f"Nothing new: the store already holds all {self.already} events of "
                    f"{self.name} (chain head {self.head}).")
        return (f"Recorded {self.added} events from {self.name}"
                + (f" after the {self.already} the store already held" if self.already else "")
                + f"; chain head {self.head}, as in the export.")


class LogStore(Protocol):
    """What importing an export uses: the event store, the audit chain, and the catch-up
    that a writer runs after writing (the chain, then the views)."""

    tracker: Tracker
    chain: ChainKeeper

    def catch_up(self) -> int: ...


def import_jsonl(container: LogStore, principal: Principal, path: Path, *,
                 batch: int = 500) -> LogImport:
    """Record the events of a jsonl export. The store must be empty or hold a beginning of
    the same log (then the rest is added); the file is checked whole first, and refused
    whole if any line is wrong or its chain does not hold."""
    principal.require_editor()
    container.catch_up()
    present = container.chain.head()
    name = str(path)
    checked = _check(path, container.tracker.mapper, present.position)
    if present.position > checked.head.position or (
            present.position and checked.at_present != present.hash):
        raise HistoryFileError(name, [(0, (
            f"the store already holds a different history (chain head {present}); an export "
            "is imported into an empty store, or one holding a beginning of the same log"))])
    added = 0
    # In batches, so memory does not grow with the file; a batch is all or nothing, and
    # since a store holding a beginning of the log takes the rest, a retry goes on.
    for stored in _batches(_stored_events(path, container.tracker.mapper, present.position),
                           batch):
        try:
            container.tracker.recorder.insert_events(stored)
        except IntegrityError:
            container.catch_up()
            raise PartlyImportedError(name, added, "an event of the export is in the store "
                                                   "already: was something recorded while "
                                                   "importing?") from None
        added += len(stored)
    container.catch_up()
    after = container.chain.head()
    if after != checked.head:
        raise PartlyImportedError(name, added, f"the store's chain head is {after}, not the "
                                               f"export's {checked.head}: was something "
                                               "recorded while importing?")
    return LogImport(name, checked.head.position - present.position, present.position,
                     after)


@dataclass(frozen=True)
class _Checked:
    head: Head
    at_present: str  # the file's chain hash at the store's present position


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise HistoryFileError(str(path), [(number, f"not JSON: {error}")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryFileError(str(path), [(0, f"cannot read the file: {error}")]) from None


def _check(path: Path, mapper: Mapper[Any], present: int) -> _Checked:
    problems: list[tuple[int, str]] = []
    lines = _lines(path)
    first = next(lines, None)
    if first is None or not isinstance(first[1], dict) or first[1].get("format") != FORMAT:
        raise HistoryFileError(str(path), [(1, f"not a {FORMAT} file: its first line "
                                               "should be the export's header")])
    if first[1].get("version") != FORMAT_VERSION:
        raise HistoryFileError(str(path), [(1, f"export format version "
                                               f"{first[1].get('version')!r} is not "
                                               f"{FORMAT_VERSION}")])
    position, previous, at_present = 0, GENESIS, GENESIS
    versions = _Versions()
    book = Book()
    end: tuple[int, dict[str, Any]] | None = None
    for number, data in lines:
        if end is not None:
            problems.append((number, "a line after the export's closing line"))
            break
        if isinstance(data, dict) and data.get("end") is True:
            end = (number, data)
            continue
        position += 1
        reason = _event_problem(data, position, mapper, versions, number)
        if reason is None:
            previous = link(previous, position, digest_of(_content(data["stored"])))
            if previous != data.get("hash"):
                reason = ("the chain breaks here: this event is not the one the export "
                          "recorded (its hash does not match its content and the events "
                          "before it)")
        if reason is None:
            reason = _readable_problem(data, mapper, book)
        if reason is not None:
            problems.append((number, reason))
            break  # every later hash depends on this one
        if position == present:
            at_present = previous
    head = Head(position, previous)
    if not problems:
        problems.extend(versions.gaps())
        if end is None:
            problems.append((0, "the file ends without the export's closing line: it was "
                                "cut short"))
        elif end[1].get("events") != position or end[1].get("head") != str(head):
            problems.append((end[0], f"the closing line says {end[1].get('events')} events "
                                     f"ending at {end[1].get('head')}, but the file holds "
                                     f"{position} ending at {head}"))
    if problems:
        raise HistoryFileError(str(path), problems[:_PROBLEM_LIMIT])
    return _Checked(head, at_present)


@dataclass
class _Versions:
    """Each aggregate's highest version so far in the file, and the versions missing below
    it: an acknowledged gap's event, recorded later, fills them (at the version it fills)."""

    top: dict[str, int] = field(default_factory=dict)
    holes: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # version, line

    def place(self, originator: str, version: int, topic: str, line: int) -> str | None:
        top = self.top.get(originator, 0)
        if version > top + 1 + _GAP_LIMIT:
            return (f"version {version} of {originator} follows version {top}: an "
                    "aggregate's events must be complete and in order")
        if version > top:
            self.holes.setdefault(originator, []).extend(
                (missing, line) for missing in range(top + 1, version))
            self.top[originator] = version
            return None
        holes = self.holes.get(originator, [])
        hole = next((h for h in holes if h[0] == version), None)
        if hole is None or topic != VersionGapAcknowledged.TOPIC:
            return (f"version {version} of {originator} comes after version {top}: an "
                    "aggregate's events must be complete and in order (only an acknowledged "
                    "gap's event fills a version later)")
        holes.remove(hole)
        return None

    def gaps(self) -> list[tuple[int, str]]:
        return [(line, f"version {version} of {originator} is missing, and no event "
                       "acknowledges the gap: acknowledge it in the exported store "
                       f"(`cmsbot audit repair-gap`), then export again")
                for originator, holes in self.holes.items() for version, line in holes]


_GAP_LIMIT = 10_000  # more versions missing at once than this is no lost write


def _event_problem(data: Any, position: int, mapper: Mapper[Any], versions: _Versions,
                   line: int) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("stored"), dict):
        return "not an event line: it has no 'stored' event"
    if data.get("position") != position:
        return f"expected the event at position {position}, found {data.get('position')!r}"
    stored = data["stored"]
    try:
        originator = str(UUID(str(stored["originator_id"])))
        version = stored["originator_version"]
        if not isinstance(version, int) or isinstance(version, bool):
            return "'originator_version' must be a whole number"
        mapper.to_domain_event(_stored_event(stored, mapper))
    except KeyError as error:
        return f"the stored event has no {error}"
    except TopicError:
        return f"unknown event type {stored.get('topic')!r}"
    except (ValueError, TypeError) as error:
        return f"the stored event cannot be read: {error}"
    return versions.place(originator, version, str(stored.get("topic")), line)


def _readable_problem(data: dict[str, Any], mapper: Mapper[Any], book: Book) -> str | None:
    """The fields for people must say what the stored event says: the chain covers only the
    stored event, so an edit to them would otherwise go unnoticed."""
    event = mapper.to_domain_event(_stored_event(data["stored"], mapper))
    book.learn(event)
    expected = json.loads(json.dumps(record_of(data["position"], data.get("log_id", 0),
                                               event, data["hash"], book),
                                     ensure_ascii=False))
    wrong = sorted(k for k, v in expected.items() if k != "log_id" and data.get(k) != v)
    if wrong:
        return (f"the line's readable fields ({', '.join(wrong)}) do not say what its stored "
                "event says: the line was edited")
    return None


def _content(stored: dict[str, Any]) -> dict[str, Any]:
    return {"originator_id": str(UUID(str(stored["originator_id"]))),
            "originator_version": stored["originator_version"], "topic": stored["topic"],
            "state": stored["state"]}


def _stored_event(stored: dict[str, Any], mapper: Mapper[Any]) -> StoredEvent:
    # The same JSON form eventsourcing writes, so the bytes come back as they were.
    state = json.dumps(stored["state"], separators=(",", ":"),
                       ensure_ascii=False).encode("utf-8")
    if mapper.compressor:
        state = mapper.compressor.compress(state)
    if mapper.cipher:
        state = mapper.cipher.encrypt(state)
    return StoredEvent(originator_id=UUID(str(stored["originator_id"])),
                       originator_version=stored["originator_version"],
                       topic=str(stored["topic"]), state=state)


def _stored_events(path: Path, mapper: Mapper[Any], after: int) -> Iterator[StoredEvent]:
    for _, data in _lines(path):
        if isinstance(data, dict) and "stored" in data and data["position"] > after:
            yield _stored_event(data["stored"], mapper)


def _batches(events: Iterator[StoredEvent], size: int) -> Iterator[list[StoredEvent]]:
    batch: list[StoredEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

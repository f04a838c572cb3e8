"""Checking the log against the chain kept beside it, against heads published earlier, and
against itself.

The stored chain catches an event changed, deleted or moved after it was chained. It cannot
catch someone who also rewrote the chain to match; a head published earlier (HASH@POSITION,
from a digest or a copy kept elsewhere) can, because the rewritten log no longer extends it.
What the chain cannot see (a version missing from an item, an event no code can read, a
correction pointing nowhere) the consistency checks see, in the same pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, func, select

from cmsbot.audit import tables as t
from cmsbot.audit.chain import Head
from cmsbot.audit.consistency import AcknowledgedGap, Consistency, Inconsistency
from cmsbot.audit.walk import Entry, walk
from cmsbot.eventstore.tracker import Tracker


@dataclass(frozen=True)
class Problem:
    """The first place where the log is not what was chained or published."""

    position: int
    reason: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.reason}"


@dataclass
class Verification:
    events: int
    head: Head  # recomputed from the stored events
    chained: int  # how many events the stored chain covers
    problem: Problem | None = None
    heads_ok: list[Head] = field(default_factory=list)
    inconsistencies: list[Inconsistency] = field(default_factory=list)
    more_inconsistencies: int = 0  # beyond those listed
    acknowledged: list[AcknowledgedGap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.inconsistencies

    @property
    def unchained(self) -> int:
        return max(0, self.events - self.chained)


def verify(engine: Engine, tracker: Tracker, *, heads: Sequence[Head] = (),
           against: Path | None = None) -> Verification:
    """Recompute the chain from the stored events; compare it with the stored chain, with
    each given head and (optionally) with the hashes in an earlier jsonl export; and check
    that the log holds together (`consistency`)."""
    wanted = {head.position: head for head in heads}
    checks = Consistency(tracker.mapper, lambda aggregate: _refs_of(tracker, aggregate),
                         events=tracker.head())
    seen: dict[int, str] = {}
    problems: list[Problem] = []
    exported = _exported_hashes(against) if against is not None else None
    with engine.connect() as conn:
        stored_head = conn.execute(select(t.chain_head).where(
            t.chain_head.c.name == t.HEAD_ROW)).first()
        chained = stored_head.position if stored_head else 0
        last = Head(0, t.GENESIS)
        first_problem = _head_row_problem(conn, chained)
        for entry, row in _with_stored_rows(conn, walk(tracker, decode=False), chained):
            last = Head(entry.position, entry.hash)
            checks.feed(entry.position, entry.stored)
            if entry.position in wanted:
                seen[entry.position] = entry.hash
            if first_problem is None and entry.position <= chained:
                first_problem = _compare(conn, entry, row)
            if exported is not None and not problems:
                problem = _compare_export(entry, exported)
                if problem is not None:
                    problems.append(problem)
        if first_problem is None and last.position < chained:
            first_problem = Problem(
                last.position + 1,
                f"the log ends at position {last.position}, but the chain covers "
                f"{chained} events: events were deleted from the end of the log")
        if first_problem is None and chained:
            first_problem = _head_log_id_problem(conn, chained)
    checks.finish()
    if exported is not None and not problems:
        problem = _export_tail(last, exported)
        if problem is not None:
            problems.append(problem)
    if first_problem is not None:
        problems.append(first_problem)
    result = Verification(last.position, last, chained, inconsistencies=checks.problems,
                          more_inconsistencies=checks.more, acknowledged=checks.acknowledged)
    problems.extend(_check_heads(heads, seen, last, result))
    if problems:
        result.problem = min(problems, key=lambda p: p.position)
    return result


def _refs_of(tracker: Tracker, aggregate: UUID) -> list[tuple[int, str | None]]:
    """The ref of each of one aggregate's events (to confirm a ref seen twice)."""
    return [(stored.originator_version,
             getattr(tracker.mapper.to_domain_event(stored), "ref", None))
            for stored in tracker.recorder.select_events(aggregate)]


def _head_log_id_problem(conn: Connection, chained: int) -> Problem | None:
    """The head row's log id is where the keeper reads on from; it must be the last
    chained event's, or events would be chained twice or never."""
    head = conn.execute(select(t.chain_head.c.log_id).where(
        t.chain_head.c.name == t.HEAD_ROW)).scalar()
    row = conn.execute(select(t.chain.c.log_id).where(t.chain.c.position == chained)).scalar()
    if row is None or head == row:
        return None
    return Problem(chained, f"the chain's head row says the last chained event has log id "
                            f"{head}, but the chain's row there says {row}: the chain itself "
                            "was altered")


def _head_row_problem(conn: Connection, chained: int) -> Problem | None:
    """The head row is where keepers go on from; it must end where the chain's rows end."""
    rows = conn.execute(select(func.max(t.chain.c.position))).scalar() or 0
    if rows == chained:
        return None
    return Problem(min(rows, chained) + 1, f"the chain's head row says {chained} events "
                                           f"were chained, but its rows go to {rows}: the "
                                           "chain itself was altered")


def _with_stored_rows(conn: Connection, entries: Iterator[Entry], chained: int,
                      ) -> Iterator[tuple[Entry, Any]]:
    """Pair each entry with the stored chain row at its position, a page at a time."""
    batch: list[Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == 1000:
            yield from _pair(conn, batch, chained)
            batch = []
    yield from _pair(conn, batch, chained)


def _pair(conn: Connection, batch: list[Entry], chained: int) -> Iterator[tuple[Entry, Any]]:
    if not batch:
        return
    first, last = batch[0].position, min(batch[-1].position, chained)
    rows = {}
    if first <= last:
        rows = {r.position: r for r in conn.execute(select(t.chain).where(
            t.chain.c.position.between(first, last)))}
    for entry in batch:
        yield entry, rows.get(entry.position)


def _compare(conn: Connection, entry: Entry, row: Any) -> Problem | None:
    if row is None:
        return Problem(entry.position, "the stored chain has no row for this position: "
                                       "the chain itself was altered")
    if row.hash == entry.hash:
        if row.log_id != entry.log_id:
            return Problem(entry.position, f"the event is the one chained here, but its log "
                                           f"id is now {entry.log_id}, not {row.log_id}: the "
                                           "log was renumbered")
        return None
    if row.digest == entry.digest:
        return Problem(entry.position, "the event is unchanged but its stored chain hash "
                                       "differs: the chain itself was altered")
    moved = conn.execute(select(t.chain.c.position).where(
        t.chain.c.digest == entry.digest).order_by(t.chain.c.position)).scalars().first()
    if moved is None:
        return Problem(entry.position, "the stored event differs from the one chained "
                                       "here: it was changed after it was recorded")
    # Earlier positions matched, so the event now here comes from later in the chain.
    return Problem(entry.position, f"the event chained here is missing (deleted or moved "
                                   f"later); the event now here was chained at position "
                                   f"{moved}")


def _check_heads(heads: Sequence[Head], seen: dict[int, str], last: Head,
                 result: Verification) -> list[Problem]:
    problems = []
    for head in sorted(heads, key=lambda h: h.position):
        if head.position > last.position:
            problems.append(Problem(head.position, (
                f"the log no longer extends {head}: it has only {last.position} events, "
                "so events were deleted")))
        elif seen.get(head.position, "") != head.hash:
            passed = [h for h in result.heads_ok if h.position < head.position]
            since = (f" (it still extends {passed[-1]}, so the change lies in positions "
                     f"{passed[-1].position + 1}–{head.position})") if passed else ""
            problems.append(Problem(head.position, (
                f"the log no longer extends {head}: an event at or before position "
                f"{head.position} was changed, deleted or moved, and the chain kept with the "
                f"log was rewritten to match{since}")))
        else:
            result.heads_ok.append(head)
    return problems


class ExportFileError(ValueError):
    """The export given to check against cannot be read."""


def _exported_hashes(path: Path) -> Iterator[tuple[int, int, str]]:
    """(line, position, hash) of each event in a jsonl export, in order."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                data = json.loads(line)
                if isinstance(data, dict) and "position" in data and "hash" in data:
                    yield number, int(data["position"]), str(data["hash"])
            except (ValueError, TypeError):
                raise ExportFileError(f"{path}:{number}: not a line of a jsonl export"
                                      ) from None


def _compare_export(entry: Entry, exported: Iterator[tuple[int, int, str]]) -> Problem | None:
    found = next(exported, None)
    if found is None:
        return None  # the log has grown since the export
    _, position, hashed = found
    if position != entry.position or hashed != entry.hash:
        return Problem(entry.position, "the log differs here from the export it is checked "
                                       "against: this event was changed, deleted or moved "
                                       "since the export")
    return None


def _export_tail(last: Head, exported: Iterator[tuple[int, int, str]]) -> Problem | None:
    found = next(exported, None)
    if found is None:
        return None
    return Problem(last.position + 1, f"the export has events beyond position "
                                      f"{last.position}, where the log now ends: events "
                                      "were deleted")

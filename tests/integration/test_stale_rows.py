"""The overdue list's fast path (`cmsbot.readmodel.stale_rows.stale_page`, from the views'
rows) gives every page the plain path (`cmsbot.readmodel.stale.stale_page`, from every
state) gives, entries in full and the whole count: on the seed and what followed it, and on
a synthetic history, on SQLite and PostgreSQL, as at several days, by kind and by partner,
for pages of 1, 7 and 20 entries and the whole list."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.readmodel import stale, stale_rows
from cmsbot.readmodel.snapshot import Snapshot
from domain.provenance import Source
from projections import queries as q
from tests.integration.support import later_history

LATER = Source("CMS: MIKT (https://www.cms.int/en/taskforce/mikt)")
KINDS = [frozenset(), frozenset({"meeting"}), frozenset({"agreement", "engagement"})]
SIZES = [1, 7, 20, None]


def _plain(entries: list[stale.Stale]) -> list[tuple[Any, ...]]:
    return [(e.state.id, e.when, e.late, e.slip) for e in entries]


def _snapshot(container: Container, conn: Any, day: date, *, now: bool) -> Snapshot:
    """The current views read as on `day` (`now`), or the items as at `day` (folded)."""
    read = container.readmodel.snapshot(conn, as_at=None if now else day)
    return Snapshot(conn, read.tracker, read.index, as_at=None if now else day,
                    known_at=None, reference=day)


def assert_same_pages(container: Container, days: list[date]) -> list[stale.Stale]:
    """Every page of the fast path equals the plain path's slice, with the same count, as
    at each day, for each kind and for no partner, each partner with dated items, and an
    empty list of items; returns every entry of the unfiltered lists for now."""
    seen: list[stale.Stale] = []
    with container.engine.connect() as conn:
        index = container.readmodel.snapshot(conn).index
        partners: list[list[str] | None] = [None, []]
        partners += [ids for key in sorted(index.partners)
                     if len(ids := q.items_with_partner(conn, key)) >= 2][:3]
        for day in days:
            for now in (True, False):
                for kinds in KINDS:
                    for item_ids in partners:
                        plain_snap = _snapshot(container, conn, day, now=now)
                        fast_snap = _snapshot(container, conn, day, now=now)
                        whole, total = stale.stale_page(plain_snap, kinds=kinds,
                                                        item_ids=item_ids, first=0, count=None)
                        assert total == len(whole)
                        if now and not kinds and item_ids is None:
                            seen.extend(whole)
                        for size in SIZES:
                            step = size or total or 1
                            for first in range(0, total + step, step):
                                page, count = stale_rows.stale_page(
                                    fast_snap, kinds=kinds, item_ids=item_ids, first=first,
                                    count=size)
                                wanted = whole[first:] if size is None else \
                                    whole[first:first + size]
                                assert (_plain(page), count) == (_plain(wanted), total), (
                                    day, now, kinds, item_ids, first, size)
    return seen


def _kinds_of_entry(entries: list[stale.Stale], day_of: dict[str, date]) -> set[str]:
    """Which kinds of entry were compared: a plain late date, a step settled by its
    meeting before its own date passed, a slipped meeting."""
    found = set()
    for entry in entries:
        if entry.slip is not None:
            found.add("slip")
        elif entry.late is not None and entry.late.met is not None \
                and entry.late.planned.end >= day_of.get(entry.state.id, date.max):
            found.add("settled step")
        elif entry.late is not None:
            found.add("late")
    return found


def _held(container: Container, key: str, dates: str, venue: str | None = None) -> None:
    container.recorder.record(LOCAL_OPERATOR, key=key, what="held", occurred=dates,
                              fields={"dates": dates, "venue": venue}, source=LATER)


def test_the_seed_and_what_followed_it(seeded: Container) -> None:
    days = [date(2015, 9, 1), date(2015, 10, 16), date(2016, 5, 1), date(2016, 11, 10),
            date(2017, 1, 1), date(2027, 1, 1)]
    assert_same_pages(seeded, days)
    later_history(seeded)
    assert_same_pages(seeded, days)
    # Held: StC44 and StC45 (the steps that wait on them settle, "consolidation for StC45"
    # before its own date), MIKT1 later than first planned, the Caribbean workshop elsewhere.
    _held(seeded, "stc44", "14-15 October 2015", "Bonn, Germany")
    _held(seeded, "stc45", "8-9 November 2016", "Bonn, Germany")
    _held(seeded, "mikt-1", "12-15 July 2016", "Cairo, Egypt")
    _held(seeded, "caribbean-accession-workshop", "2016-08-31..2016-09-02",
          "Bridgetown, Barbados")
    seeded.catch_up()
    seen = assert_same_pages(seeded, days)
    assert _kinds_of_entry(seen, {}) >= {"late", "slip"}
    with seeded.engine.connect() as conn:
        snap = _snapshot(seeded, conn, date(2016, 11, 10), now=True)
        then, _ = stale.stale_page(snap, kinds=frozenset(), item_ids=None, first=0,
                                   count=None)
    assert "settled step" in _kinds_of_entry(then, {e.state.id: snap.reference for e in then})


def test_a_synthetic_history(container: Container, tmp_path: Path) -> None:
    from bench.synth import TINY, write_histories

    files, _ = write_histories(TINY, tmp_path)
    for path in files:
        container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    seen = assert_same_pages(container, [date(2014, 6, 1), date(2016, 6, 1),
                                         date(2019, 1, 1), date(2030, 1, 1)])
    assert _kinds_of_entry(seen, {}) >= {"late", "slip"}
    assert len(seen) > 20

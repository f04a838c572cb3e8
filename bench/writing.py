"""The writing figures: recording one event, importing history files, rebuilding the views,
each beside its floor (the bare eventsourcing library, raw SQL inserts)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.common import POSTGRES, PRINT_PEAK, container, measured_peak, peak_mb, store, timed
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from cmsbot.settings import Database
from domain.provenance import Source


class BenchNote(Aggregate):
    """The bare-library twin of recording one fact: get, command, save."""

    @event("Noted")
    def note(self, text: str) -> None:
        self.last = text


class BareApplication(Application[Any]):
    name = "benchcore"


def append_figures(backend: str, workdir: Path, count: int) -> dict[str, float]:
    """Recording one event per command: ours, the bare library, and raw inserts."""
    figures: dict[str, float] = {}
    with store(backend, workdir) as url:
        app = container(url)
        app.importer.run(LOCAL_OPERATOR, read_history_file(SEED))

        def ours() -> None:
            for number in range(count):
                app.recorder.record(LOCAL_OPERATOR, key="unep-mts", what="progress noted",
                                    fields={"summary": f"contact {number}"}, occurred="2016",
                                    source=Source("BENCH/1", str(number)))
        ours_s = timed(ours)
        env = Database(url).eventsourcing_env(create_table=True)
        env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder
        bare = BareApplication(env={**env, "AGGREGATE_CACHE_MAXSIZE": "2000"})
        note = BenchNote()
        bare.save(note)

        def core() -> None:
            for number in range(count):
                aggregate: BenchNote = bare.repository.get(note.id)
                aggregate.note(f"contact {number}")
                bare.save(aggregate)
        core_s = timed(core)
        payload = app.tracker.recorder.select_events(
            app.tracker.item("unep-mts").id, desc=True, limit=1)[0].state
        raw_s = timed(lambda: raw_inserts(url, payload, count))
        app.close()
        bare.close()
    figures["append_events_per_s"] = count / ours_s
    figures["core_append_events_per_s"] = count / core_s
    figures["append_ratio_vs_core"] = core_s / ours_s
    figures["raw_insert_rows_per_s"] = count / raw_s
    return figures


def raw_inserts(url: str, payload: bytes, count: int) -> None:
    """The floor: plain SQL inserts of the same payloads, one transaction each."""
    if url.startswith("sqlite"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("CREATE TABLE raw_events (id INTEGER PRIMARY KEY, state BLOB)")
        for _ in range(count):
            lite.execute("BEGIN")
            lite.execute("INSERT INTO raw_events (state) VALUES (?)", (payload,))
            lite.execute("COMMIT")
        lite.close()
        return
    schema = url.split("schema=")[1]  # made by store(): bench_ and hex digits
    options = f"-csearch_path={schema}"
    with psycopg.connect(POSTGRES, autocommit=True, options=options) as conn:
        conn.execute("CREATE TABLE raw_events (id BIGSERIAL PRIMARY KEY, state BYTEA)")
        for _ in range(count):
            with conn.transaction():
                conn.execute("INSERT INTO raw_events (state) VALUES (%s)", (payload,))


def import_figures(url: str, history_files: list[Path], events: int) -> dict[str, float]:
    """Reading, checking and recording whole history files (the JSON form, the bulk
    format), each in one save, as `cmsbot import` does: one file at the quick size, five
    at a million events (a history file is bounded)."""
    app = container(url)
    try:
        seconds = timed(lambda: [app.importer.run_file(LOCAL_OPERATOR, history_file)
                                 for history_file in history_files])
    finally:
        app.close()
    return {"import_events_per_s": events / seconds}


def import_peak_figures(url: str, history_files: list[Path]) -> dict[str, float]:
    """The peak memory of `cmsbot import`, each history file in its own process in turn
    (the views brought up to date after each, as the command does): the highest of their
    peaks, in MB, each the process's own (`measured_peak`), with what its forked helpers
    added."""
    code = ("import sys; from cmsbot.cli import main; code = main(['import', sys.argv[1]]); "
            + PRINT_PEAK + "; sys.exit(code)")
    peaks = []
    for history_file in history_files:
        out, helper_mb = measured_peak(code, str(history_file), env={"CMSBOT_DATABASE_URL": url})
        peaks.append(peak_mb(out) + helper_mb)
    return {"import_peak_rss_mb": max(peaks)}


class BenchItem(Aggregate):
    """The bare-library twin of an imported item: created, then a few events."""

    def __init__(self, title: str) -> None:
        self.title = title

    @event("Noted")
    def note(self, text: str, occurred: str, source: dict[str, str]) -> None:
        self.last = text


def core_import_figures(url: str, events: int, per_item: int = 6,
                        per_save: int = 1000) -> dict[str, float]:
    """The floor beneath an import: the bare library making aggregates of the same number
    of events and saving them, 1,000 events a save (a larger save deadlocks its
    PostgreSQL pipeline)."""
    env = Database(url).eventsourcing_env(create_table=True)
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder
    bare = BareImport(env=env)

    def run() -> None:
        pending: list[BenchItem] = []
        for number in range(events // per_item):
            item = BenchItem(f"item {number}")
            for step in range(per_item - 1):
                item.note(f"progress {step}", "2015-09", {"document": "BENCH/3",
                                                           "paragraph": str(step)})
            pending.append(item)
            if len(pending) * per_item >= per_save:
                bare.save(*pending)
                pending = []
        bare.save(*pending)

    try:
        seconds = timed(run)
    finally:
        bare.close()
    return {"core_import_events_per_s": (events // per_item) * per_item / seconds}


class BareImport(Application[Any]):
    name = "benchimport"


def rebuild_figures(url: str) -> dict[str, float]:
    """Every view rebuilt from zero, in a process of its own so its peak memory shows, with
    the shared rebuild opted in (`projections.parallel_rebuild`, from its `WORTH_IT_FROM`
    events). Its memory is the rebuilding process's peak plus the most the forked helper
    added to it, which is also shown alone (`rebuild_helper_peak_mb`, 0 when the log is
    too short to share)."""
    code = ("import sys, time; from cmsbot.bootstrap import bootstrap; "
            "from cmsbot.settings import Database, Settings; "
            "from projections.parallel_rebuild import WORTH_IT_FROM; "
            "from projections.projector import Projector; "
            "c = bootstrap(Settings(database=Database(sys.argv[1]))); "
            "p = Projector(c.engine, c.tracker, share_rebuild_from=WORTH_IT_FROM); "
            "t = time.perf_counter(); n = p.rebuild(); d = time.perf_counter() - t; "
            "print('rebuilt', n, d); " + PRINT_PEAK)
    out, helper_mb = measured_peak(code, url)
    [(count, seconds)] = [line.split()[1:] for line in out.splitlines()
                          if line.startswith("rebuilt ")]
    return {"rebuild_events_per_s": int(count) / float(seconds),
            "rebuild_peak_rss_mb": peak_mb(out) + helper_mb,
            "rebuild_helper_peak_mb": helper_mb}

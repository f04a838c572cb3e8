"""`make bench` / `make bench-full`: the figures of docs/performance.md, side by side with
the floor beneath us (raw SQL inserts, and the eventsourcing library alone), in one run.

Prints a table and writes the same figures to var/bench/latest.json. This module runs the
figures and checks their targets; they are measured in `bench.writing` (recording, imports,
rebuilds), `bench.asking` (questions and digests in-process) and `bench.serving` (through
`cmsbot serve` and whole `cmsbot` processes), on the history `bench.synth` writes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.asking import ask_figures
from bench.common import MODES, POSTGRES, ROOT, Mode, postgres_answers, store, timed
from bench.serving import ack_figures, cli_ask_figures, cold_start_figures, served_figures
from bench.synth import write_histories
from bench.writing import (
    append_figures,
    core_import_figures,
    import_figures,
    import_peak_figures,
    rebuild_figures,
)

TARGETS = {"append_ratio_vs_core": (">=", 0.7), "import_events_per_s": (">=", 30_000),
           "rebuild_events_per_s": (">=", 20_000), "rebuild_peak_rss_mb": ("<=", 300),
           "import_peak_rss_mb": ("<=", 400),  # for the million-event files
           "ask_p95_ms": ("<=", 20), "as_at_p95_ms": ("<=", 50),
           "record_ms_long_item": ("<=", 5), "ack_p95_ms": ("<=", 100),
           "digest_100_channels_s": ("<=", 2), "cli_cold_start_s": ("<=", 1.0),
           "digest_past_week_s": ("<=", 2),
           # every intent's p95 (ms) at the quick size; 50 at a million events
           "ask_p95_ms_by_intent": ("<=", 20),
           "served_to_engine_ratio": (">=", 0.5), "cli_ask_wall_s": ("<=", 1.0)}


def step(what: str, action: Callable[[], Any]) -> None:
    print(f"… {what}", end="", flush=True, file=sys.stderr)
    seconds = timed(action)
    print(f" ({seconds:.1f} s)", file=sys.stderr)


def measure(backend: str, workdir: Path, mode: Mode, history_files: list[Path],
            events: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    step(f"{backend}: appending",
         lambda: figures.update(append_figures(backend, workdir, mode.appends)))
    with store(backend, workdir) as url:  # a store of its own: the library's events
        step(f"{backend}: importing {events} events with the bare library",
             lambda: figures.update(core_import_figures(url, events)))
    with store(backend, workdir) as url:
        step(f"{backend}: importing {events} events",
             lambda: figures.update(import_figures(url, history_files, events)))
        step(f"{backend}: rebuilding", lambda: figures.update(rebuild_figures(url)))
        step(f"{backend}: asking", lambda: figures.update(ask_figures(url, mode.questions)))
        step(f"{backend}: acknowledging slash commands on cmsbot serve",
             lambda: figures.update(ack_figures(url, mode, workdir)))
        step(f"{backend}: answers through cmsbot serve and in-process",
             lambda: figures.update(served_figures(url, mode, workdir)))
        if backend == "sqlite":
            step("sqlite: one question by a whole cmsbot ask process",
                 lambda: figures.update(cli_ask_figures(url)))
    with store(backend, workdir) as url:  # the same files, each by `cmsbot import`
        step(f"{backend}: importing {events} events by cmsbot import, for its peak memory",
             lambda: figures.update(import_peak_figures(url, history_files)))
    return figures


def run(mode: Mode, output: Path, backends: list[str]) -> dict[str, Any]:
    workdir = ROOT / "var" / "bench" / mode.name
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("history*.json"):
        old.unlink()
    history_files, events = write_histories(mode.shape, workdir)  # the bulk form
    report: dict[str, Any] = {
        "mode": mode.name, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "history": {"items": mode.shape.items, "partners": mode.shape.partners,
                    "events": events},
        "figures": {},
    }
    for backend in backends:
        report["figures"][backend] = measure(backend, workdir, mode, history_files, events)
    report["figures"].setdefault("sqlite", {}).update(cold_start_figures(workdir))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    return report


def table(report: dict[str, Any]) -> str:
    backends = list(report["figures"])
    names = sorted({name for figures in report["figures"].values() for name in figures})
    lines = [f"{'figure':28}" + "".join(f"{b:>14}" for b in backends) + "   target"]
    rows: list[tuple[str, list[Any], tuple[str, float] | None]] = []
    for name in names:
        values = [report["figures"][b].get(name) for b in backends]
        if any(isinstance(value, dict) for value in values):  # one row per intent: its p95
            for key in sorted({k for v in values if isinstance(v, dict) for k in v}):
                rows.append((f"ask_p95_ms[{key}]", [(v or {}).get(key) for v in values],
                             TARGETS.get(name)))
            continue
        rows.append((name, values, TARGETS.get(name)))
    for name, values, target in rows:
        cells = "".join(f"{_p95(value):>14.2f}" for value in values)
        lines.append(f"{name:28}{cells}   {target[0] + ' ' + str(target[1]) if target else ''}")
    history = report["history"]
    lines.append(f"({report['mode']}: {history['items']} items, {history['partners']} "
                 f"partners, {history['events']} events; {report['machine']['cpus']} CPUs, "
                 f"{report['date']})")
    return "\n".join(lines)


def _p95(value: Any) -> float:
    """A figure as the table shows it: a number, an intent's p95, or nan when missing."""
    if isinstance(value, dict):
        value = value.get("p95")
    return float("nan") if value is None else float(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "bench" / "latest.json")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    backends = ["sqlite"]
    if not args.sqlite_only:
        if postgres_answers():
            backends.append("postgresql")
        else:
            print(f"PostgreSQL at {POSTGRES} does not answer: measuring SQLite only")
    report = run(MODES[args.mode], args.output, backends)
    print(table(report))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

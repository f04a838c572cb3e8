"""The benchmark runs end to end on a tiny history (speed is reported, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.asking import INTENT_MIX
from bench.run import TARGETS, main


def test_the_benchmark_runs_and_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    assert main(["--mode", "tiny", "--sqlite-only", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    figures = report["figures"]["sqlite"]
    expected = set(TARGETS) | {"append_events_per_s", "raw_insert_rows_per_s", "ask_p50_ms",
                               "ask_p99_ms", "ack_p50_ms", "ack_p99_ms", "ack_requests"}
    assert expected <= set(figures)
    # Every intent of the mix is there: timed (p50 ≤ p95 ≤ p99), or missing (None) when
    # the engine answers its questions as another intent (one that is still to come).
    by_intent = figures.pop("ask_p95_ms_by_intent")
    assert set(by_intent) == set(INTENT_MIX)
    timed = {name: p for name, p in by_intent.items() if p is not None}
    assert {"status", "history", "upcoming", "as-at status", "as-at upcoming",
            "changed since", "no match"} <= set(timed)
    assert all(0 < p["p50"] <= p["p95"] <= p["p99"] for p in timed.values())
    # Every figure measured something; a tiny run's backlog never fills, so no asker is
    # told to come back, and its log is too short for a rebuild to share.
    maybe_none = {"ack_told_busy", "rebuild_helper_peak_mb"}
    assert all(value > 0 for name, value in figures.items() if name not in maybe_none)
    assert figures["ack_told_busy"] == 0 and figures["rebuild_helper_peak_mb"] == 0
    assert report["machine"]["cpus"] and report["history"]["events"] > 0

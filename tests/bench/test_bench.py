"""The benchmark runs end to end on a tiny history (speed is reported, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import TARGETS, main


def test_the_benchmark_runs_and_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    assert main(["--mode", "tiny", "--sqlite-only", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    figures = report["figures"]["sqlite"]
    expected = set(TARGETS) | {"append_events_per_s", "raw_insert_rows_per_s", "ask_p50_ms",
                               "ask_p99_ms", "ack_p50_ms", "ack_p99_ms", "ack_requests"}
    assert expected <= set(figures)
    # Every figure measured something; a tiny run's backlog never fills, so no asker is
    # told to come back, and its log is too short for a rebuild to share.
    maybe_none = {"ack_told_busy", "rebuild_helper_peak_mb"}
    assert all(value > 0 for name, value in figures.items() if name not in maybe_none)
    assert figures["ack_told_busy"] == 0 and figures["rebuild_helper_peak_mb"] == 0
    assert report["machine"]["cpus"] and report["history"]["events"] > 0

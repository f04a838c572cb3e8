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
    assert all(value > 0 for value in figures.values())
    assert report["machine"]["cpus"] and report["history"]["events"] > 0

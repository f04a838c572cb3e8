"""What the integration tests share: the command line run as a new user runs it, in a
process of its own, a later history recorded over the seed, and the seed with the
later-history files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED
from domain.provenance import Source
from projections import tables as t

ROOT = Path(__file__).resolve().parents[2]
LATER_FILES = sorted((ROOT / "tests" / "data").glob("later-history-*.yaml"))


def cmsbot(*args: str, database: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python -m cmsbot.cli ARGS` on the store at `database`; raises when it fails, unless
    `check` is false."""
    env = {**os.environ, "CMSBOT_DATABASE_URL": database}
    return subprocess.run([sys.executable, "-m", "cmsbot.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=check)


STC44_REPORT = Source("UNEP/CMS/StC44/Report", "30")
STC45_DOC = Source("UNEP/CMS/StC45/Doc.14", "5")
CORRECTION = Source("UNEP/CMS/StC45/Inf.2", "1")


def later_history(container: Container) -> datetime:
    """After the seed: StC44 endorsed the Ramsar JWP; the Panama workshop was held (its
    venue later corrected); and, back-dated, the BLG meeting held in August 2015. Returns
    a time between the seed and these."""
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)

    def record(key: str, what: str, occurred: str, source: Source, **fields: object) -> None:
        container.recorder.record(LOCAL_OPERATOR, key=key, what=what, fields=dict(fields),
                                  occurred=occurred, source=source)

    record("ramsar-jwp", "endorsed", "15 October 2015", STC44_REPORT,
           body="CMS Standing Committee", meeting="StC44")
    record("latin-america-accession-workshop", "held", "24 September 2015", STC45_DOC,
           dates="22-24 September 2015", venue="Panama City")
    held = container.tracker.item("latin-america-accession-workshop").version
    record("latin-america-accession-workshop", "corrected", "1 November 2015", CORRECTION,
           corrects=held, changes={"venue": "Panama City, Panama"}, reason="the country")
    record("blg-meeting-2015", "held", "August 2015", STC45_DOC, dates="August 2015")
    container.catch_up()
    return between


def seed_and_later_files(container: Container) -> Container:
    """The seed, then the later-history files (tests/data/README.md), imported and caught
    up."""
    container.importer.run_file(LOCAL_OPERATOR, SEED)
    for path in LATER_FILES:
        container.importer.run_file(LOCAL_OPERATOR, path)
    container.catch_up()
    return container


def agenda_rows(container: Container) -> list[tuple[Any, ...]]:
    """Every row of the agenda view and its marks, in a fixed order: what a view kept event
    by event is compared with once rebuilt."""
    with container.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(select(t.agenda))), key=repr) + sorted(
            (tuple(r) for r in conn.execute(select(t.agenda_marks))), key=repr)

"""The command line as a new user runs it: real processes on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import new_store

from .support import ROOT, cmsbot


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = new_store(f"sqlite:///{tmp_path}/cli.sqlite")  # `cmsbot db init`, in this process
    assert "Recorded" in cmsbot("import", "--seed", database=url).stdout
    return url


def test_import_needs_no_environment_or_database() -> None:
    result = subprocess.run([sys.executable, "-c", "import cmsbot, cmsbot.bootstrap, "
                             "cmsbot.cli, domain.items, projections.projector"],
                            env={"PATH": os.environ["PATH"]}, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_ask_answers_in_json(database: str) -> None:
    result = cmsbot("ask", "--json", "--as-at", "2015-09-01", "where", "are", "we", "with",
                    "the", "IWC", "plan?", database=database)
    data = json.loads(result.stdout)
    assert data["intent"] == "status"
    assert data["matches"][0]["title"] == "IWC–CMS Joint Work Plan"
    assert data["sources"] == [{"document": "UNEP/CMS/StC44/18", "paragraph": "10"}]


def test_ask_what_is_overdue_as_at_a_date_in_the_words(database: str) -> None:
    data = json.loads(cmsbot("ask", "--json", "what", "was", "overdue", "as", "at", "1",
                             "September", "2016?", database=database).stdout)
    assert (data["intent"], data["as_at"]) == ("overdue", "2016-09-01")
    assert "early 2016: First meeting of the Intergovernmental Task Force" in data["text"]
    assert "overdue since 1 May 2016" in data["text"]


def test_reimport_records_nothing(database: str) -> None:
    assert "Nothing new" in cmsbot("import", "--seed", database=database).stdout


def test_a_broken_file_is_refused_with_its_line(database: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("document: X\nitems:\n  - key: a\n    kind: meeting\n    title: A\n"
                      "    events:\n      - type: held\n        dates: 2015-13-45\n")
    result = cmsbot("import", str(broken), database=database, check=False)
    assert result.returncode == 2  # the file is at fault, not the store
    assert f"{broken}:7: dates: no such day: '2015-13-45'" in result.stderr
    assert "Traceback" not in result.stderr


def test_record_then_ask(database: str) -> None:
    recorded = cmsbot("record", "iwc-jwp", "endorsed", "--occurred", "2015-10-15",
                      "--field", "body=CMS Standing Committee", "--field", "meeting=StC44",
                      "--document", "UNEP/CMS/StC44/Report", "--paragraph", "12",
                      database=database)
    assert "Endorsed by CMS Standing Committee at StC44" in recorded.stdout
    answer = cmsbot("ask", "status of IWC JWP", database=database).stdout
    assert "endorsed" in answer and "UNEP/CMS/StC44/Report ¶12" in answer


def test_a_command_that_makes_no_sense_is_refused_plainly(database: str) -> None:
    result = cmsbot("record", "ipbes-3", "held", "--occurred", "2015-01-17",
                    "--field", "dates=12-17 January 2015", database=database, check=False)
    assert result.returncode == 1
    assert "was held already" in result.stderr and "Traceback" not in result.stderr


def test_rebuild_and_projector(database: str) -> None:
    assert "Rebuilt every view from 130 events" in cmsbot("projections", "rebuild",
                                                          database=database).stdout
    assert "Caught up: 0 events" in cmsbot("projector", "--once", database=database).stdout


def test_record_a_correction(database: str) -> None:
    cmsbot("record", "southeast-asia-accession-workshop", "corrected", "--occurred",
           "2015-09-10", "--field", "corrects=2", "--field", "changes.venue=Manila",
           "--field", "reason=city confirmed", database=database)
    answer = cmsbot("ask", "status of the Philippines workshop", database=database).stdout
    assert "Manila" in answer


def test_digest_preview_as_at_the_report_date(database: str) -> None:
    text = cmsbot("digest", "preview", "--channel", "C1", "--as-at", "2015-09-01",
                  database=database).stdout
    coming = text[text.index("Coming up"):text.index("Gone quiet")]
    order = [coming.index(words) for words in (
        "22-24 September 2015: Workshop to promote the accession of Latin American",
        "27-29 October 2015: Workshop to promote the accession of South-east Asian",
        "late November 2015: Meeting of the CMS African-Eurasian Landbirds Working Group")]
    assert order == sorted(order)
    assert "Panama — UNEP/CMS/StC44/18 ¶21" in coming
    assert "Philippines — UNEP/CMS/StC44/18 ¶20" in coming
    assert "Abidjan, Côte d'Ivoire — UNEP/CMS/StC44/18 ¶23" in coming
    assert "1 submission" in text
    # ISO week 36 of 2015 runs from Monday 31 August: the preview covers it up to that date.
    assert text.startswith("Digest 2015-W36: 31 August 2015 – 1 September 2015")


def test_a_record_sent_again_with_its_ref_records_nothing(database: str) -> None:
    """A script that retries a record whose first try may have landed gives it a ref."""
    command = ("record", "unep-mts", "progress noted", "--occurred", "2016-03",
               "--field", "summary=call with the focal point", "--ref", "mts-2016-03-call")
    first = cmsbot(*command, database=database)
    assert first.stdout.startswith("Recorded on")
    again = cmsbot(*command, database=database)
    assert "Already recorded" in again.stdout and "mts-2016-03-call" in again.stdout
    history = cmsbot("ask", "history of unep-mts", database=database).stdout
    entries = [line for line in history.splitlines() if line.startswith("•")]
    assert sum("call with the focal point" in line for line in entries) == 1


def test_a_question_starts_without_the_parts_that_write(database: str) -> None:
    """`cmsbot ask` answers without importing what only writers, audits, digests or Slack
    need (their imports were most of a question's start-up)."""
    code = ("import sys; from cmsbot import cli; status = cli.main(['ask', 'status of IWC JWP']);"
            " print(sorted(m for m in sys.modules if m.split('.')[0] in"
            " ('yaml', 'slack_bolt', 'gunicorn', 'apscheduler') or m.startswith(("
            "'cmsbot.audit.', 'cmsbot.app.import', 'cmsbot.digests', 'cmsbot.slack', "
            "'cmsbot.history', 'sqlalchemy.dialects.postgresql'))"
            " and m != 'cmsbot.audit.tables'), status)")  # a reader checks the chain's tables
    env = {**os.environ, "CMSBOT_DATABASE_URL": database}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=True)
    answer, loaded = result.stdout.rsplit("\n", 2)[:2]
    assert answer.startswith("IWC–CMS Joint Work Plan")
    assert loaded == "[] 0"

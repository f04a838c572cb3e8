"""Every surface asks through one grammar: `cmsbot ask`, `cmsbot chat` (piped), a signed
Slack request and the engine give the same answer to each phrase family; times in words
equal the options; and the command line's `items` and `chat` behave as documented."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsbot import cli
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.history import SEED, read_history_file
from cmsbot.slack.blocks import PAGE_SIZE, escape
from cmsbot.wording import day
from tests.bot.fakes import FakeSlack
from tests.bot.harness import serving
from tests.conftest import make_container
from tests.integration.support import later_history

ROOT = Path(__file__).resolve().parents[2]

# One question of each phrase family (docs/usage.md, "Times in a question").
PHRASES = [
    "status of the Ramsar JWP as at 1 September 2015",
    "status of the Ramsar JWP as of 2015-09-01",
    "what was the status of the Ramsar JWP on 1 September 2015?",
    "status of the Ramsar JWP in October 2015",
    "where did the Ramsar JWP stand at the end of 2015",
    "what happened last week",
    "what's coming up this month",
    "what changed since 1 September 2015",
    "what happened since StC44",
    "what changed since the last report",
    "status of the Ramsar JWP known at 2015-09-01",
    "status of the Ramsar JWP recorded by 1 January 2016",
    "what was recorded since 1 September 2015",
    "did StC44 endorse the Ramsar JWP?",
    "has the Panama workshop been held as at 1 September 2015?",
    "is the IOTC MoC signed?",
    "status of the IWC JWP as at 31 February 2015",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    path = tmp_path_factory.mktemp("grammar") / "grammar.sqlite"
    container = make_container(f"sqlite:///{path}")
    container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
    container.catch_up()
    later_history(container)
    yield container
    container.close()


@pytest.fixture
def on_store(store: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    monkeypatch.setenv("CMSBOT_DATABASE_URL", store.settings.database.url)
    return store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def chat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typed: str,
         *options: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    return run(capsys, "chat", *options)


@pytest.mark.parametrize("question", PHRASES)
def test_ask_chat_and_the_engine_give_one_answer(
        on_store: Container, question: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = on_store.questions.answer(question).to_json()
    code, asked = run(capsys, "ask", "--json", question)
    assert code == 0 and json.loads(asked) == engine
    code, chatted = chat(monkeypatch, capsys, f"\n{question}\n\n", "--json")
    assert code == 0 and [json.loads(line) for line in chatted.splitlines()] == [engine]
    code, shown = chat(monkeypatch, capsys, f"{question}\n")
    heading = engine["text"].splitlines()[0].rstrip(":")
    assert code == 0 and (heading[:60] in shown or engine["matches"][0]["title"] in shown)


_QUESTIONS = st.sampled_from([
    "status of the Ramsar JWP", "where are we with the CITES JWP", "history of the IWC JWP",
    "what do we have with Ramsar", "what's coming up", "meetings in 2016",
    "which agreements are awaiting endorsement", "who submitted on civil society",
    "what changed since 1 June 2015", "what happened since StC44",
    "did StC44 endorse the Ramsar JWP", "has the Panama workshop been held",
    "what was recorded since 1 September 2015", "workshops", "help me with the JWP"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_QUESTIONS, st.dates(date(1990, 1, 1), date(2035, 12, 31)), st.booleans())
def test_as_at_in_words_is_the_as_at_option(store: Container, question: str, when: date,
                                            iso: bool) -> None:
    said = store.questions.answer(f"{question} as at {when if iso else day(when)}")
    flagged = store.questions.answer(question, as_at=when)
    assert (said.intent, said.text, said.sources, said.as_at) == (
        flagged.intent, flagged.text, flagged.sources, flagged.as_at)


class TestChat:
    def test_blank_lines_are_skipped_and_quit_ends(
            self, on_store: Container, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> None:
        code, out = chat(monkeypatch, capsys, "status of IWC JWP\n\n  \nstatus of CBD JWP\n"
                         "quit\nstatus of the Ramsar JWP\n")
        assert code == 0
        assert "== IWC–CMS Joint Work Plan ==" in out and "== CBD–CMS Joint Work Plan" in out
        assert "Ramsar" not in out

    def test_the_options_are_ask_s(self, on_store: Container,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
        options = ("--as-at", "2015-09-01", "--known-at", "2030-01-01T00:00Z")
        code, out = chat(monkeypatch, capsys, "status of the Ramsar JWP\n", "--json", *options)
        assert code == 0
        code, asked = run(capsys, "ask", "--json", *options, "status of the Ramsar JWP")
        assert json.loads(out) == json.loads(asked)
        assert json.loads(asked)["matches"][0]["status"] == "awaiting endorsement"

    @pytest.mark.parametrize("option", [("--as-at", "2015-13-45"),
                                        ("--known-at", "yesterday")])
    def test_a_bad_option_exits_2(self, on_store: Container, option: tuple[str, str]) -> None:
        with pytest.raises(SystemExit) as exited:
            cli.main(["chat", *option, "status of IWC JWP"])
        assert exited.value.code == 2

    def test_piped_to_the_real_process_ctrl_d_ends(self, store: Container) -> None:
        env = {**os.environ, "CMSBOT_DATABASE_URL": store.settings.database.url}
        result = subprocess.run([sys.executable, "-m", "cmsbot.cli", "chat"], cwd=ROOT,
                                input="\nis the IOTC MoC signed?\n\n", env=env,
                                capture_output=True, text=True, timeout=60, check=True)
        assert "Not recorded" in result.stdout


class TestItems:
    def test_lists_keys_of_a_kind(self, on_store: Container,
                                  capsys: pytest.CaptureFixture[str]) -> None:
        code, out = run(capsys, "items", "--kind", "agreement")
        assert code == 0
        keys = [line.split()[0] for line in out.splitlines()[:-1]]
        assert keys == ["cbd-jwp", "cites-jwp", "iotc-moc", "iwc-jwp", "ramsar-jwp"]
        assert "ramsar-jwp  agreement    Ramsar–CMS Joint Work Plan 2016–2018: endorsed" in out
        assert out.splitlines()[-1] == "5 items"

    def test_a_partner_by_its_name_as_json(self, on_store: Container,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        code, out = run(capsys, "items", "--partner", "whaling commission", "--json")
        data: dict[str, Any] = json.loads(out)
        assert code == 0 and data["total"] == len(data["items"]) == 1
        assert data["items"][0]["key"] == "iwc-jwp"
        assert data["items"][0]["partners"] == ["IWC"]

    def test_an_unknown_partner_is_an_error(self, on_store: Container,
                                            capsys: pytest.CaptureFixture[str]) -> None:
        assert cli.main(["items", "--partner", "Atlantis"]) == 1
        assert "Atlantis" in capsys.readouterr().err


def test_a_signed_slack_request_gives_the_same_answer(store: Container) -> None:
    """Each phrase family asked as `/cms QUESTION` over loopback, signed as Slack signs it:
    the answer posted to its response_url says what the engine says (its items and their
    status, its entries, the date it was asked at)."""
    fake = FakeSlack().start()
    try:
        with serving(store, fake) as bot:
            for number, question in enumerate(PHRASES):
                engine = store.questions.answer(question)
                assert bot.command(question, response=f"r{number}").status == 200
                [reply] = fake.wait_for(f"response:r{number}")
                said = json.dumps(reply.params, ensure_ascii=False)
                assert engine.intent != "unread" or "31 February 2015" in said, question
                for match in engine.matches[:5]:
                    assert escape(match.title) in said, (question, match.title)
                for line in engine.lines[:PAGE_SIZE]:
                    assert escape(line.text) in said, (question, line.text)
                if engine.as_at:
                    assert day(date.fromisoformat(engine.as_at)) in said, question
    finally:
        fake.stop()

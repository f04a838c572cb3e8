"""Text that a store cannot hold (NUL, lone surrogates, other control characters) is refused
on every path that records (import, Slack form, command line) before anything is stored,
and removed from questions; a store that already holds such text still answers and
rebuilds, on PostgreSQL too."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.audit.transfer import export_jsonl, import_jsonl
from cmsbot.bootstrap import Container
from cmsbot.digests.notices import unsent
from cmsbot.digests.service import Subscriptions
from cmsbot.history import (
    SEED,
    HistoryFileError,
    read_history,
    read_history_file,
    read_json_history,
)
from domain import events as ev
from domain.channels import Channel
from domain.dates import PartialDate
from domain.errors import InvalidTextError
from domain.items import Engagement, Partner, item_id, partner_id
from domain.provenance import Fact, Source
from domain.text import storable
from projections.projector import Projector
from projections.viewable import REPLACEMENT
from tests.bot.fakes import FakeSlack
from tests.bot.forms import endorsement_form, fill
from tests.bot.harness import EDITOR, serving, view_submission
from tests.conftest import make_container, view_rows
from tests.reliability.support import store_unchecked

ROOT = Path(__file__).resolve().parents[2]
# What no store can hold, or should: PostgreSQL's text refuses NUL; orjson and PostgreSQL
# refuse a lone surrogate; a bell is storable but never meant.
UNSTORABLE = {"NUL": "\x00", "lone surrogate": "\ud800", "bell": "\x07"}
FACT = Fact(PartialDate.parse("2016-03"), "cli:ann", Source("UNEP/CMS/StC44/18", "9"))


@pytest.fixture(params=list(UNSTORABLE.values()), ids=list(UNSTORABLE))
def bad(request: pytest.FixtureRequest) -> str:
    character: str = request.param
    return character


class TestTheDomainRefusesItWhereverItIs:
    """The rule holds when an event is raised, so no path can bypass it."""

    def test_in_a_title(self, bad: str) -> None:
        with pytest.raises(InvalidTextError, match=r"^title: .* at character 4"):
            Engagement.register(FACT, key="k", title=f"abc{bad}d")

    def test_in_a_list_a_correction_and_the_provenance(self, bad: str) -> None:
        item = Engagement.register(FACT, key="k", title="A dialogue", aliases=["x"])
        cases: list[tuple[str, Any]] = [
            ("aliases[1]", lambda: Engagement.register(FACT, key="k", title="T",
                                                       aliases=["fine", bad])),
            ("summary", lambda: item.note_progress(FACT, summary=bad)),
            ("changes.title", lambda: item.correct(FACT, corrects=1,
                                                   changes={"title": bad}, reason="typo")),
            ("note", lambda: item.note_progress(Fact(FACT.occurred, "cli:ann", FACT.source,
                                                     note=bad), summary="ok")),
            ("source.paragraph", lambda: item.note_progress(
                Fact(FACT.occurred, "cli:ann", Source("DOC", f"1{bad}")), summary="ok")),
            ("actor", lambda: item.note_progress(Fact(FACT.occurred, f"ann{bad}",
                                                      FACT.source), summary="ok")),
        ]
        for field, command in cases:
            with pytest.raises(InvalidTextError) as raised:
                command()
            assert raised.value.field == field
        assert item.version == 1 and not item.collect_events()[1:]

    def test_in_partners_and_channels(self, bad: str) -> None:
        with pytest.raises(InvalidTextError, match=r"^name: "):
            Partner.register(key="p", name=f"P{bad}", actor="cli:ann")
        channel = Channel.register(channel="C1", actor="slack:U1")
        with pytest.raises(InvalidTextError, match=r"^target_key: "):
            channel.follow("item", f"k{bad}", actor="slack:U1")

    def test_tabs_and_line_breaks_are_text(self) -> None:
        item = Engagement.register(FACT, key="k", title="A\tdialogue")
        item.note_progress(FACT, summary="first line\nsecond line\r\nthird")
        assert item.state.title == "A\tdialogue"

    def test_a_byte_that_is_not_utf8_is_named_as_such(self) -> None:
        with pytest.raises(InvalidTextError, match=r"a byte that is not UTF-8 \(0xE9\)"):
            Engagement.register(FACT, key="k", title=b"caf\xe9".decode(errors="surrogateescape"))


class TestAnImport:
    def test_is_refused_whole_with_each_line(self, container: Container, bad: str) -> None:
        head = container.tracker.head()
        text = json.dumps({
            "document": "DOC", "as_at": "2016-09-01",
            "partners": [{"key": "p", "name": f"Pa{bad}rtner"}],
            "items": [
                {"key": "a", "kind": "engagement", "title": f"A{bad}", "events": []},
                {"key": "b", "kind": "engagement", "title": "B",
                 "events": [{"type": "progress noted", "summary": f"s{bad}"}]},
            ]}, indent=1)
        with pytest.raises(HistoryFileError) as refused:
            container.importer.run(LOCAL_OPERATOR, read_json_history(text, "h.json"))
        lines = {line: reason for line, reason in refused.value.problems}
        assert set(lines) == {_line_of(text, '"Pa'), _line_of(text, '"key": "a"'),
                              _line_of(text, '"type"')}
        assert lines[_line_of(text, '"Pa')].startswith("name: ")
        assert lines[_line_of(text, '"key": "a"')].startswith("title: ")
        assert lines[_line_of(text, '"type"')].startswith("summary: ")
        assert container.tracker.head() == head

    def test_a_yaml_escape_is_refused_too(self) -> None:
        with pytest.raises(HistoryFileError, match=r"h.yaml:4: title: a NUL character"):
            read_history('document: DOC\nas_at: 2016-09-01\nitems:\n'
                         '  - key: a\n    kind: engagement\n    title: "A\\0"\n', "h.yaml")


def _line_of(text: str, words: str) -> int:
    """The line of the JSON object holding `words` (its opening brace's line)."""
    before = text[:text.index(words)]
    return before[:before.rindex("{")].count("\n") + 1


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    yield slack
    slack.stop()


class TestASlackForm:
    def test_shows_the_error_under_its_field_and_records_nothing(
            self, seeded: Container, fake: FakeSlack, bad: str) -> None:
        head = seeded.tracker.head()
        with serving(seeded, fake) as bot:
            view = endorsement_form(bot, fake)
            base = {"item": "iwc-jwp", "what": "endorsed", "field:body:str": "IWC",
                    "field:meeting:str": "IWC66", "occurred": "2016-10-24"}
            replies = {block: bot.interact(view_submission(
                fill(view, {**base, block: f"{base.get(block, 'x')}{bad}"}), user=EDITOR))
                for block in ("field:body:str", "note", "source")}
            bot.drain()
        for block, reply in replies.items():
            assert reply.status == 200
            [(shown, message)] = reply.json()["errors"].items()
            assert shown == block and "cannot be recorded" in message
        assert seeded.tracker.head() == head
        assert fake.of("chat.postMessage") == []
        assert "in negotiation" in seeded.questions.answer("status of IWC JWP").text


class TestTheCommandLine:
    """NUL cannot be an argument (the OS refuses it); a byte that is not UTF-8 and a control
    character can."""

    @pytest.mark.postgres
    def test_record_refuses_in_one_line(self, postgres_url: str) -> None:
        container = make_container(postgres_url)
        try:
            container.importer.run(LOCAL_OPERATOR, _one_engagement())
            container.catch_up()
            head = container.tracker.head()
        finally:
            container.close()
        for value, said in ((b"summary=caf\xe9", "a byte that is not UTF-8 (0xE9)"),
                            (b"summary=bell\x07", "a control character (U+0007)")):
            result = subprocess.run(
                [sys.executable, "-m", "cmsbot.cli", "record", "talks", "progress noted",
                 "--occurred", "2016-03", "--field", value],
                env={**os.environ, "CMSBOT_DATABASE_URL": postgres_url}, cwd=ROOT,
                capture_output=True, timeout=120, check=False)
            err = result.stderr.decode(errors="replace")
            assert result.returncode == 1, err
            assert err.strip() == (f"cmsbot: summary: {said} at character "
                                   f"{len(value) - len('summary=')} cannot be recorded; "
                                   "remove it")
        container = make_container(postgres_url)
        try:
            assert container.tracker.head() == head
        finally:
            container.close()


def _one_engagement() -> Any:
    return read_history("document: DOC\nas_at: 2016-09-01\nitems:\n"
                        "  - key: talks\n    kind: engagement\n    title: Talks\n", "h.yaml")


class TestAQuestion:
    def test_has_such_characters_removed(self, seeded: Container, bad: str) -> None:
        head = seeded.tracker.head()
        answer = seeded.questions.answer(f"what do we have with Ram{bad}sar?")
        assert answer.intent == "partner" and "Ramsar" in answer.text
        assert storable(answer.text) == answer.text
        assert "in negotiation" in seeded.questions.answer(f"status of IWC{bad} JWP").text
        assert seeded.tracker.head() == head


# A store written before the rule ---------------------------------------------------------



def _provenance(version: int, aggregate: UUID, **fields: Any) -> dict[str, Any]:
    return {"originator_id": aggregate, "originator_version": version,
            "timestamp": ev.ItemEvent.create_timestamp(), "occurred": FACT.occurred,
            "actor": "cli:old", "source": FACT.source, "note": None, "ref": None, **fields}


def hold_nul_text(container: Container) -> dict[str, tuple[UUID, int]]:
    """A channel follows the UNEP MTS; then, stored unchecked: a partner, an item and an
    event on the UNEP MTS holding NUL, and a correction of that event to text with NUL.
    Returns where each is (aggregate, version)."""
    Subscriptions(container.tracker, container.readmodel).follow(
        LOCAL_OPERATOR, "C0PARTNERS", "unep-mts", in_channel=True)
    mts = item_id("unep-mts")
    version = container.tracker.item("unep-mts").version
    partner: dict[str, Any] = {
        "originator_id": partner_id("nul"), "originator_version": 1,
        "originator_topic": get_topic(Partner), "timestamp": ev.ItemEvent.create_timestamp(),
        "key": "nul", "acronym": "N\0L", "name": "Nul\0 Partner", "aliases": ["n\0"],
        "category": None, "actor": "cli:old", "ref": None}
    store_unchecked(container, ev.PartnerRegistered(**partner))
    keys = [f"nul-{n}" for n in range(4)]  # some rebuilt by the shared rebuild's helper
    for key in keys:
        store_unchecked(container, ev.ItemRegistered(**_provenance(
            1, item_id(key), originator_topic=get_topic(Engagement), key=key,
            title=f"Nul\0 talks {key}", aliases=["nul\0"], partners=["nul"], mandates=[],
            documents=["D\0C"], period=None, subtype=None, summary="s\0",
            source=Source("UNEP/CMS/StC44/18", "9\0"))))
    store_unchecked(container, ev.EngagementProgressNoted(**_provenance(
        version + 1, mts, summary="a\0b", note="n\0te")))
    store_unchecked(container, ev.EventCorrected(**_provenance(
        version + 2, mts, corrects=version + 1, changes={"summary": "c\0d"}, reason="r\0")))
    return {"partner": (partner_id("nul"), 1), "event": (mts, version + 1),
            "correction": (mts, version + 2), **{key: (item_id(key), 1) for key in keys}}


class TestAStoreThatAlreadyHoldsNul:
    def test_still_catches_up_rebuilds_and_answers(self, seeded: Container,
                                                   caplog: pytest.LogCaptureFixture) -> None:
        held = hold_nul_text(seeded)
        with caplog.at_level(logging.WARNING, logger="projections.viewable"):
            assert seeded.catch_up()
        warned = "\n".join(r.getMessage() for r in caplog.records)
        for aggregate, version in held.values():
            assert f"{aggregate} v{version} " in warned
        assert "in note, summary;" in warned
        caught_up = view_rows(seeded)

        history = seeded.questions.answer("history of unep-mts").text
        assert f"c{REPLACEMENT}d" in history and "\0" not in history
        assert f"Nul{REPLACEMENT} talks" in seeded.questions.answer("status of nul-1").text
        as_at = seeded.questions.answer("history of unep-mts", as_at=PartialDate.parse(
            "2016-12-31").end).text
        assert "UNEP Medium-Term Strategy" in as_at
        assert "\0" not in seeded.questions.answer("what do we have with Nul Partner?").text
        assert any(f"a{REPLACEMENT}b" in notice.text for notice in unsent(seeded.engine))

        assert seeded.projector.rebuild() == seeded.tracker.head()
        assert view_rows(seeded) == caught_up
        # The rebuild shared with a forked process
        Projector(seeded.engine, seeded.tracker, share_rebuild_from=1).rebuild()
        assert view_rows(seeded) == caught_up
        assert "\0" not in json.dumps(caught_up, default=str, ensure_ascii=False)

    @pytest.mark.postgres
    def test_its_export_imports_as_it_is_into_postgresql(
            self, sqlite_url: str, postgres_url: str, tmp_path: Path) -> None:
        """An export copies the log exactly (the chain covers every byte), NUL included."""
        old, copy = make_container(sqlite_url), make_container(postgres_url)
        try:
            old.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
            old.catch_up()
            hold_nul_text(old)
            old.catch_up()
            exported = tmp_path / "log.jsonl"
            with exported.open("w", encoding="utf-8") as out:
                export_jsonl(old.tracker, out)
            import_jsonl(copy, LOCAL_OPERATOR, exported)
            copy.catch_up()
            assert copy.chain.head() == old.chain.head()
            for question in ("history of unep-mts", "status of nul-1", "what's coming up"):
                assert (copy.questions.answer(question).text
                        == old.questions.answer(question).text)
            assert f"c{REPLACEMENT}d" in copy.questions.answer("history of unep-mts").text
            caught_up = view_rows(copy)
            copy.projector.rebuild()
            assert view_rows(copy) == caught_up
        finally:
            old.close()
            copy.close()

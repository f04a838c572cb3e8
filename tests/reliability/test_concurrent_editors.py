"""Several editors submit the "Record update" form on the same item at the same moment,
to `cmsbot serve` with two worker processes of eight threads each, on both stores.

What each editor was told is held against the store: a confirmation names that editor's
own event, and only an event that is stored, once. A submission whose confirmation did
not come is submitted again, as its editor would, and then every one is stored once."""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.history import SEED, read_history_file
from domain.items import item_id
from tests.bot.fakes import FakeSlack
from tests.bot.harness import Reply
from tests.conftest import make_container

from .support import Served, confirmations, progress_form, serving, wait_until

EDITORS = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8")
ITEM = "sdgs"
ROUNDS = (4, 4, 4, 4, 4, 4, 8)  # editors submitting at once, round after round


def send(bot: Served, view: dict[str, Any], user: str) -> Reply | None:
    try:
        return bot.submit(view, user=user)
    except (OSError, http.client.HTTPException):
        return None


def stored_summaries(url: str) -> tuple[Counter[str], list[int]]:
    store = make_container(url)
    try:
        events = store.tracker.item_events(item_id(ITEM))
    finally:
        store.close()
    return (Counter(str(getattr(e, "summary", "")) for e in events),
            [e.originator_version for e in events])


def test_concurrent_editors_are_each_told_only_of_their_own_stored_event(
        database_url: str, tmp_path: Path) -> None:
    container = make_container(database_url)
    try:
        container.importer.run(LOCAL_OPERATOR, read_history_file(SEED))
        container.catch_up()
    finally:
        container.close()
    fake = FakeSlack().start()
    forms: dict[str, tuple[str, dict[str, Any]]] = {}
    try:
        with serving(database_url, fake, tmp_path / "serve.log", workers=2,
                     editors=EDITORS) as bot, ThreadPoolExecutor(max_workers=8) as pool:
            bot.wait_healthy()
            for number, at_once in enumerate(ROUNDS):
                start = threading.Barrier(at_once)
                round_forms = {}
                for n in range(at_once):
                    summary = f"round {number} by {EDITORS[n]}"
                    view = progress_form(ITEM, summary, view_id=f"V{number}x{n}")
                    round_forms[summary] = (EDITORS[n], view)

                def together(user: str, view: dict[str, Any],
                             start: threading.Barrier = start) -> Reply | None:
                    start.wait()
                    return send(bot, view, user)

                sent = [pool.submit(together, user, view)
                        for user, view in round_forms.values()]
                for future in sent:
                    future.result(timeout=120)
                forms.update(round_forms)
            # Every confirmation owed has been sent once the stored ones are all told.
            stored, _ = stored_summaries(database_url)
            wait_until(lambda: len(confirmations(fake)) >= sum(
                1 for s in forms if stored[s]), 30, "the confirmations of what is stored")
            told = confirmations(fake)

            # Each confirmation went to the editor who submitted that event.
            for user, _, summary in told:
                assert forms[summary][0] == user, (user, summary)
            assert sorted(s for _, _, s in told) == sorted(s for s in forms if stored[s])
            assert all(stored[s] <= 1 for s in forms), stored

            # The editors whose form was not confirmed submit it again.
            for summary in sorted(s for s in forms if not stored[s]):
                user, view = forms[summary]
                reply = send(bot, view, user)
                assert reply is not None and reply.status == 200, (summary, reply)
            log = bot.output()
    finally:
        fake.stop()
    assert "Traceback" not in log, log
    stored, versions = stored_summaries(database_url)
    assert all(stored[s] == 1 for s in forms), stored
    assert versions == list(range(1, len(versions) + 1))  # no gap, no repeat
    told = confirmations(fake)
    numbers = {summary: number for _, number, summary in told}
    assert len(numbers) == len(told) == len(forms)  # each confirmed once
    store = make_container(database_url)
    try:
        by_version = {e.originator_version: str(getattr(e, "summary", ""))
                      for e in store.tracker.item_events(item_id(ITEM))}
    finally:
        store.close()
    for summary, number in numbers.items():
        assert by_version[number] == summary  # the event number told is that event's

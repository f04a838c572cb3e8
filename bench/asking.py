"""The question and digest figures, in-process: a mix of questions, every intent of
`INTENT_MIX` timed on its own, recording on a long item, and the digests."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import container, percentile, timed
from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.bootstrap import Container
from cmsbot.questions.answer import Answer
from cmsbot.slack.blocks import PAGE_SIZE as SLACK_PAGE
from domain.provenance import Source


def question_mix(app: Container, count: int, rng: random.Random) -> list[str]:
    with app.engine.connect() as conn:
        index = app.readmodel.index(conn)
    items = index.items
    partners = list(index.partners.values())
    makers: list[Callable[[], str]] = [  # one of each kind of question
        lambda: f"status of {rng.choice(items).title}",
        lambda: f"where are we with {rng.choice(items).title.lower()}?",
        lambda: f"history of {rng.choice(items).title}",
        lambda: "what's coming up",
        lambda: "upcoming workshops",
        lambda: f"meetings in {rng.randint(2013, 2020)}",
        lambda: f"what do we have with {rng.choice(partners).acronym}?",
    ]
    return [rng.choice(makers)() for _ in range(count)]


@dataclass
class Asking:
    """What the intent mix draws its questions from."""

    rng: random.Random
    titles: list[str]
    acronyms: list[str]

    def title(self) -> str:
        return self.rng.choice(self.titles)

    def year(self, first: int = 2013, last: int = 2020) -> int:
        return self.rng.randint(first, last)

    def misspelt(self) -> str:
        """A title with two letters of its longest word swapped."""
        words = self.title().split()
        longest = max(range(len(words)), key=lambda n: len(words[n]))
        word = words[longest]
        if len(word) >= 4:
            at = self.rng.randint(1, len(word) - 3)
            words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2:]
        return " ".join(words)


Question = tuple[str, date | None]  # the words, and the business date asked as at


# Each intent timed on its own (`ask_p95_ms_by_intent`): how to ask it, and the intents
# the engine answers it by. None: an intent that other work adds (overdue, yes/no); until
# the engine has it, the engine answers by one of the others, and it is recorded as
# missing (None) rather than timed as what it is not.
INTENT_MIX: dict[str, tuple[Callable[[Asking], Question], frozenset[str] | None]] = {
    "status": (lambda a: (f"status of {a.title()}", None), frozenset({"status"})),
    "history": (lambda a: (f"history of {a.title()}", None), frozenset({"history"})),
    "partner": (lambda a: (f"what do we have with {a.rng.choice(a.acronyms)}?", None),
                frozenset({"partner"})),
    "upcoming": (lambda a: (a.rng.choice(("what's coming up", "upcoming workshops",
                                          f"meetings in {a.year()}")), None),
                 frozenset({"upcoming"})),
    "as-at status": (lambda a: (f"status of {a.title()}", date(a.year(), 6, 30)),
                     frozenset({"status"})),
    "as-at upcoming": (lambda a: (a.rng.choice(("what's coming up", "upcoming workshops",
                                                f"meetings in {a.year()}")),
                                  date(a.year(), 1, 1)), frozenset({"upcoming"})),
    "changed since": (lambda a: (f"what changed since 1 March {a.year(2023, 2026)}", None),
                      frozenset({"changes"})),
    "overdue": (lambda a: (a.rng.choice(("what is overdue?", "which deadlines have passed?")),
                           None), None),
    "as-at overdue": (lambda a: (a.rng.choice(("what is overdue?",
                                               "which deadlines have passed?")),
                                 date(a.year(2013, 2020), 1, 1)), None),
    "yes/no": (lambda a: (a.rng.choice((f"has the {a.title()} been held?",
                                        f"is the {a.title()} signed?")), None), None),
    "fuzzy misspelling": (lambda a: (f"status of {a.misspelt()}", None),
                          frozenset({"status", "clarify"})),
    "no match": (lambda a: (f"status of the {a.rng.choice(('zqxj', 'vwkp', 'jjzx'))} "
                            "wombat accord", None), frozenset({"not_found"})),
}


_TIMED = frozenset().union(*(named for _, named in INTENT_MIX.values() if named))


def first_page(app: Container, question: str, as_at: date | None = None) -> Answer:
    """What a person waits for: the answer's first page as Slack shows it (`SLACK_PAGE`
    entries; a long list's other entries are only counted)."""
    return app.questions.answer(question, as_at=as_at, page=1, size=SLACK_PAGE)


def intent_figures(app: Container, per_intent: int, rng: random.Random,
                   ) -> dict[str, dict[str, float] | None]:
    """p50, p95 and p99 (ms) of each intent of `INTENT_MIX`, `per_intent` questions each,
    each timed to its answer's first page as Slack shows it (`first_page`); None for an
    intent the engine does not answer as itself."""
    with app.engine.connect() as conn:
        index = app.readmodel.index(conn)
    asking = Asking(rng, [i.title for i in index.items],
                     [p.acronym or p.key for p in index.partners.values()])
    figures: dict[str, dict[str, float] | None] = {}
    for name, (make, answered_by) in INTENT_MIX.items():
        times: list[float] = []
        for _ in range(per_intent):
            question, as_at = make(asking)
            start = time.perf_counter()
            answer = first_page(app, question, as_at)
            seconds = time.perf_counter() - start
            if (answer.intent in answered_by if answered_by is not None
                    else answer.intent not in _TIMED):
                times.append(seconds * 1000)
        figures[name] = ({"p50": percentile(times, 50), "p95": percentile(times, 95),
                          "p99": percentile(times, 99)} if times else None)
    return figures


def ask_figures(url: str, count: int) -> dict[str, Any]:
    """The question figures (each question timed to its answer's first page as Slack shows
    it, `first_page`), the intents' (`intent_figures`), recording on a long item, and the
    digests."""
    rng = random.Random(7)
    app = container(url)
    try:
        app.catch_up()
        questions = question_mix(app, count, rng)
        app.questions.answer("warm up")

        def ask(question: str, as_at: date | None = None) -> float:
            return timed(lambda: first_page(app, question, as_at)) * 1000

        times = [ask(question) for question in questions]
        with app.engine.connect() as conn:
            titles = [i.title for i in app.readmodel.index(conn).items]
        as_at = [ask(f"status of {title}", date(rng.randint(2013, 2020), 6, 30))
                 for title in rng.sample(titles, min(count, len(titles)))]
        week_start = datetime.now(UTC)  # the digests cover what is recorded from here on

        def record(number: int) -> float:
            return timed(lambda: app.recorder.record(
                LOCAL_OPERATOR, key="item-0", what="progress noted",
                fields={"summary": f"one more {number}"}, occurred="2031",
                source=Source("BENCH/2", str(number)))) * 1000

        long_item = [record(number) for number in range(21)][1:]  # the first loads it
        subscribed = [f"C{n:03d}" for n in range(100)]
        app.catch_up()
        digest_s = timed(lambda: build_digests(app, subscribed, week_start))
        by_intent = intent_figures(app, max(10, count // 8), random.Random(13))
        past_week_s = digest_past_week_s(app)
    finally:
        app.close()
    return {"ask_p95_ms_by_intent": by_intent, "digest_past_week_s": past_week_s,
            "ask_p50_ms": percentile(times, 50), "ask_p95_ms": percentile(times, 95),
            "ask_p99_ms": percentile(times, 99), "as_at_p95_ms": percentile(as_at, 95),
            "record_ms_long_item": statistics.median(long_item),
            "digest_100_channels_s": digest_s}


def build_digests(app: Container, channels: list[str], start: datetime) -> None:
    """A week's digests: the week holds the events recorded since `start`."""
    from cmsbot.digests.content import build_digest
    from domain.channels import Schedule

    end = datetime.now(UTC)
    filters = [Schedule(), Schedule(filter_kind="kind", filter_value="meeting")]
    for number, channel in enumerate(channels):
        build_digest(app.readmodel, channel=channel, period="bench", start=start, end=end,
                     schedule=filters[number % 2])


def digest_past_week_s(app: Container, channels: int = 100) -> float:
    """A preview of the week a year back (as `cmsbot digest preview --as-at` makes it: what
    happened in it, by business time) for `channels` channels, half of them filtered."""
    from cmsbot.digests.content import build_digest
    from domain.channels import Schedule

    end = datetime.combine(datetime.now(UTC).date().replace(day=1) - timedelta(days=365),
                           datetime.min.time(), tzinfo=UTC)
    start = end - timedelta(days=7)
    filters = [Schedule(), Schedule(filter_kind="kind", filter_value="meeting")]
    return timed(lambda: [build_digest(app.readmodel, channel=f"C{number:03d}",
                                       period="past", start=start, end=end,
                                       schedule=filters[number % 2], business_time=True)
                          for number in range(channels)])

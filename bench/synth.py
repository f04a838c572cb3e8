"""A synthetic history with the shapes of the real one, deterministic from a seed.

Partners with acronyms and aliases; items of the five kinds; a long tail of events per
item (most items have a few or tens, a few have thousands); partial dates of every
precision; a source on every event. Every event sequence is one the domain accepts.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KINDS = (("agreement", 0.25), ("meeting", 0.3), ("engagement", 0.25),
         ("consultation", 0.1), ("post", 0.1))
WORDS = ("Migratory", "Marine", "Avian", "Wetland", "Raptor", "Turtle", "Shark", "Bat",
         "Cetacean", "Dugong", "Flyway", "Savanna", "Arctic", "Andean", "Sahel", "Pacific",
         "Atlantic", "Mediterranean", "Coastal", "Grassland", "Mountain", "River", "Island")
NOUNS = ("Commission", "Convention", "Programme", "Network", "Alliance", "Partnership",
         "Council", "Initiative", "Secretariat", "Fund", "Institute", "Union")
TOPICS = ("bycatch", "ship strikes", "poisoning", "illegal killing", "climate change",
          "habitat loss", "marine debris", "ecotourism", "connectivity", "energy")


@dataclass(frozen=True)
class Shape:
    items: int
    partners: int
    events: int  # about how many events in all
    long_item_events: int  # the one item with a very long history


QUICK = Shape(items=10_000, partners=300, events=60_000, long_item_events=5_000)
FULL = Shape(items=10_000, partners=300, events=1_000_500, long_item_events=5_000)
TINY = Shape(items=120, partners=20, events=900, long_item_events=200)


class _Dates:
    """Business dates that move forward through an item's life, in mixed precisions."""

    def __init__(self, rng: random.Random, events: int) -> None:
        self.rng = rng
        self.day = rng.randint(0, 365 * 6)  # days after 1 January 2012
        # Up to 20 days between events, fewer for a long history, so that every item's
        # last date is within the import's horizon (about 11 years at the most).
        self.step = max(1, min(20, 4_000 // max(events, 1)))

    def next(self) -> str:
        self.day += self.rng.randint(0, self.step)
        year = 2012 + self.day // 365
        month = 1 + (self.day % 365) // 31 % 12
        dom = 1 + (self.day % 365) % 28
        form = self.rng.random()
        if form < 0.6:
            return f"{year:04d}-{month:02d}-{dom:02d}"
        if form < 0.75:
            return f"{year:04d}-{month:02d}"
        if form < 0.85:
            return f"by {year:04d}-{month:02d}-{dom:02d}"
        if form < 0.92:
            return f"{self.rng.choice(('early', 'mid', 'late'))} {year}"
        if form < 0.97:
            return f"{year}-Q{(month - 1) // 3 + 1}"
        return str(year)

    def later(self, years: int = 1) -> str:
        year = 2012 + self.day // 365 + years
        return self.rng.choice((f"{year}", f"early {year}", f"{year}-Q2",
                                f"{self.rng.randint(1, 20)}-{self.rng.randint(21, 28)} "
                                f"{self.rng.choice(('March', 'June', 'October'))} {year}"))


def _acronyms(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < count:
        seen.add("".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 5))))
    return sorted(seen)


def _counts(rng: random.Random, shape: Shape) -> list[int]:
    """Events per item: a Pareto tail scaled to the total, one item very long."""
    weights = [rng.paretovariate(1.3) for _ in range(shape.items)]
    budget = max(shape.events - shape.long_item_events, shape.items)
    scale = budget / sum(weights)
    for _ in range(50):  # the cap loses some of the budget: scale up until it is spent
        counts = [max(1, min(2_000, round(w * scale))) for w in weights]
        spent = sum(counts[1:])
        if spent >= budget * 0.999 or spent == 2_000 * (len(counts) - 1):
            break
        scale *= budget / spent
    counts[0] = shape.long_item_events
    return counts


def _events(kind: str, count: int, rng: random.Random, dates: _Dates,
            partners: Sequence[str]) -> Iterator[dict[str, Any]]:
    """`count` events that the domain accepts for an item of `kind`."""
    def fact(kind_of_event: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind_of_event, "occurred": dates.next(),
                "paragraph": str(rng.randint(1, 40)), **fields}

    if kind == "agreement":
        opening = [fact("proposed"), fact("drafting started"), fact("drafted", document="Doc/1"),
                   fact("negotiation progressed", stage="advanced",
                        topics=rng.sample(TOPICS, 2)),
                   fact("endorsed", body="CMS Standing Committee", meeting="StC4x"),
                   fact("implementation started")]
        yield from opening[:count]
        for number in range(count - len(opening)):
            yield fact("progress reported", summary=f"joint activity {number}")
    elif kind == "meeting":
        yield fact("planned", when=dates.later(), venue=rng.choice(WORDS) + " City",
                   venue_tentative=rng.random() < 0.2)
        for number in range(count - 1):
            if number == count - 2 and rng.random() < 0.5:
                yield fact("held", dates=dates.next(), attendees=["CMS Secretariat"])
            else:
                yield fact("rescheduled", dates=dates.later(), reason=f"change {number}")
    elif kind == "engagement":
        yield fact("started", topics=rng.sample(TOPICS, 2))
        for number in range(count - 1):
            if number % 10 == 9:
                yield fact("milestone planned", milestone=f"milestone {number}",
                           when=dates.later())
            else:
                yield fact("progress noted", summary=f"contact {number} on "
                                                     f"{rng.choice(TOPICS)}")
    elif kind == "consultation":
        yield fact("issued", notification="Notification", invitees=["Parties"])
        for number in range(count - 1):
            yield fact("submission received", submitter=rng.choice(partners),
                       title=f"Submission {number}")
    else:
        yield fact("funded", donor=rng.choice(partners))
        filled = False
        for _ in range(count - 1):
            yield fact("vacated") if filled else fact("officer recruited",
                                                      start=dates.next())
            filled = not filled


def history(shape: Shape, seed: int = 2015) -> dict[str, Any]:
    """The whole history as the data of a history file."""
    rng = random.Random(seed)
    acronyms = _acronyms(rng, shape.partners)
    partners = [{"key": a.lower(), "acronym": a,
                 "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(NOUNS)} {i}",
                 "aliases": [f"{a.lower()} {rng.choice(NOUNS).lower()}"]}
                for i, a in enumerate(acronyms)]
    keys: list[str] = [str(p["key"]) for p in partners]
    items = []
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    for number, count in enumerate(_counts(rng, shape)):
        kind = "engagement" if number == 0 else rng.choices(kinds, weights)[0]
        with_ = rng.sample(keys, rng.randint(1, 3))
        acronym = next(p["acronym"] for p in partners if p["key"] == with_[0])
        title = {"agreement": f"{acronym}–CMS Joint Work Plan {number}",
                 "meeting": f"{rng.choice(WORDS)} workshop on {rng.choice(TOPICS)} {number}",
                 "engagement": f"Cooperation with {acronym} on {rng.choice(TOPICS)} {number}",
                 "consultation": f"Consultation on {rng.choice(TOPICS)} {number}",
                 "post": f"{rng.choice(WORDS)} programme officer {number}"}[kind]
        dates = _Dates(rng, count)
        items.append({"key": f"item-{number}", "kind": kind, "title": title,
                      "partners": with_, "aliases": [f"{acronym} {kind} {number}"],
                      "events": list(_events(kind, count, rng, dates, keys))})
    return {"document": "SYNTH/1", "as_at": "2030-01-01", "actor": "bench",
            "partners": partners, "items": items}


def write_history(shape: Shape, path: Path, seed: int = 2015) -> int:
    """Write the history file; returns how many events it holds."""
    data = history(shape, seed)
    _write(data, path)
    return sum(len(item["events"]) for item in data["items"])


def write_histories(shape: Shape, folder: Path, seed: int = 2015,
                    most_events: int = 250_000) -> tuple[list[Path], int]:
    """Write the history as JSON files of at most about `most_events` events each (a
    history file is bounded, docs/history-files.md), the partners in the first, to be
    imported in turn; returns the files and how many events they hold."""
    data = history(shape, seed)
    total = sum(len(item["events"]) for item in data["items"])
    share = total / -(-total // most_events)  # the same number of events in each file
    parts: list[list[dict[str, Any]]] = [[]]
    events = 0
    for item in data["items"]:
        if events + len(item["events"]) > share * len(parts) and parts[-1]:
            parts.append([])
        parts[-1].append(item)
        events += len(item["events"])
    paths = []
    for number, items in enumerate(parts, start=1):
        path = folder / f"history-{number}.json"
        _write({**data, "partners": data["partners"] if number == 1 else [],
                "items": items}, path)
        paths.append(path)
    return paths, events


def _write(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        if path.suffix == ".json":  # the same history in the bulk format
            json.dump(data, out, ensure_ascii=False, indent=1)
        else:
            yaml.dump(data, out, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                      allow_unicode=True, sort_keys=False, width=120)

"""Finding the item or partner a question names, with rapidfuzz.

Each item is known by its title, key, aliases and "<partner> <type>" names ("IWC JWP").
A question's tokens pick candidate names through an inverted index (with fuzzy token
matching for typos), and the candidates are scored with token-set and token-sort ratios:
a name that holds every word of the question scores high, a tighter name higher still.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from cmsbot.readmodel.text import Vocabulary, partner_phrases, partner_token

MATCH = 72.0  # a single item at or above this is answered
TIE = 4.0  # items within this many points of the best are a near tie
SUGGEST = 45.0  # suggestions offered when nothing matches
SHORTLIST = 200  # names scored in full after the first pass
NEAR_CACHE = 50_000  # tokens whose typo matches an index keeps


@dataclass(frozen=True)
class ItemRef:
    item_id: str
    key: str
    kind: str
    title: str
    subtype: str | None
    partners: tuple[str, ...]


@dataclass(frozen=True)
class PartnerRef:
    key: str
    acronym: str | None
    name: str

    @property
    def label(self) -> str:
        if self.acronym and self.acronym != self.name:
            return f"{self.name} ({self.acronym})"
        return self.name


@dataclass(frozen=True)
class Scored:
    score: float
    item: ItemRef
    exact: bool = False  # one of the item's names is the subject itself


class Index:
    """What resolution needs, built once per change of the views."""

    def __init__(self, items: Sequence[Any], partners: Sequence[Any]) -> None:
        self._know_partners([(p.key, p.acronym, p.name, list(p.aliases)) for p in partners])
        refs = [ItemRef(row.item_id, row.key, row.kind, row.title, row.subtype,
                        tuple(row.partner_keys)) for row in items]
        names: list[str] = []
        owner: list[int] = []
        self.vocab.many()
        for number, (ref, row) in enumerate(zip(refs, items, strict=True)):
            for name in self._names_of(ref, row.aliases):
                names.append(name)
                owner.append(number)
        self._know_items(refs, names, owner)

    @classmethod
    def restored(cls, contents: dict[str, Any]) -> Index:
        """The index whose `contents` these are, without reading any name again: the
        names were made normal when the contents were taken (`stored_index`)."""
        index = cls.__new__(cls)
        index._know_partners([(k, a, n, list(al)) for k, a, n, al in contents["partners"]])
        index._know_items([ItemRef(i, k, kind, t, s, tuple(p))
                           for i, k, kind, t, s, p in contents["items"]],
                          contents["names"], contents["owner"], contents["postings"])
        return index

    def contents(self) -> dict[str, Any]:
        """What `restored` makes this index again from: plain lists, for JSON."""
        return {"partners": self._partner_rows,
                "items": [[i.item_id, i.key, i.kind, i.title, i.subtype, list(i.partners)]
                          for i in self.items],
                "names": self.names, "owner": self.owner, "postings": self.postings}

    def _know_partners(self, rows: list[tuple[str, str | None, str, list[str]]]) -> None:
        self._partner_rows = rows
        self.partners = {key: PartnerRef(key, acronym, name) for key, acronym, name, _ in rows}
        self.vocab = Vocabulary(partner_phrases(rows))
        self.partner_by_token = {partner_token(k): p for k, p in self.partners.items()}

    def _know_items(self, items: list[ItemRef], names: list[str], owner: list[int],
                    postings: dict[str, list[int]] | None = None) -> None:
        self.items, self.names, self.owner = items, names, owner
        if postings is None:
            postings = {}
            for name_id, name in enumerate(names):
                for token in name.split():
                    ids = postings.setdefault(token, [])
                    if not ids or ids[-1] != name_id:  # a token twice in one name
                        ids.append(name_id)
        # Each token's names, in order; the tokens in the order first met.
        self.postings = postings
        self.tokens = list(postings)
        # Typo matches of each token met so far (the vocabulary repeats itself), and the
        # tokens long enough and short enough to match one of a given length at all.
        self._near: dict[str, list[str]] = {}
        self._pools: dict[int, list[str]] = {}

    def _names_of(self, ref: ItemRef, aliases: Iterable[str]) -> list[str]:
        raw = [ref.title, ref.key.replace("-", " "), *aliases]
        kind_words = self.vocab.normal(ref.subtype or "") or ref.kind
        for partner in ref.partners[:3]:
            raw.append(f"{partner_token(partner)} {kind_words}")
        # Each name once, in the order met: a dict keeps them in a time linear in their
        # number, however many aliases an item has.
        names = dict.fromkeys(self.vocab.normal(name) for name in raw)
        names.pop("", None)
        return list(names)

    def normal(self, text: str) -> str:
        return self.vocab.normal(text)

    def only_partners(self, text: str) -> list[PartnerRef]:
        """The partners a subject names, when it names nothing else."""
        tokens = self.vocab.tokens(text)
        if tokens and all(t in self.partner_by_token for t in tokens):
            return [self.partner_by_token[t] for t in dict.fromkeys(tokens)]
        return []

    def partners_in(self, text: str) -> list[PartnerRef]:
        return [self.partner_by_token[t] for t in dict.fromkeys(self.vocab.tokens(text))
                if t in self.partner_by_token]

    def _candidates(self, tokens: list[str]) -> set[int]:
        found: set[int] = set()
        for token in tokens:
            if token in self.postings:
                found.update(self.postings[token])
            if len(token) >= 4:
                for near in self.typos(token):
                    found.update(self.postings[near])
        return found

    def typos(self, token: str) -> list[str]:
        """The (up to five) tokens nearest `token` with a ratio of 80 or more."""
        near = self._near.get(token)
        if near is None:
            near = [found for found, _score, _ in process.extract(
                token, self._pool(len(token)), scorer=fuzz.ratio, score_cutoff=80, limit=5)]
            if len(self._near) < NEAR_CACHE:
                self._near[token] = near
        return near

    def _pool(self, length: int) -> list[str]:
        """The tokens that can score 80 against one of `length` characters, in the index's
        order (which breaks ties among equal scores). fuzz.ratio is at most
        200·min(a, b)/(a + b), so the other's length must lie within [2/3, 3/2] of it."""
        pool = self._pools.get(length)
        if pool is None:
            pool = self._pools[length] = [t for t in self.tokens
                                          if 3 * len(t) >= 2 * length
                                          and 2 * len(t) <= 3 * length]
        return pool

    def search(self, subject: str, *, kinds: set[str] | None = None) -> list[Scored]:
        """Items scored against the subject, best first, one entry per item."""
        query = self.vocab.normal(subject)
        if not query:
            return []
        ids = [i for i in self._candidates(query.split())
               if not kinds or self.items[self.owner[i]].kind in kinds]
        # Token-set ratio over every candidate in C; the tie-break only for the best.
        top = process.extract(query, [self.names[i] for i in ids], scorer=fuzz.token_set_ratio,
                              limit=SHORTLIST)
        best: dict[int, float] = {}
        exact: set[int] = set()
        for name, set_score, position in top:
            number = self.owner[ids[position]]
            score = 0.65 * set_score + 0.35 * fuzz.token_sort_ratio(query, name)
            if name == query:
                exact.add(number)
            if score > best.get(number, 0.0):
                best[number] = score
        ranked = sorted(best.items(), key=lambda pair: (-(pair[0] in exact), -pair[1],
                                                        self.items[pair[0]].title))
        return [Scored(round(score, 1), self.items[number], number in exact)
                for number, score in ranked]


@dataclass(frozen=True)
class Resolution:
    """A clear winner, a near tie, or nothing (with suggestions)."""

    winner: ItemRef | None
    tied: list[ItemRef]
    suggestions: list[ItemRef]


def resolve(index: Index, subject: str, *, kinds: set[str] | None = None) -> Resolution:
    ranked = index.search(subject, kinds=kinds or None)
    if not ranked or ranked[0].score < MATCH:
        return Resolution(None, [], [s.item for s in ranked[:3] if s.score >= SUGGEST])
    exact = [s.item for s in ranked if s.exact]
    if len(exact) == 1:  # named in full: "Marine workshop 85" is not "Marine workshop 8065"
        return Resolution(exact[0], [], [])
    top = ranked[0].score
    tied = [s.item for s in ranked if s.score >= top - TIE]
    if len(tied) > 1:
        return Resolution(None, tied[:10], [])
    return Resolution(ranked[0].item, [], [])

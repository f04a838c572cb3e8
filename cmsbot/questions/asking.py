"""One question being answered: what was asked, the snapshot it is answered from, and the
steps that several intents share (finding the item named, saying where an item stands)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Asked, Match, match_of
from cmsbot.questions.parse import Parsed
from cmsbot.readmodel.resolve import Index, ItemRef, PartnerRef, Resolution, resolve
from cmsbot.readmodel.snapshot import Snapshot
from cmsbot.readmodel.stale import first_plan_of, held_for
from cmsbot.wording import as_of, late_words, slip_words, status_line
from domain.overdue import late_entries, settled_labels, slip
from domain.state import ItemState
from projections import queries as q

T = TypeVar("T")


@dataclass
class Asking:
    """A question being answered from one snapshot (what each intent gets), and which of
    its entries are wanted: page `page` (from 1) of `size` entries, or every one (`size`
    None). An intent that lists many entries reads only the page's (`paged`); another
    answers whole, and the page is cut from it (`cmsbot.questions.pages`)."""

    asked: Asked
    snap: Snapshot
    page: int = 1
    size: int | None = None

    @property
    def parsed(self) -> Parsed:
        return self.asked.parsed

    @property
    def index(self) -> Index:
        return self.snap.index

    @property
    def when(self) -> str:
        """The answer's times in words ("as at 1 September 2015"); "" for now."""
        return as_of(self.snap.as_at, self.snap.known_at)

    def paged(self, read: Callable[[int, int | None], tuple[list[T], int]],
              ) -> tuple[list[T], int, int]:
        """The entries of the page wanted, where the first of them stands among all, and
        how many there are in all. `read(first, count)` gives the entries from `first` (at
        most `count`; None: all) and how many there are in all. Past the last page it is
        the last page, as `cmsbot.questions.pages.page_of` shows it."""
        if self.size is None:
            found, total = read(0, None)
            return found, 0, total
        size = max(1, self.size)
        first = (max(1, self.page) - 1) * size
        found, total = read(first, size)
        if not found and first:
            first = max(0, total - 1) // size * size
            if total:
                found, total = read(first, size)
        return found, first, total

    def match(self, state: ItemState, *, slips: bool = False) -> Match:
        """The item as the answer shows it, with what is late as at the answer's day; with
        `slips`, how a meeting slipped (which reads the meeting's own events)."""
        late = late_entries(state, self.snap.reference, held_for(self.snap, [state]))
        words = [late_words(state, entry) for entry in late]
        slipped = slip(state, first_plan_of(self.snap, state)) if slips else None
        if slipped is not None:
            words.append(slip_words(slipped))
        return match_of(state, self.snap.names, self.snap.reference, late=words,
                        skip=settled_labels(late))

    def status_line(self, state: ItemState, match: Match | None = None, *,
                    slips: bool = False) -> str:
        """Where the item stands, with what is late as at the answer's day; with `slips`,
        how a meeting slipped (which reads the meeting's own events)."""
        partners = (match or self.match(state)).partners
        return status_line(state, partners, self.snap.reference,
                           held=held_for(self.snap, [state]),
                           first=first_plan_of(self.snap, state) if slips else None)

    def items_of(self, partners: Iterable[PartnerRef]) -> list[str]:
        """The ids of the items of these partners, each once, partner by partner."""
        return list(dict.fromkeys(i for partner in partners
                                  for i in q.items_with_partner(self.snap.conn, partner.key)))

    def names_one(self, subject: str) -> bool:
        """Whether the words name one item clearly."""
        return resolve(self.index, subject).winner is not None

    def item(self, subject: str, kinds: set[str] | None = None) -> ItemRef | Answer:
        """The item the words name, or the answer that says which ones they might."""
        found = resolve(self.index, subject, kinds=kinds)
        if found.winner is not None:
            return found.winner
        return self.not_found(subject, found)

    def not_found(self, subject: str, found: Resolution) -> Answer:
        """A near tie ("clarify", its candidates as they stand), or nothing found
        ("not_found", with suggestions when some come close)."""
        if found.tied:
            states = self.snap.states([i.item_id for i in found.tied])
            matches = [self.match(s) for s in states] or [_bare(i) for i in found.tied]
            return Answer("clarify", phrases.did_you_mean(matches), matches=matches,
                          candidates=matches)
        return Answer("not_found", phrases.not_found(subject, found.suggestions),
                      candidates=[_bare(s) for s in found.suggestions])


def _bare(item: ItemRef) -> Match:
    """An item known only by name (not there yet at the answer's time)."""
    return Match(item.item_id, item.key, item.kind, item.title, "", None, [], None)

"""An answer cut into pages: the one place a long answer is shown in parts.

The command line (`ask --page N`, `--all`), `cmsbot chat` and Slack ("Show more", the
Home tab) show one page at a time, cut here. An answer either holds every entry
(`Answer.lines`), or, asked for one page (`QuestionEngine.ask(…, page=, size=)`), holds
just that page's lines and says how many there are in all (`Answer.entries`); `page_of`
shows the page of either the same way. A page's text is the answer's own text with only
the entries of the page: its heading and the lines between its entries (a consultation's
title, "Now: …") stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmsbot.questions import phrases
from cmsbot.questions.answer import Answer, Line

PAGE_SIZE = 25  # entries a page shows on the command line (chat shows Slack's pages)
_BULLET = "• "


@dataclass(frozen=True)
class Page:
    """Entries `first`+1 to `first`+len(`lines`) of an answer's `total`, and the text that
    shows them; `number` of `pages` (from 1)."""

    number: int
    pages: int
    total: int
    first: int
    lines: list[Line]
    text: str

    @property
    def has_more(self) -> bool:
        return self.number < self.pages

    @property
    def note(self) -> str | None:
        """Where the page stands ("entries 26–50 of 80"); None for a one-page answer."""
        if self.pages <= 1:
            return None
        return f"entries {self.first + 1}–{self.first + len(self.lines)} of {self.total}"

    def to_json(self) -> dict[str, Any]:
        return {"page": self.number, "pages": self.pages, "total": self.total,
                "first": self.first, "has_more": self.has_more,
                "lines": [line.to_json() for line in self.lines], "text": self.text}


def page_of(answer: Answer, page: int = 1, size: int | None = PAGE_SIZE) -> Page:
    """Page `page` (from 1; past the last it is the last) of the answer's entries,
    `size` a page; a `size` of None is the whole answer on one page. An answer that holds
    only some entries must hold the page's (it was asked for it); else ValueError."""
    total = answer.listed
    size = max(1, size if size is not None else total)
    pages = max(1, -(-total // size))
    number = min(max(1, page), pages)
    first = (number - 1) * size
    shown = min(size, total - first)
    local = first - answer.first
    if shown > 0 and (local < 0 or local + shown > len(answer.lines)):
        raise ValueError(f"the answer holds entries {answer.first + 1}–"
                         f"{answer.first + len(answer.lines)} of {total}, "
                         f"not page {number} of {size}")
    lines = answer.lines[local:local + shown] if shown > 0 else []
    return Page(number, pages, total, first, lines,
                _text(answer, local, len(lines), more=total - first - len(lines)))


def _text(answer: Answer, first: int, shown: int, *, more: int) -> str:
    """The answer's text keeping its lines `first`…`first + shown - 1` (counted among the
    lines it holds), then "… and N more".

    Each entry is one bullet of the text (as `phrases` writes them). A row just before a
    run of bullets heads them (an item's title in a change answer): it is kept when one of
    them is. Every other row is kept: the heading, and rows that stand alone (a
    consultation with no submission, history's "Now: …"). A text that does not hold one
    bullet an entry is headed by its first line, its entries written afresh."""
    rows = answer.text.split("\n")
    bullets = [n for n, row in enumerate(rows) if row.startswith(_BULLET)]
    tail = [f"… and {more} more"] if more > 0 else []
    if first == 0 and shown == len(answer.lines) and not more:
        return answer.text
    if len(bullets) != len(answer.lines):
        entries = [phrases.bullet(line) for line in answer.lines[first:first + shown]]
        return "\n".join([rows[0], *entries, *tail])
    every, kept = set(bullets), set(bullets[first:first + shown])
    heads = _heads(rows, every)
    last = bullets[first + shown - 1]
    out: list[str] = []
    for n, row in enumerate(rows):
        if n in every and n not in kept:
            continue
        if n in heads and not heads[n] & kept:
            continue
        out.append(row)
        if n == last:
            out += tail
    return "\n".join(out)


def _heads(rows: list[str], bullets: set[int]) -> dict[int, set[int]]:
    """The rows after the first that head a run of bullets, each with its run's rows."""
    heads: dict[int, set[int]] = {}
    for n in range(1, len(rows) - 1):
        if n not in bullets and n + 1 in bullets:
            run = n + 1
            heads[n] = set()
            while run in bullets:
                heads[n].add(run)
                run += 1
    return heads

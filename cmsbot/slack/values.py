"""What a button carries: the question as read (an `Asked`), whether its answer may be
shared, and the page it shows; or, for a question too long for a button's 2,000
characters, its words and times."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

from cmsbot.questions.answer import Asked, Match
from cmsbot.slack import blocks, words

QUESTION_IN_VALUE = 1500  # a button's value holds at most 2,000 characters


def ask_again(asked: Asked, shareable: bool) -> Callable[[Match], str]:
    """A candidate's button asks the same kind of question about that item, by key."""
    def value(match: Match) -> str:
        return pack(asked.about(match.key), shareable=shareable)

    return value


def more(asked: Asked, shareable: bool) -> Callable[[int], str]:
    """"Show more" asks the same question as read, for the next page."""
    def value(page: int) -> str:
        return pack(asked, shareable=shareable, page=page)

    return value


def pack(asked: Asked, *, shareable: bool, page: int = 1) -> str:
    """A button's value: the question as read, else (too long for a button) its words;
    and the page it shows, past the first."""
    shown = {"p": page} if page > 1 else {}
    value = json.dumps({"asked": asked.to_json(), "s": shareable, **shown},
                       ensure_ascii=False)
    if len(value) <= blocks.MAX_BUTTON_VALUE:
        return value
    return json.dumps({"q": asked.parsed.text[:QUESTION_IN_VALUE],
                       "a": asked.as_at.isoformat() if asked.as_at else None,
                       "k": asked.known_at.isoformat() if asked.known_at else None,
                       "s": shareable, **shown}, ensure_ascii=False)


def unpack(value: str) -> tuple[words.Question | Asked, bool, int]:
    """What `pack` wrote (or a button made before questions were kept as read): the
    question, whether it is shareable, the page; a question as read that cannot be read
    back raises `UnreadableAskedError`."""
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return words.Question(str(value)), False, 1
    shareable = bool(data.get("s"))
    page = data.get("p", 1)
    page = page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else 1
    if "asked" in data:
        return Asked.from_json(data["asked"]), shareable, page
    try:
        as_at = date.fromisoformat(data["a"]) if data.get("a") else None
        known_at = datetime.fromisoformat(data["k"]) if data.get("k") else None
    except (TypeError, ValueError):
        as_at = known_at = None
    return words.Question(str(data.get("q") or ""), as_at, known_at), shareable, page

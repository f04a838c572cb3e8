"""The question engine: words in, an `Answer` with its sources out.

A question is read once (`read`: words → `Asked`), then answered by the function its
intent names in `INTENTS` (`ask`), from a snapshot of the read model at the question's
times. The answer carries the `Asked`, so asking again never reads the words again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from cmsbot.questions import parse as p
from cmsbot.questions import phrases, times
from cmsbot.questions.answer import Answer, Asked, UnreadableAskedError
from cmsbot.questions.asking import Asking
from cmsbot.questions.intents import calendar, changes, item, lists, overdue, submissions, yesno
from cmsbot.readmodel.reader import ReadModel

QUESTION_CHARACTERS = 4000  # what is read of a question; the rest is left out


def status(ask: Asking) -> Answer:
    """A status question names a partner (what we have with it), a kind of item ("which
    agreements…", unless it names one item clearly) or an item."""
    partners = ask.index.only_partners(ask.parsed.subject)
    if partners:
        return lists.partner(ask, partners[0])
    if ask.parsed.listy and ask.parsed.kinds and not ask.names_one(ask.parsed.subject):
        return lists.listing(ask)
    return item.status(ask)


def help_answer(_: Asking) -> Answer:
    return Answer("help", phrases.HELP_TEXT)


def unread_date(ask: Asking) -> Answer:
    """A date the words plainly give but that is no date: named, and nothing answered for
    another day instead."""
    return Answer("unread", phrases.unread_dates(ask.parsed.unread))


INTENTS: dict[str, Callable[[Asking], Answer]] = {
    "help": help_answer,
    "status": status,
    "history": item.history,
    "upcoming": calendar.upcoming,
    "changes": changes.changes,
    "submissions": submissions.submissions,
    "overdue": overdue.overdue,
    "yesno": yesno.yesno,
    "unread": unread_date,
}


class QuestionEngine:
    """Answers questions from the read model: the views now, and for past times the items'
    own events."""

    def __init__(self, reader: ReadModel) -> None:
        self.reader = reader

    def read(self, question: str, *, as_at: date | None = None,
             known_at: datetime | None = None) -> Asked:
        """What the words ask, at the times given. The times the words name ("as at 1
        September 2015", "known at 3 March 2026", "on 1 September 2015" of where an item
        stood) are used where no time is given: the options win over the words. Relative
        words such as "next month" count from the read model's `reference` day for them.
        Every surface (the command line, `chat`, Slack) reads its questions here."""
        text = p.cleaned(question[:QUESTION_CHARACTERS])
        words = times.said(text)
        as_at = as_at or words.as_at
        known_at = known_at or words.known_at
        parsed = p.parse(words.rest, self.reader.reference(as_at, known_at), text=text)
        parsed.unread = words.unread + parsed.unread
        if parsed.unread:
            parsed.intent = "unread"
        return Asked(parsed, as_at or parsed.at, known_at)

    def ask(self, asked: Asked, *, page: int = 1, size: int | None = None) -> Answer:
        """Answer a question already read: page `page` (from 1) of `size` entries, or every
        entry (`size` None). An intent that lists many entries (upcoming, overdue) reads only
        the page's, and its answer says how many there are in all (`Answer.entries`);
        another answers whole. Either way `cmsbot.questions.pages.page_of(answer, page,
        size)` is the page. It never raises for what a user can type; an `Asked` of an
        intent it does not know (a forged button) raises `UnreadableAskedError`."""
        intent = INTENTS.get(asked.intent)
        if intent is None:
            raise UnreadableAskedError(f"no such intent: {asked.intent!r}")
        with self.reader.reading() as conn:
            behind = self.reader.views_behind(conn)  # said in the answer
            snap = self.reader.snapshot(conn, as_at=asked.as_at, known_at=asked.known_at,
                                        shortcut=False)
            answer = intent(Asking(asked, snap, page, size))
        answer.asked = asked
        answer.as_at = asked.as_at.isoformat() if asked.as_at else None
        answer.known_at = asked.known_at.isoformat() if asked.known_at else None
        answer.views_behind = behind
        return answer

    def answer(self, question: str, *, as_at: date | None = None,
               known_at: datetime | None = None, page: int = 1,
               size: int | None = None) -> Answer:
        """Read the words and answer them (page `page` of `size` entries, as `ask`)."""
        return self.ask(self.read(question, as_at=as_at, known_at=known_at),
                        page=page, size=size)

"""Reading a question: what kind of answer it wants, about what, and over which dates."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from cmsbot.questions import verbs
from cmsbot.questions.times import DATE as _DATE
from domain.dates import PartialDate
from domain.errors import DomainError
from domain.text import storable

_RELATIVE = re.compile(
    r"\b(?:(?:in|over|during|for|within)\s+)?(?:the\s+)?(next|coming|last|past)\s+"
    r"(\d+|few|couple of)?\s*(days?|weeks?|months?|years?)\b"
    r"|\b(this|next|last)\s+(week|month|year|quarter)\b"
    r"|\b(today|yesterday|recently|lately)\b",
    re.IGNORECASE,
)

_WINDOW_WORDS = re.compile(r"(?:^|\s)(?:in|during|for|of|before|until|between|from|on|around|"
                           r"throughout|and|to|by|after|within|over)$")
HELP = re.compile(r"^\s*(?:help|\?+|h|usage|commands|what can you do|how does this work"
                  r"|what do you know|hi|hello)\s*[?!.]*\s*$", re.IGNORECASE)
SUBMISSIONS = re.compile(
    r"\b(?:submi(?:t|ts|tted|tting|ssion|ssions)|contribut\w*|who (?:sent|responded|replied|"
    r"commented|answered)|responses?\b|inputs? (?:to|on|for)|proposals? (?:to|on|for))",
    re.IGNORECASE)
HISTORY = re.compile(
    r"\b(?:history|timeline|chronology|what (?:has )?happened|log|track record|"
    r"(?:all )?(?:the )?events? (?:of|for|on)|so far|background|how did .* get)\b",
    re.IGNORECASE)
CHANGES = re.compile(  # not a bare "change": "climate change" names things
    r"\b(?:changed|changes (?:since|in|to|this|last)|what'?s new|anything new|new since|"
    r"updates?|since|recently|lately|this week|last week|past \w+ (?:days|weeks))\b",
    re.IGNORECASE)
UPCOMING = re.compile(
    r"\b(?:coming up|upcoming|forthcoming|what'?s next|next|calendar|agenda|schedule[ds]?|"
    r"planned|future|deadlines?|due|ahead|soon|when)\b", re.IGNORECASE)
OVERDUE = re.compile(  # "late" only as said of a thing: "late November 2015" is a date
    r"\b(?:overdue|slipp(?:ed|ing)|slips?|stale|past due|behind schedule|missed|"
    r"did (?:we|they|i) miss|"
    r"(?:deadlines?|dates?|milestones?|plans?) (?:that )?(?:have |has |had )?"
    r"(?:passed|lapsed|gone by)|"
    r"past (?:its|their|the) (?:deadlines?|due dates?|dates?)|"
    r"(?:running|is|are|was|were|'s) late(?!\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
    r"nov|dec|in|\d)))\b",
    re.IGNORECASE)
PLURAL_KINDS = re.compile(
    r"\b(?:meetings|workshops|events|sessions|conferences|deadlines|milestones)\b",
    re.IGNORECASE)
PAST = re.compile(r"\b(?:held|took place|past|previous|were|attended|last)\b", re.IGNORECASE)
PARTNER_CUE = re.compile(
    r"\b(?:with|partners?|partnerships?|involving|together|cooperation|relations?|"
    r"relationship|work(?:ing)? with|do we have|have we got)\b", re.IGNORECASE)
_ASKING = re.compile(r"\b(?:what|how|has|have|had|been|is|are|was|were|did|does|do)\b",
                     re.IGNORECASE)
RECORDED = re.compile(r"\b(?:recorded|entered|logged|added|learnt|learned)\b", re.IGNORECASE)
# "since StC44", "since the last report": the name, up to the words that start the rest.
_SINCE_NAME = re.compile(r"(?:the\s+)?(.+?)(?=\s+(?:on|for|about|with|regarding|concerning|"
                         r"to|in|of|at)\b|$)", re.IGNORECASE)
LIST_CUE = re.compile(r"\b(?:list|all|which|every|how many|show me)\b", re.IGNORECASE)

KIND_WORDS: dict[str, tuple[str, str | None]] = {
    "agreement": ("agreement", None), "agreements": ("agreement", None),
    "jwp": ("agreement", "JWP"), "jwps": ("agreement", "JWP"),
    "joint work plan": ("agreement", "JWP"), "joint work plans": ("agreement", "JWP"),
    "work plans": ("agreement", "JWP"), "plans": ("agreement", None),
    "moc": ("agreement", "MoC"), "mocs": ("agreement", "MoC"),
    "mou": ("agreement", "MoU"), "mous": ("agreement", "MoU"),
    "memoranda": ("agreement", None), "memorandums": ("agreement", None),
    "meeting": ("meeting", None), "meetings": ("meeting", None),
    "workshop": ("meeting", "workshop"), "workshops": ("meeting", "workshop"),
    "sessions": ("meeting", None), "conferences": ("meeting", None),
    "events": ("meeting", None),
    "post": ("post", None), "posts": ("post", None), "positions": ("post", None),
    "staff": ("post", None), "officers": ("post", None), "vacancies": ("post", None),
    "consultation": ("consultation", None), "consultations": ("consultation", None),
    "notifications": ("consultation", None), "calls for submissions": ("consultation", None),
    "engagements": ("engagement", None), "processes": ("engagement", None),
    "deadlines": ("deadline", None), "milestones": ("deadline", None),
}
_SINGULAR_KINDS = frozenset(k for k in KIND_WORDS if not k.endswith("s")
                            and k not in ("memoranda", "staff"))
_KIND_PATTERN = re.compile(r"\b(" + "|".join(
    re.escape(k) for k in sorted(KIND_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)

# Words that ask, rather than name: removed before the subject is looked up.
CUE_WORDS = re.compile(
    r"\b(?:history|timeline|chronology|happened|log|track record|so far|background|"
    r"coming up|upcoming|forthcoming|next|calendar|agenda|scheduled|schedule|planned|future|"
    r"deadlines?|due|ahead|soon|when|date|dates|held|happen|take place|taking place|"
    r"changed?|changes|new|since|recently|lately|who|submitted|submissions?|submit|"
    r"contributions?|contributed|responses?|responded|inputs?|list|all|which|every|"
    r"how many|show me|tell me|about|partners?|partnerships?|involving|together|"
    r"do we have|have we got|we have|is there|are there|anything|going on|there|any|"
    r"stand|stands|standing with|where are we|where do we|look like|looks|"
    r"events? (?:of|for|on))\b",
    re.IGNORECASE)


@dataclass
class Parsed:
    """What a question asks: its intent and subject, and the times its words name (the
    times it is answered at, "as at" and "known at", are the `Asked`'s)."""

    intent: str
    subject: str
    window: tuple[date, date] | None = None
    since: date | None = None
    kinds: set[str] = field(default_factory=set)
    subtypes: set[str] = field(default_factory=set)
    listy: bool = False
    partner_cue: bool = False
    upcoming_cue: bool = False
    plural: bool = False
    past: bool = False
    text: str = ""
    since_name: str | None = None  # "since StC44": a meeting (or the last report) to date
    recorded: bool = False  # "what was recorded since": the recorded-time view of changes
    at: date | None = None  # "on 1 September 2015" in a question about where things stood
    unread: tuple[str, ...] = ()  # date phrases that could not be read, as typed
    verb: str | None = None  # what a yes/no question asks happened ("endorsed", "held")
    by: str | None = None  # who or where a yes/no question names ("StC44")


def cleaned(question: str) -> str:
    """The words of a question: Slack's mentions out, and what a store cannot hold (NUL…)
    removed, not refused, since a question records nothing."""
    return " ".join(re.sub(r"<[@#!][^>]*>", " ", storable(question)).split())


def parse(question: str, today: date, *, text: str | None = None) -> Parsed:
    """Classify a question; `today` anchors "next 60 days" and "since last week". `text` is
    the whole question when `question` is what is left of it once its times were taken
    out (`cmsbot.questions.times.said`)."""
    question = cleaned(question)
    text = cleaned(text) if text is not None else question
    if not question or HELP.match(question):
        return Parsed("help", "", text=text)
    window, since, since_name, unread, rest = _times(question, today)
    kinds, subtypes = set(), set()
    singular = False
    for word in _KIND_PATTERN.findall(rest):
        kind, subtype = KIND_WORDS[word.lower()]
        kinds.add(kind)
        singular = singular or word.lower() in _SINGULAR_KINDS
        if subtype:
            subtypes.add(subtype)
    asked = verbs.asked(rest)
    if asked is not None:
        rest = asked.rest
    subject = " ".join(CUE_WORDS.sub(" ", rest).split())
    parsed = Parsed("status", subject, window, since, kinds, subtypes,
                    listy=bool(LIST_CUE.search(question)),
                    partner_cue=bool(PARTNER_CUE.search(question)),
                    upcoming_cue=bool(UPCOMING.search(question) or PLURAL_KINDS.search(question)),
                    plural=bool(PLURAL_KINDS.search(question)), past=bool(PAST.search(question)),
                    text=text, since_name=since_name, unread=(unread,) if unread else ())
    dated = since is not None or since_name is not None or bool(unread)
    if SUBMISSIONS.search(question):
        parsed.intent = "submissions"
    elif OVERDUE.search(question):
        parsed.intent = "overdue"
        parsed.subject = " ".join(OVERDUE.sub(" ", subject).split())
    elif asked is not None:
        parsed.intent, parsed.verb, parsed.by = "yesno", asked.verb, asked.by
    elif dated or (HISTORY.search(question) and window is not None
                   and not _ASKING.sub("", subject).strip()):
        parsed.intent = "changes"  # "what happened since StC44", "what happened in 2016"
    elif HISTORY.search(question):
        parsed.intent = "history"
    elif CHANGES.search(question) and not parsed.upcoming_cue:
        parsed.intent = "changes"
    elif parsed.upcoming_cue or (window is not None and kinds and not singular):
        parsed.intent = "upcoming"
    if parsed.intent == "changes":
        parsed.recorded = bool(RECORDED.search(question))
        if not dated and window is None:
            parsed.since = moved(today, -7)
    elif parsed.intent in ("status", "yesno") and window is not None and _named_day(question):
        # "the status of the Ramsar JWP on 1 September 2015" asks where it stood then
        parsed.at, parsed.window = min(window[1], date.max), None
    return parsed


_ON_A_DAY = re.compile(r"\b(?:on|in|during)\s+(?:the\s+)?(?:" + _DATE.pattern + ")",
                       re.IGNORECASE)


def _named_day(question: str) -> bool:
    """Whether the question's window came from "on" or "in" a date in words (not "next
    month", nor "for 2015", which may be part of a name: "the JWP for 2015-2020")."""
    return _ON_A_DAY.search(question) is not None and not _RELATIVE.search(question)


def _times(text: str, today: date,
           ) -> tuple[tuple[date, date] | None, date | None, str | None, str, str]:
    """Pull date phrases out of the question: a window ("in 2016", "next 60 days"), a
    "since" date or the name of what it counts from ("since StC44"); returns what is left
    of the text."""
    window: tuple[date, date] | None = None
    since: date | None = None
    since_name: str | None = None
    unread = ""
    rest = text
    m = re.search(r"\bsince\s+(.+?)(?:[?.!,;]|$)", text, re.IGNORECASE)
    if m:
        phrase = m.group(1).strip()
        relative = _relative(phrase, today)
        date_match = _DATE.match(phrase)
        if relative is not None:
            since = relative[0]
        elif date_match:
            try:
                since = PartialDate.parse(date_match.group(0)).earliest
            except DomainError:
                unread = date_match.group(0)
        else:
            named = _SINCE_NAME.match(phrase)
            if named:
                since_name = named.group(1)
                rest = rest.replace(m.group(0), " " + phrase[named.end():] + " ")
        if since is not None or unread:
            rest = rest.replace(m.group(0), " ")
    taken: list[str] = []
    for date_match in _DATE.finditer(rest):
        # Only "in 2016", "for October 2015"…: a bare year may be part of a name
        # ("Joint Work Plan 2016–2018").
        before = rest[: date_match.start()].rstrip().lower()
        if not _WINDOW_WORDS.search(before):
            continue
        try:
            when = PartialDate.parse(date_match.group(0))
        except DomainError:
            continue
        window = (when.earliest, when.end) if window is None else (
            min(window[0], when.earliest), max(window[1], when.end))
        taken.append(date_match.group(0))
    for phrase in taken:
        rest = rest.replace(phrase, " ")
    m = _RELATIVE.search(rest)
    if m:
        span = _relative(m.group(0), today)
        if span is not None:
            if re.search(r"\b(?:past|yesterday|recently|lately)\b|\blast\s+(?:\d|few|couple)",
                         m.group(0), re.I):
                since = since or span[0]
            else:
                window = window or span
            rest = rest.replace(m.group(0), " ")
    rest = re.sub(r"\b(?:in|during|for|of|before|by|until|between|from|to|and|on)\s*[?.!]*$",
                  "", rest.strip())
    return window, since, since_name, unread, rest


def _relative(phrase: str, today: date) -> tuple[date, date] | None:
    p = phrase.lower()
    m = re.search(r"\b(next|coming|last|past)\s+(\d+|few|couple of)?\s*(day|week|month|year)s?",
                  p)
    if m:
        count = {"few": 3, "couple of": 2, None: 1}.get(m.group(2)) or int(m.group(2))
        days = count * {"day": 1, "week": 7, "month": 30, "year": 365}[m.group(3)]
        if m.group(1) in ("next", "coming"):
            return today, moved(today, days)
        return moved(today, -days), today
    m = re.search(r"\b(this|next|last)\s+(week|month|year|quarter)\b", p)
    if m:
        return _calendar_span(m.group(1), m.group(2), today)
    if "yesterday" in p:
        return moved(today, -1), today
    if "today" in p:
        return today, today
    if "recently" in p or "lately" in p:
        return moved(today, -30), today
    return None


def moved(day: date, days: int) -> date:
    """`day` moved by `days`, held within the calendar (a question may say "the next
    99999999 days", and an as-at date may be 9999-12-31)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _calendar_span(which: str, unit: str, today: date) -> tuple[date, date]:
    shift = {"this": 0, "next": 1, "last": -1}[which]
    if unit == "week":
        start = moved(moved(today, -today.weekday()), 7 * shift)
        return start, moved(start, 6)
    if unit == "year":
        year = min(max(today.year + shift, date.min.year), date.max.year)
        return date(year, 1, 1), date(year, 12, 31)
    months = 3 if unit == "quarter" else 1
    first_month = ((today.month - 1) // months) * months + 1
    index = min(max(today.year * 12 + first_month - 1 + shift * months, date.min.year * 12),
                date.max.year * 12 + 12 - months)
    year, month = divmod(index, 12)
    last_index = index + months - 1
    last_year, last_month = divmod(last_index, 12)
    return (date(year, month + 1, 1),
            date(last_year, last_month + 1,
                 calendar.monthrange(last_year, last_month + 1)[1]))

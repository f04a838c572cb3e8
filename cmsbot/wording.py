"""How cmsbot says dates, times, counts and sources: one style for the command line, Slack,
digests and the report.

- A day is "1 September 2015" (no leading zero); a recorded time is "3 March 2026 12:00
  UTC", in UTC whatever zone it was given in.
- A partial date is said as its source said it (`str(PartialDate)`), and `dated` gives it
  the preposition its precision takes: "on 1 May 2016", "in May 2016", "in 2016",
  "by 2016".
- A count takes the number of its noun: "1 item", "2 items".
- Sources are grouped by document: "UNEP/CMS/StC44/18 ¶8, ¶10".

The domain keeps its own rendering of a partial date (`PartialDate.__str__`), which this
module builds on; everything else says dates through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime

from domain.dates import PartialDate, Precision
from domain.overdue import Late, Slip, late_entries, settled_labels, slip
from domain.provenance import Source
from domain.state import FirstPlan, ItemState

# A date's own words that already say how it relates to the time ("by 2016", "in 2016").
_PREPOSED = ("by ", "in ", "on ", "at ", "before ", "after ", "until ", "around ",
             "during ", "from ", "between ", "within ", "no later than ", "not later than ")
# Words that take "in the" or "at the" before them ("in the last trimester of 2016").
_IN_THE = ("first ", "second ", "third ", "fourth ", "last ", "1st ", "2nd ", "3rd ", "4th ",
           "middle of ")
_AT_THE = ("end of ", "beginning of ", "start of ")
_HEDGES = ("most probably ", "probably ", "tentatively ")


def day(value: date) -> str:
    """"1 September 2015"."""
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime) -> str:
    """A recorded time, in UTC: "3 March 2026 12:00 UTC"."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{day(value)} {value:%H:%M} UTC"


def span(first: date, last: date) -> str:
    """A window of days: "in 2016", "in 2016–2018", or "between 1 June 2016 and 31 December
    2016"."""
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31):
        return f"in {first.year}" if first.year == last.year else \
            f"in {first.year}–{last.year}"
    return f"between {day(first)} and {day(last)}"


def as_of(as_at: date | None, known_at: datetime | None) -> str:
    """The times a reading is for: "as at 1 September 2015", "as known on 3 March 2026
    12:00 UTC", both, or "" for now."""
    words = []
    if as_at is not None:
        words.append(f"as at {day(as_at)}")
    if known_at is not None:
        words.append(f"as known on {moment(known_at)}")
    return " ".join(words)


def dated(when: PartialDate) -> str:
    """A partial date with the preposition its precision takes: "on 1 May 2016",
    "in May 2016", "in late November 2015", "in 2016", "by 2016"."""
    return _preposed(str(when), when)


def _preposed(words: str, when: PartialDate) -> str:
    lowered = words.lower()
    if lowered.startswith(_PREPOSED) or when.is_by:
        return words
    for hedge in _HEDGES:
        if lowered.startswith(hedge):  # "most probably in 2016"
            return words[:len(hedge)] + _preposed(words[len(hedge):], when)
    if lowered.startswith(_IN_THE):
        return f"in the {words}"
    if lowered.startswith(_AT_THE):
        return f"at the {words}"
    if lowered.startswith("the "):
        return f"in {words}"
    return f"on {words}" if when.precision is Precision.DAY else f"in {words}"


def status_since(since: PartialDate) -> str:
    """Since when a status holds: "since 14-15 October 2015", or for a fact a report
    states as so by its date, "as of 1 September 2015"."""
    if not since.is_by:
        return f"since {since}"
    words = str(since)
    return f"as of {words.removeprefix('by ')}"


def status_line(state: ItemState, partners: Sequence[str], after: date | None, *,
                cited: bool = True, held: Mapping[str, PartialDate] | None = None,
                first: FirstPlan | None = None) -> str:
    """An item's status in one line: "IWC–CMS Joint Work Plan: in negotiation (…); as of
    1 September 2015; with IWC; next: … in 2016; source: UNEP/CMS/StC44/18 ¶10", with the partners'
    names given, the next entry ending on or after `after`, what is late as at `after`
    (`held`: when the meetings its steps wait on were held, by `meeting_key`), how a
    meeting slipped from its `first` plan, and the sources when `cited`."""
    parts = [f"{state.title}: {state.status}" + (f" ({state.detail})" if state.detail else "")]
    if state.status_since is not None:
        parts.append(status_since(state.status_since))
    if partners:
        parts.append(f"with {', '.join(partners)}")
    if state.pending_endorsements and state.status != "awaiting endorsement":
        parts.append("awaiting endorsement by " + " and ".join(
            f"{body} ({meeting})" for body, meeting in state.pending_endorsements))
    late = late_entries(state, after, held) if after is not None else []
    entry = state.next_entry(after, skip=settled_labels(late))
    if entry is not None:
        label, when = entry
        parts.append(f"next: {label} {dated(when)}" if label != state.title
                     else f"next date: {when}")
    parts.extend(late_words(state, overdue) for overdue in late)
    slipped = slip(state, first)
    if slipped is not None:
        parts.append(slip_words(slipped))
    sources = cite(state.sources) if cited else ""
    if sources:
        parts.append(f"source: {sources}")
    return "; ".join(parts)


def late_words(state: ItemState, late: Late, *, planned: bool = True,
               said_day: date | None = None) -> str:
    """A late entry: "endorsement at StC44: outcome not recorded (StC44 was held 14-15
    October 2015)", "overdue since 1 May 2016 (planned in early 2016)" for the item's own
    date, or "…: overdue since …" for another of its dates; without `planned`, the
    planned date is left to the caller to say. A date became overdue on `said_day` (the
    day the text is written as at, which it says once elsewhere) is just "overdue"."""
    if late.awaited is not None:
        met = (f"{late.awaited} was held {late.met}" if late.met is not None
               else f"{late.awaited} was due {dated(late.planned)}")
        return f"{late.label}: outcome not recorded ({met})"
    words = "overdue" if late.since == said_day else f"overdue since {day(late.since)}"
    if planned:
        words += f" (planned {dated(late.planned)})"
    return words if late.label == state.title else f"{late.label}: {words}"


def slip_words(slipped: Slip) -> str:
    """How a meeting slipped: "slipped (first planned in early 2016)", "moved (first
    planned in Jamaica)" or both."""
    moved = slipped.first_venue is not None
    what = " and ".join(w for w, yes in (("slipped", slipped.later), ("moved", moved)) if yes)
    first = [dated(slipped.first)] if slipped.later else []
    if moved:
        first.append(f"in {slipped.first_venue}")
    return f"{what} (first planned {', '.join(first)})"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """"1 item", "2 items", "0 items"; `plural` for a noun that is not made with an s
    ("1 entry", "3 entries")."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def cite(sources: Iterable[Source]) -> str:
    """"UNEP/CMS/StC44/18 ¶8, ¶10" — sources grouped by document."""
    by_document: dict[str, list[str]] = {}
    for source in sources:
        document = source.document or source.cite()  # a chat or the command line
        paragraphs = by_document.setdefault(document, [])
        if source.paragraph and source.paragraph not in paragraphs:
            paragraphs.append(source.paragraph)
    parts = []
    for document, paragraphs in by_document.items():
        marks = ", ".join(p if not p[0].isdigit() else f"¶{p}" for p in paragraphs)
        parts.append(f"{document} {marks}".strip())
    return "; ".join(parts)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The English of answers: what each intent's answer says, from what it found.

Dates, times, counts and sources are said through `cmsbot.wording`, as everywhere else.
"""

from __future__ import annotations

from datetime import date

from cmsbot.questions.answer import Line, Match
from cmsbot.readmodel.resolve import ItemRef
from cmsbot.wording import cite, clip, count, day, span
from domain.state import ItemState

HELP_TEXT = (
    "Ask me about the Secretariat's partnerships, for example:\n"
    "• status of IWC JWP — where an item stands, with its sources\n"
    "• history of the CITES joint work plan — everything recorded about it\n"
    "• what's coming up / upcoming workshops / meetings in 2016\n"
    "• what changed since 1 June 2015 / what was recorded since StC44\n"
    "• status of the Ramsar JWP on 1 September 2015 / as at the end of 2015\n"
    "• did StC44 endorse the Ramsar JWP? / has the Panama workshop been held?\n"
    "• what is overdue? / what slipped? — plans whose dates have passed with no outcome\n"
    "• what do we have with Ramsar?\n"
    "• who submitted on civil society?\n"
    "Say \"as at DATE\" (or --as-at DATE) for what was true then, \"known at DATE\" (or "
    "--known-at TIME) for what we knew then.\n"
    "In Slack: /cms record (editors), /cms subscribe [weekly|daily] [mon 09:00] "
    "[Europe/Berlin] [partner, kind or item], /cms unsubscribe, /cms subscriptions, "
    "/cms follow <item or partner>, /cms unfollow <…>."
)
KIND_NAMES = {"agreement": "agreements", "meeting": "meetings", "post": "posts",
              "consultation": "consultations", "engagement": "engagements"}


def _after(when: str) -> str:
    """" (as at 1 September 2015)" after a heading; nothing for now. Each answer's `when`
    is `cmsbot.wording.as_of`'s words for its times."""
    return f" ({when})" if when else ""


def status(line: str, when: str) -> str:
    return line + _after(when) + "."


def nothing_yet(title: str, when: str) -> str:
    """Nothing about the item yet, at the answer's times: "as at 1 June 2014" is business
    time (nothing had happened to it), "as known on …" recorded time (nothing recorded)."""
    if not when:
        return f"Nothing is recorded about {title} yet."
    return f"Nothing is recorded about {title} {when}."


def unread_dates(phrases: tuple[str, ...]) -> str:
    """The dates a question gave that are no dates, named; nothing else is answered."""
    said = ", ".join(f"“{clip(p, 60)}”" for p in phrases)
    return (f"I can't read {said} as a date, so I haven't answered for another day. "
            "Write a date such as 1 September 2015, September 2015, 2015 or 2015-09-01 "
            "(and a time such as 2026-03-03T12:00Z).")


def yes_no(verdict: str, title: str, verb: str, by: str | None, when: str,
           deciding: Line | None, now: str) -> str:
    """"Yes (as at …): … was endorsed by StC44." with the event that says so; "No" with
    the event that says not yet (or never: cancelled, ended); "Not recorded" with the
    latest event there is. Then where the item stands."""
    what = f"{title} was {verb}" + (f" {by}" if by else "")
    head = {"Yes": f"Yes{_after(when)}: {what}.",
            "No": f"No{_after(when)}: {title} {'had' if when else 'has'} not been {verb}"
                  + (f" {by}" if by else "")
                  + "."}.get(verdict, f"Not recorded{_after(when)}: nothing recorded says "
                                      f"{what}.")
    label = {"Yes": "", "No": "Because: "}.get(verdict, "Latest recorded: ")
    decided = (f"{label}{deciding.when}: {deciding.text} — {cite(deciding.sources)}"
               if deciding is not None else "")
    return "\n".join(part for part in (head, decided, f"Status: {now}.") if part)


def did_you_mean(matches: list[Match]) -> str:
    return "Did you mean:\n" + "\n".join(
        f"• {m.title} ({m.kind}{', ' + m.status if m.status else ''})" for m in matches)


def not_found(subject: str, suggestions: list[ItemRef]) -> str:
    shown = clip(subject.strip() or "that", 80)
    if suggestions:
        return f"I couldn't find “{shown}”. Did you mean: " \
               f"{'; '.join(s.title for s in suggestions)}?"
    return (f"I couldn't find “{shown}” among the items I track. "
            "Try a partner (\"what do we have with CITES?\") or \"help\".")


def history(title: str, when: str, lines: list[Line], now: str) -> str:
    """The item's events, every one, and where it stands now."""
    body = "\n".join(f"• {line.when}: {line.text} — {cite(line.sources)}" for line in lines)
    return (f"History of {title}{_after(when)}:\n"
            f"{body or '• (no events beyond its registration)'}\n"
            f"Now: {now}.")


def agenda_entry(label: str, state: ItemState, held: bool) -> str:
    """A calendar entry: the meeting itself ("…, Bonn (scheduled)") or an item's date."""
    if label == state.title:
        venue = f", {state.venue}" if state.venue else ""
        return f"{label}{venue} ({'held' if held else state.status})"
    return f"{state.title}: {label}"


def what(kinds: set[str], subtypes: set[str]) -> str:
    """What a list holds: "workshops", "agreements", "items"…"""
    if "workshop" in subtypes:
        return "workshops"
    if "JWP" in subtypes:
        return "joint work plans"
    if len(kinds) == 1:
        return KIND_NAMES.get(next(iter(kinds)), "items")
    return "meetings, deadlines or milestones" if not kinds else "items"


def window(first: date | None, last: date | None) -> str:
    """The days a calendar answer covers: "in 2016", "before 3 March 2026", "after …"."""
    if first is not None and last is not None:
        return span(first, last)
    if last is not None:
        return f"before {day(last)}"
    return f"after {day(first or date.min)}"


def upcoming(listed: str, days: str, when: str, lines: list[Line]) -> str:
    if not lines:
        return f"No {listed} are on the calendar {days}{_after(when)}."
    return f"{listed.capitalize()} {days}{_after(when)}:\n" + bullets(lines)


def overdue(when: str, lines: list[Line], total: int) -> str:
    """Late entries and slipped meetings (`lines`: all, or a page of them), each under its
    date, with its sources; the heading counts all `total`."""
    if not total:
        return f"Nothing is overdue or slipped{_after(when)}."
    return f"Slipped or overdue{_after(when)}: {total}\n" + bullets(lines)


def partner(label: str, when: str, lines: list[Line]) -> str:
    if not lines:
        return f"Nothing is recorded with {label}{_after(when)}."
    return (f"With {label} we have {count(len(lines), 'item')}{_after(when)}:\n"
            + bullets(lines, when=False))


def listing(listed: str, when: str, lines: list[Line]) -> str:
    if not lines:
        return f"No {listed} are recorded{_after(when)}."
    return f"{listed.capitalize()}{_after(when)}: {len(lines)}\n" + bullets(lines, when=False)


def changes(since: str, when: str, lines: list[Line], *, recorded: bool = False,
            events: int | None = None, items: int | None = None) -> str:
    """Changes grouped by item (in the order the lines come: by date), each with its date
    and sources; `since` is what they count from ("since 1 September 2015"); `recorded`
    says it is the recorded-time view (when they were recorded, not when they happened).
    A page of them says how many `events` on how many `items` there are in all."""
    view = " (when recorded, whenever they happened)" if recorded else ""
    what = "Recorded" if recorded else "Changes"
    if not lines:
        return f"Nothing {'was recorded' if recorded else 'changed'} {since}{view}" \
               f"{_after(when)}."
    shown = list(dict.fromkeys(line.item or "" for line in lines))
    head = (f"{what} {since}{view}{_after(when)}: "
            f"{count(events if events is not None else len(lines), 'event')} on "
            f"{count(items if items is not None else len(shown), 'item')}")
    groups = [f"*{item}*\n" + bullets([
        Line(line.when, line.text.removeprefix(f"{item}: "), line.item, line.sources)
        for line in lines if (line.item or "") == item]) for item in shown]
    return head + "\n" + "\n".join(groups)


def submissions_of(title: str, state_status: str, lines: list[Line]) -> str:
    """One consultation's submissions: "… (open for submissions): 2 submissions"."""
    head = f"{title} ({state_status}): {count(len(lines), 'submission')}"
    return head + ("\n" + bullets(lines) if lines else "")


def submissions(blocks: list[str], when: str) -> str:
    if not blocks:
        return f"No consultations are recorded{_after(when)}."
    return "\n".join(blocks) + (f"\n({when})" if when else "")


def bullets(lines: list[Line], *, when: bool = True) -> str:
    """Every line as a bullet (with its date and sources when `when`); a long answer is
    cut into pages by `cmsbot.questions.pages`, not here."""
    return "\n".join(bullet(line, when=when) for line in lines)


def bullet(line: Line, *, when: bool = True) -> str:
    """One entry: "• 1 September 2015: … — UNEP/CMS/StC44/18 ¶10"."""
    return (f"• {line.when + ': ' if when and line.when else ''}{line.text}"
            + (f" — {cite(line.sources)}" if when and line.sources else ""))

"""The App Home tab: what a person follows and where it stands, what is coming up, what is
overdue, what changed lately, and (for editors) a "Record update" button.

A person's follows are those of their direct-message channel with cmsbot: `/cms follow
<item or partner>` typed there (or any follow of that channel) puts the item, or every
item of the partner, on their Home tab, and its updates in that conversation. The tab is
published (`views.publish`) when it is opened, and again after its owner records an update
or changes what they follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cmsbot.digests.channels import ChannelCommands
from cmsbot.questions.answer import Answer, Asked, Line
from cmsbot.questions.engine import QuestionEngine
from cmsbot.questions.parse import Parsed
from cmsbot.readmodel.items import ItemFilter, ItemRow, list_items
from cmsbot.readmodel.reader import ReadModel
from cmsbot.slack.blocks import (
    Block,
    buttons,
    context_block,
    header,
    line_sections,
    section,
)
from cmsbot.wording import day

RECORD = "home_record"  # action id of the Home tab's "Record update"
SHOWN = 10  # entries a part of the tab shows; the rest are counted
RECENT_DAYS = 30  # "recent changes" are those dated in the last 30 days
FOLLOW_HINT = ("You follow nothing yet. Type `/cms follow <item or partner>` (for example "
               "`/cms follow IWC JWP`) in your messages with me: it shows here, and each "
               "update comes to you there.")


@dataclass(frozen=True)
class HomeContent:
    """What a person's Home tab shows, in plain types."""

    today: date
    followed: list[ItemRow] = field(default_factory=list)
    upcoming: list[Line] = field(default_factory=list)
    overdue: list[Line] = field(default_factory=list)
    changes: list[Line] = field(default_factory=list)
    may_record: bool = False
    upcoming_total: int | None = None  # entries coming up in all (None: the lines' count)
    overdue_total: int | None = None  # entries overdue in all (None: the lines' count)


def read(reader: ReadModel, questions: QuestionEngine, channels: ChannelCommands,
         channel: str | None, *, may_record: bool) -> HomeContent:
    """What the Home tab of the person whose direct-message channel is `channel` shows
    now (it only reads)."""
    today = reader.today()
    follows = channels.listing(channel).follows if channel else []
    followed: dict[str, ItemRow] = {}
    with reader.reading() as conn:
        keys = {key for kind, key in follows if kind == "item"}
        for row in list_items(reader, conn) if keys else []:
            if row.key in keys:
                followed[row.key] = row
        for kind, key in follows:
            if kind == "partner":
                for row in list_items(reader, conn, ItemFilter(partner=key)):
                    followed.setdefault(row.key, row)
    upcoming = questions.ask(Asked(Parsed("upcoming", "", text="what's coming up")),
                             size=SHOWN)
    late = overdue(questions)
    changes = questions.ask(Asked(Parsed("changes", "", since=recent_since(today),
                                         text="what changed lately")))
    return HomeContent(today, sorted(followed.values(), key=lambda r: (r.kind, r.title)),
                       upcoming.lines, late.lines, changes.lines[::-1], may_record,
                       upcoming_total=upcoming.total, overdue_total=late.total)


def home_view(content: HomeContent) -> dict[str, Any]:
    """The Home tab as a view: each part a header and its entries, within Block Kit's
    limits (each part at most `SHOWN` entries, and "… and N more")."""
    blocks: list[Block] = [header("cmsbot: the Secretariat's partnerships")]
    if content.may_record:
        blocks.append(buttons([("Record update", RECORD, "home")], primary=True))
    blocks.append(header("What you follow"))
    if content.followed:
        blocks += _part([Line("", f"{row.title}: {row.status} ({row.kind}; `{row.key}`)")
                         for row in content.followed])
    else:
        blocks.append(section(FOLLOW_HINT, escaped=True))
    for title, lines, total, empty in (
            ("Coming up", content.upcoming, content.upcoming_total,
             "Nothing is on the calendar ahead."),
            ("Overdue", content.overdue, content.overdue_total, "Nothing is overdue."),
            (f"Recent changes (since {day(recent_since(content.today))})", content.changes,
             None, f"Nothing dated in the last {RECENT_DAYS} days is recorded.")):
        blocks.append(header(title))
        blocks += _part(lines, total) or [section(empty)]
    blocks.append(context_block(f"As at {day(content.today)}. Ask me anything in your "
                                "messages with me, or type /cms help."))
    return {"type": "home", "blocks": blocks}


def unavailable(text: str) -> dict[str, Any]:
    """The Home tab when the store does not answer."""
    return {"type": "home", "blocks": [header("cmsbot"), section(text)]}


def overdue(questions: QuestionEngine) -> Answer:
    """What is overdue, settled or slipped: the first `SHOWN` entries of the question
    engine's "overdue" answer, and how many there are in all (`Answer.total`)."""
    return questions.ask(Asked(Parsed("overdue", "", text="what is overdue?")), size=SHOWN)


def recent_since(today: date) -> date:
    """The first day of "recent changes"."""
    return today - timedelta(days=RECENT_DAYS)


def _part(lines: list[Line], total: int | None = None) -> list[Block]:
    """At most `SHOWN` entries in at most 4 sections, and a count of the rest (of `total`
    entries in all; None: of the lines)."""
    shown = lines[:SHOWN]
    return line_sections(shown, 4, more=max(0, (len(lines) if total is None else total)
                                            - len(shown)))

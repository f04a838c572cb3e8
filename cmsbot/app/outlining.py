"""Recording a history file's report outline (`report:`) with the rest of the file.

The outline is recorded in the file's one save, so a file refused for any problem records
no outline either. Importing the same outline again records nothing; a file that gives
the document's report another outline records it as a revision.
"""

from __future__ import annotations

from collections.abc import Iterable

from cmsbot.eventstore.tracker import Tracker
from cmsbot.history import Header
from domain.items import item_id
from domain.outlines import ReportOutline, outline_id

Problems = list[tuple[int, str]]


def outline_to_record(tracker: Tracker, header: Header, keys: Iterable[str | None],
                      ) -> tuple[ReportOutline | None, Problems]:
    """The outline aggregate with the file's outline as a new event (None when the file has
    no outline, or the store has it already), or the problems that keep it from being
    recorded: each item a section names must be in the file or recorded before."""
    entry = header.outline
    if entry is None:
        return None, []
    in_file = {key for key in keys if key is not None}
    others = {key for _, key in entry.items()} - in_file
    recorded = tracker.existing([item_id(key) for key in others])
    problems = [(section.at.line,
                 f"the report section {section.section.title!r} names the item {key!r}, "
                 "which is neither in this file nor recorded")
                for section, key in entry.items()
                if key in others and item_id(key) not in recorded]
    if problems:
        return None, problems
    outline = entry.outline(header.document)
    aggregate_id = outline_id(header.document)
    if not tracker.existing([aggregate_id]):
        return ReportOutline.declare(outline, actor=header.actor,
                                     ref=header.ref("report")), []
    existing: ReportOutline = tracker.get(aggregate_id)
    changed = existing.revise(outline, actor=header.actor,
                              ref=header.ref("report", str(existing.version + 1)))
    return (existing if changed else None), []

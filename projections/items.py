"""Items' states as the log changes them: what the board, calendar and consultations views
are made of, and what notices and the names position look at.

The state is the domain's own fold (`domain.state`), the one the aggregates and the as-at
answers use. A correction or retraction folds the item's events again from the store.
Every `checkpoints.EVERY`th version's state is kept as a checkpoint (`views.checkpoints`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, select

from domain import events as ev
from domain.state import SLIPPING, ItemState
from projections import tables as t
from projections.source import EventSource
from projections.viewable import viewable
from projections.views import agenda, board, calendar, checkpoints, consultations
from projections.views.names import naming

# The tables whose rows of an item are written afresh when it changes; the agenda's rows are
# only added to and closed (`agenda.Timeline`), its marks written afresh; the checkpoints are
# added, and made again from a revised version on (`checkpoints.Kept`).
TABLES = (*board.TABLES, *calendar.TABLES, *consultations.TABLES, t.agenda_marks)
REVISIONS = (ev.EventCorrected, ev.EventRetracted)


class Items:
    """The states of the items a batch (or a bulk transaction) meets, and which of them
    changed."""

    def __init__(self, source: EventSource, states: dict[str, ItemState | None], *,
                 complete: bool, conn: Connection | None = None,
                 timelines: dict[str, agenda.Timeline] | None = None,
                 kept: dict[str, checkpoints.Kept] | None = None) -> None:
        # Complete: every state is made from the log (a rebuild), never read from the
        # board, which `conn` reads otherwise; so with the agenda's timelines.
        self.source, self.states, self.complete, self.conn = source, states, complete, conn
        self.timelines = {} if timelines is None else timelines
        self.kept = {} if kept is None else kept
        self.dirty: set[str] = set()
        self.checkpointed: set[str] = set()  # the items that made a checkpoint
        self.closing: set[str] = set()  # the items whose timelines closed rows
        self.names_at = 0  # the last position that changed a name

    def state(self, item_id: str) -> ItemState | None:
        if item_id not in self.states:
            if self.complete or self.conn is None:
                return None
            row = self.conn.execute(
                select(t.board.c.state).where(t.board.c.item_id == item_id)).first()
            self.states[item_id] = ItemState.from_dict(row.state) if row else None
        return self.states[item_id]

    def timeline(self, item_id: str) -> agenda.Timeline:
        found = self.timelines.get(item_id)
        if found is None:
            found = self.timelines[item_id] = (
                agenda.Timeline(item_id, [], from_start=True) if self.complete or self.conn is None
                else agenda.Timeline.read(self.conn, item_id))
        return found

    def apply(self, position: int, item_id: str, event: Any) -> None:
        """Apply an item's event (already `viewable`) to its state and its timeline."""
        before = self.state(item_id)
        names_before = naming(before) if before is not None else None
        # What was dated, read before `apply` changes the state in place (only a dating
        # event or a relocation can change it).
        dated_before = agenda.dated(before) if type(event) in SLIPPING else {}
        read: list[Any] = []

        def events() -> list[Any]:  # the item's events up to this one, read once
            if not read:
                read.extend(viewable(e) for e in self.source.item_events(
                    UUID(item_id), up_to_version=event.originator_version))
            return read

        if isinstance(event, ev.ItemRegistered):
            self.states[item_id] = ItemState.registered(event)
        elif isinstance(event, REVISIONS):
            self.states[item_id] = self.checkpoints(item_id).refolded(
                events(), event.corrects if isinstance(event, ev.EventCorrected)
                else event.retracts)
        elif before is not None:
            before.apply(event)
        self.dirty.add(item_id)
        after = self.states.get(item_id)
        timeline = self.timeline(item_id)
        timeline.apply(event, dated_before, after, events)
        if timeline.closed:
            self.closing.add(item_id)
        if (after is not None and event.originator_version % checkpoints.EVERY == 0
                and not isinstance(event, (ev.ItemRegistered, *REVISIONS))):
            self.checkpoints(item_id).made(event.originator_version, timeline.last_end, after)
            self.checkpointed.add(item_id)
        if after is not None and naming(after) != names_before:
            self.names_at = position

    def checkpoints(self, item_id: str) -> checkpoints.Kept:
        found = self.kept.get(item_id)
        if found is None:
            found = self.kept[item_id] = checkpoints.Kept(item_id)
        return found

    def finished_rows(self) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The rows made since this was last asked that will not change, taken from the
        items: a bulk transaction writes them as it goes rather than holding them to the
        end. They are the checkpoints made, and the agenda's rows opened and closed
        (`agenda.Timeline.take_closed`). An item whose stored checkpoints a revision made
        again keeps its rows until they are deleted (`close_stored`), then written with
        the item's."""
        made = []
        for item_id in self.checkpointed:
            kept = self.kept[item_id]
            if kept.drop_from is None:
                made += kept.new
                kept.new = []
        closed = [row for item_id in sorted(self.closing)
                  for row in self.timelines[item_id].take_closed()]
        self.checkpointed, self.closing = set(), set()
        return [(t.state_checkpoints, made), (t.agenda, closed)]

    def forget(self, ids: list[str]) -> None:
        """Drop what is kept of these items, whose rows are written."""
        for item_id in ids:
            self.states.pop(item_id, None)
            self.timelines.pop(item_id, None)
            self.kept.pop(item_id, None)

    def rows(self, ids: list[str]) -> list[tuple[Table, list[dict[str, Any]]]]:
        """The rows of these items, for each view made of their states."""
        states = [s for s in (self.states[i] for i in ids) if s is not None]
        timelines = [self.timelines[i] for i in ids if i in self.timelines]
        return [*board.rows(states), *calendar.rows(states), *consultations.rows(states),
                *agenda.rows(timelines),
                *checkpoints.rows([self.kept[i] for i in ids if i in self.kept])]

    def close_stored(self, ids: list[str]) -> None:
        """Close in the agenda the rows of these items that their events closed, and
        delete the checkpoints their revisions made again."""
        if self.conn is not None:
            for item_id in ids:
                if item_id in self.timelines:
                    self.timelines[item_id].close_stored(self.conn)
                if item_id in self.kept:
                    self.kept[item_id].replace_stored(self.conn)

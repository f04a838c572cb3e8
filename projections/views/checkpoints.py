"""Items' states at every `EVERY`th version (`tables.state_checkpoints`), so that an as-at
fold of a long item starts from one instead of from its registration
(`cmsbot.readmodel.checkpoints`).

A checkpoint at version v is the fold of the item's versions up to v with every revision
made of them so far (the board's state right after v, until a revision), and `through_end`,
the latest business date of those versions (as corrected) besides the registration and
revisions (the agenda's `last_end` at v). A version that is a revision gets none. A correction or
retraction of version r changes the fold of every version from r on: in the transaction
that applies it, the checkpoints from r on are made again from the refold of the item's
events that it needs anyway (`Kept.refolded`), and the stored ones replaced. So every
checkpoint standing is the fold of its versions with every revision ever made of them, and
a rebuild, which applies the same events in the same order, makes the same rows as keeping
them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete

from domain import events as ev
from domain.state import ItemState, dated_as_corrected, folds
from projections import tables as t

EVERY = 32  # versions from one checkpoint to the next (docs/performance.md: why 32)
REVISIONS = (ev.EventCorrected, ev.EventRetracted)


class Kept:
    """One item's checkpoints made since its rows were last written, and the version from
    which its stored ones are to be replaced (None: none)."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.new: list[dict[str, Any]] = []
        self.drop_from: int | None = None

    def made(self, version: int, through_end: date | None, state: ItemState) -> None:
        """The item's state right after `version`, which is not a revision; kept when that
        version is a checkpoint's and some event up to it was dated (`through_end`)."""
        if version % EVERY == 0 and through_end is not None:
            self.new.append({"item_id": self.item_id, "version": version,
                             "through_end": through_end, "state": state.to_dict()})

    def refolded(self, events: list[Any], revised: int) -> ItemState | None:
        """The fold of the item's `events` (version order, up to one that corrects or
        retracts version `revised`), with the checkpoints from `revised` on made again."""
        self.new = [row for row in self.new if row["version"] < revised]
        self.drop_from = revised if self.drop_from is None else min(self.drop_from, revised)
        latest: date | None = None  # `through_end` so far
        through: dict[int, tuple[Any, date | None]] = {}
        dated = dated_as_corrected(events)  # a correction may move when a fact happened
        for event in events:
            when = dated.get(event.originator_version)
            if when is not None:
                latest = when.end if latest is None else max(latest, when.end)
            through[event.originator_version] = (event, latest)
        state = None
        for version, state in folds(events):
            event, through_end = through[version]
            if version >= revised and not isinstance(event, REVISIONS):
                self.made(version, through_end, state)
        return state

    def replace_stored(self, conn: Connection) -> None:
        """Delete the stored checkpoints a revision made again (before `rows` adds the new
        ones)."""
        if self.drop_from is not None:
            c = t.state_checkpoints.c
            conn.execute(delete(t.state_checkpoints).where(
                c.item_id == self.item_id, c.version >= self.drop_from))
            self.drop_from = None


def rows(kept: list[Kept]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The checkpoints to insert for these items."""
    return [(t.state_checkpoints, [row for k in kept for row in k.new])]

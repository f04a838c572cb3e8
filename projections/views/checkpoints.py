"""Items' states at every `EVERY`th version (`tables.state_checkpoints`), so that an as-at
fold of a long item starts from one instead of from its registration
(`cmsbot.readmodel.checkpoints`).

A checkpoint is the item's state as the board had it right after that version (the fold of
the versions up to it, with the revisions made up to it), and `through_end`, the latest
business date of those versions besides the registration and revisions (the agenda's
`last_end` at that moment). Only a version that is not a revision gets one. A correction
or retraction of version v changes the fold of every version from v on: the checkpoints
from v on are dropped, in the transaction that applies it. So every checkpoint standing is
the fold of its versions with every revision ever made of them, and a rebuild, which
applies the same events in the same order, makes the same rows as keeping them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete

from projections import tables as t

EVERY = 32  # versions from one checkpoint to the next (docs/performance.md: why 32)


class Kept:
    """One item's checkpoints made since its rows were last written, and the version from
    which its stored ones are to be dropped (None: none)."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.new: list[dict[str, Any]] = []
        self.drop_from: int | None = None

    def made(self, version: int, through_end: date | None, state: dict[str, Any]) -> None:
        """The item's state (`ItemState.to_dict`) right after `version`; kept when that
        version is a checkpoint's and some event up to it was dated (`through_end`)."""
        if version % EVERY == 0 and through_end is not None:
            self.new.append({"item_id": self.item_id, "version": version,
                             "through_end": through_end, "state": state})

    def revised(self, version: int) -> None:
        """A correction or retraction of `version`: the checkpoints from it on are wrong."""
        self.new = [row for row in self.new if row["version"] < version]
        self.drop_from = version if self.drop_from is None else min(self.drop_from, version)

    def drop_stored(self, conn: Connection) -> None:
        """Delete the stored checkpoints a revision made wrong (before `rows` are added)."""
        if self.drop_from is not None:
            c = t.state_checkpoints.c
            conn.execute(delete(t.state_checkpoints).where(
                c.item_id == self.item_id, c.version >= self.drop_from))
            self.drop_from = None


def rows(kept: list[Kept]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The checkpoints to insert for these items."""
    return [(t.state_checkpoints, [row for k in kept for row in k.new])]

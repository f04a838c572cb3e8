"""Items' states as at a date folded from a checkpoint: the fast path of the as-at fold of a
long item, behind `cmsbot.readmodel.agenda.states` (itself behind `Snapshot.states`).

As at D (known now), an item's state is the fold of its registration, the events whose
date ended by D, and the revisions of those (`Snapshot.visible`). A checkpoint
(`projections.views.checkpoints`) at version v with `through_end` <= D is the fold of
versions 1..v, every one of which had happened by D, with every revision ever made of
them (a revision of one of them makes it again). So the visible fold is the
checkpoint's state folded on with the visible versions after v: those are read from the
store, filtered as `Snapshot.visible` filters (a revision of a version up to v is visible:
its changes are in the checkpoint, the revision itself is folded in its place), and folded
from it (`domain.state.fold`'s `start`). As known at a past time, or without a checkpoint
by D, the plain path folds.

`tests/integration/test_checkpoints.py` holds it equal to the plain fold on both stores.
"""

from __future__ import annotations

from uuid import UUID

from cmsbot.readmodel.snapshot import Snapshot
from domain.state import ItemState, fold
from projections import queries as q
from projections.views import checkpoints as kept


def states(snap: Snapshot, item_ids: list[str], reach: dict[str, tuple[int, bool]],
           ) -> dict[str, ItemState]:
    """The states as at `snap.as_at` of those of these items that have a checkpoint by
    then, by id. `reach` is `queries.visible_versions` of them: the last version dated by
    then, and whether a revision comes after it (then every later version is read)."""
    # A checkpoint by then is at a version dated by then: at most the last one.
    long = [i for i in item_ids if reach.get(i, (1, False))[0] >= kept.EVERY]
    if snap.as_at is None or snap.known_at is not None or not long:
        return {}
    checkpoints = q.latest_checkpoints(snap.conn, long, through_by=snap.as_at)
    wanted: dict[UUID, tuple[int | None, int | None]] = {}
    for item_id, (version, _) in checkpoints.items():
        last, revised_later = reach.get(item_id, (version, False))
        if last > version or revised_later:
            wanted[UUID(item_id)] = (version, None if revised_later else last)
    events = dict(snap.tracker.items_events(wanted))  # one query for them all
    found: dict[str, ItemState] = {}
    for item_id, (version, data) in checkpoints.items():
        later = events.get(UUID(item_id), [])
        state = fold(snap.visible(later, shown_through=version),
                     start=ItemState.from_dict(data))
        if state is not None:
            found[item_id] = state
    return found

"""The views, one module each, and the names of the positions the projector keeps.

Every view is a function of the log. `board`, `calendar` and `consultations` are made of
the items' states (`projections.items` folds them); `activity` has a row for each item
event; `partners` and `channels` apply their own events. `notices` is kept from the log
like a view but never rebuilt (it would notice the past again), and `names` is only a
position.
"""

from __future__ import annotations

VIEWS = ("board", "calendar", "consultations", "activity", "partners", "channels")
NOTICES = "notices"
# Not a view: the position of the last event that changed how items are named (titles,
# aliases, partners); the question engine rebuilds its name index only when it moves.
NAMES = "names"
TRACKED = (*VIEWS, NOTICES)

"""The views, one module each, and the names of the positions the projector keeps.

Every view is a function of the log, and each module says what its view makes of it:

- `board`, `calendar`, `consultations`: `rows(states)`, the rows of items' states (the
  domain's fold, kept by `projections.items`), written afresh when an item changes;
- `agenda`: each item's dated entries by business time, kept beside its state by
  `projections.items` (`Timeline`): rows are added, and closed in recorded time;
- `activity`: `row(...)`, one row for each item event (`EVENTS`);
- `partners`, `channels`: `apply(conn, event)` writes what one of their `EVENTS` changes,
  and an event of another kind changes nothing;
- `notices`: `rows(...)`, the notices an item's event owes to followers. Kept from the log
  like a view but never rebuilt (it would notice the past again);
- `names`: only a position, and what names an item.

`projections.batch` routes each event by its type to the views that take it.
"""

from __future__ import annotations

VIEWS = ("board", "calendar", "agenda", "consultations", "activity", "partners", "channels")
NOTICES = "notices"
# Not a view: the position of the last event that changed how items are named (titles,
# aliases, partners); the question engine rebuilds its name index only when it moves.
NAMES = "names"
TRACKED = (*VIEWS, NOTICES)

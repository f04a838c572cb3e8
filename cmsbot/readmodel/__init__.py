"""What the views and the log say, at any time: shared by questions, digests and the report.

- `reader.ReadModel`: the entry point (one per process); `snapshot()`, `index()` and
  `derived()`.
- `snapshot.Snapshot`: the items now (from the views), as at a business date or as known
  at a recorded time (each item's own events, folded).
- `agenda`: the fast paths of the as-at readings (dated entries from the calendar and
  agenda views; past states from the board where they are the current ones), each held
  equal to the snapshot's fold by a differential test; `checkpoints`: the as-at fold of a
  long item from its latest state checkpoint by then, behind `agenda.states`.
- `resolve`: the name index (items and partners by every name they go by) and `resolve()`,
  which finds the item a few typed words name; `text`: the folding of words both share.

It only reads: the projector and the writers keep the views current.
"""

"""What the views and the log say, at any time: shared by questions, digests and the report.

- `reader.ReadModel`: the entry point (one per process); `snapshot()`, `index()`,
  `survey()` and `derived()`.
- `snapshot.Snapshot`: the items now (from the views), as at a business date or as known
  at a recorded time (each item's own events, folded).
- `resolve`: the name index (items and partners by every name they go by) and `resolve()`,
  which finds the item a few typed words name; `text`: the folding of words both share.

It only reads: the projector and the writers keep the views current.
"""

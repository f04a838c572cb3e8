"""The event store: the eventsourcing application (`tracker.Tracker`) over SQLite or
PostgreSQL, the transcodings that pin how events are stored (`transcoding`), the recorders
each store is written through (`sqliterecorder`, `pgrecorder`), and the bulk fast paths an
import and a rebuild take instead of the library's per-event ones (`bulk_rows`).

Nothing here knows the views or the use cases: the application services (`cmsbot.app`) and
the projector (`projections`) use it, never the other way round.
"""

"""The log as a rebuild reads it, undecoded: the one type the shared rebuild
(`projections.parallel_rebuild`) and the event store (`cmsbot.eventstore`) share. It lives
here, below both, so that neither imports the other's internals."""

from __future__ import annotations

# A stored event as read, undecoded: its log position, its originator's id (32 hex
# digits), version, topic and encoded state.
LogRow = tuple[int, str, int, str, bytes]

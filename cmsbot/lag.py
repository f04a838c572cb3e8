"""How a read says that the views lag the log.

Reads never catch the views up: that is the work of the writers (after they write) and of
the projector process. A read answers from the views as they are, and when they have not
applied every event of the log yet, it says so in these words.
"""

from __future__ import annotations


def lag_note(behind: int) -> str | None:
    """The sentence for views `behind` events behind the log; None when they are current."""
    if behind <= 0:
        return None
    events = "event" if behind == 1 else "events"
    return f"The views are {behind:,} {events} behind the log; is the projector running?"

"""Where an agreement stands with one body: endorsed, pending or not recorded.

An agreement may await several bodies at once (the Ramsar–CMS plan went to the CMS
Standing Committee and to Ramsar's); a question about one of them is answered about that
one, and the others are not lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.state import ItemState

ENDORSED, PENDING, NOT_RECORDED = "endorsed", "pending", "not recorded"


@dataclass(frozen=True)
class Standing:
    """Where an agreement stands with one body: endorsed, pending or not recorded."""

    standing: str
    body: str | None = None
    meeting: str | None = None


def _words(text: str) -> set[str]:
    return set(text.lower().replace("(", " ").replace(")", " ").split()) - {"the"}


def _names(name: str, body: str, meeting: str) -> bool:
    words = _words(name)
    return bool(words) and (words <= _words(body) or words <= _words(meeting))


def endorsement_by(state: ItemState, name: str) -> Standing:
    """Where the agreement stands with the body or meeting `name` ("StC44", "CMS Standing
    Committee", "Ramsar"): endorsed by it, submitted to it and pending, or nothing
    recorded. A name matches a body or meeting when each of its words is one of theirs."""
    for body, meeting in state.endorsements:
        if _names(name, body, meeting):
            return Standing(ENDORSED, body, meeting)
    for body, meeting in state.pending_endorsements:
        if _names(name, body, meeting):
            return Standing(PENDING, body, meeting)
    return Standing(NOT_RECORDED)

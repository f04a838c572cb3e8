"""How the events every kind has change an item: partners, documents, and what
happens to any plan (noted, postponed, cancelled, an outcome unknown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev

if TYPE_CHECKING:
    from domain.state import ItemState


# How the agenda names a step that waits on a meeting (domain.overdue reads them back).
ENDORSEMENT_AT, CONSOLIDATION_FOR = "endorsement at ", "consolidation for "
AWAITING_PREFIXES = (ENDORSEMENT_AT, CONSOLIDATION_FOR)


def endorsement_label(meeting: str) -> str:
    """The agenda label of an agreement's endorsement awaited at `meeting`."""
    return f"{ENDORSEMENT_AT}{meeting}"


def simple(status: str) -> Any:
    """A handler that only sets the status."""
    def handle(s: ItemState, e: ev.ItemEvent) -> None:
        s._set(status, e.occurred)
    return handle


def where_when(when: Any, venue: str | None) -> str:
    return f"{when}, {venue}" if venue else str(when)


def _partner_joined(s: ItemState, e: ev.PartnerJoined) -> None:
    s._add_partner(e.partner)


def _document_linked(s: ItemState, e: ev.DocumentLinked) -> None:
    if e.document not in s.documents:
        s.documents.append(e.document)


def _noted(s: ItemState, e: ev.ItemNoted) -> None:
    # The status and the date it has held since stay; only what is said of it changes.
    if e.note:
        s.detail = e.note


def _postponed(s: ItemState, e: ev.ItemPostponed) -> None:
    entry = s.step(e.step)
    label = entry[0] if entry else (e.step or s.title)
    s._plan(label, e.date, e)
    if label == s.title and s.kind.value == "meeting":
        s._set("rescheduled", e.occurred, where_when(e.date, s.venue))
    else:
        s.detail = f"{label} postponed to {e.date}"


def _cancelled(s: ItemState, e: ev.ItemCancelled) -> None:
    entry = s.step(e.step) if e.step else None
    if entry is not None:  # one planned step of the item, not the item
        s._unplan(entry[0])
        s.detail = f"{entry[0]} cancelled"
        return
    s.cancelled = s.ended = True
    s._clear_agenda()
    s._set("cancelled", e.occurred)


def _outcome_unknown(s: ItemState, e: ev.OutcomeUnknown) -> None:
    entry = s.step(e.step)
    label = entry[0] if entry else (e.step or "")
    s._unplan(label)
    s.pending_endorsements = [p for p in s.pending_endorsements
                              if endorsement_label(p[1]) != label]
    s.detail = "outcome not recorded" if label == s.title else \
        f"outcome of {label} not recorded"


def _corroborated(s: ItemState, e: ev.FactCorroborated) -> None:
    s._also_cited(e.corroborates, e.source)


def _corrected(s: ItemState, e: ev.EventCorrected) -> None:
    # `fold` has applied the changes to the event they correct; its dates now cite the
    # correction's source beside the original's.
    s._also_cited(e.corrects, e.source)


HANDLERS: dict[type[Any], Any] = {
    ev.FactCorroborated: _corroborated,
    ev.EventCorrected: _corrected,
    ev.PartnerJoined: _partner_joined,
    ev.DocumentLinked: _document_linked,
    ev.ItemNoted: _noted,
    ev.ItemPostponed: _postponed,
    ev.ItemCancelled: _cancelled,
    ev.OutcomeUnknown: _outcome_unknown,
}

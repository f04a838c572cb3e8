"""How an agreement's events change it, from proposal to expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev
from domain.handlers.shared import endorsement_label, simple

if TYPE_CHECKING:
    from domain.state import ItemState


def _drafted(s: ItemState, e: ev.AgreementDrafted) -> None:
    if e.document and e.document not in s.documents:
        s.documents.append(e.document)
    s._set("draft ready", e.occurred, f"text in {e.document}" if e.document else None)


def _negotiated(s: ItemState, e: ev.AgreementNegotiationProgressed) -> None:
    s.topics.extend(t for t in e.topics if t not in s.topics)
    s._set("in negotiation", e.occurred, f"negotiation at {e.stage} stage")


def _submitted(s: ItemState, e: ev.AgreementSubmittedForEndorsement) -> None:
    s.pending_endorsements.append([e.body, e.meeting])
    if e.document and e.document not in s.documents:
        s.documents.append(e.document)
    if e.meeting_date is not None:
        s._plan(endorsement_label(e.meeting), e.meeting_date, e)
    if not s.endorsements:
        s._set("awaiting endorsement", e.occurred, "submitted to " + " and ".join(
            f"{body} ({meeting})" for body, meeting in s.pending_endorsements))


def _endorsed(s: ItemState, e: ev.AgreementEndorsed) -> None:
    s.endorsements.append([e.body, e.meeting])
    for body, meeting in s.pending_endorsements:
        if body == e.body:
            s._unplan(endorsement_label(meeting))
    s.pending_endorsements = [p for p in s.pending_endorsements if p[0] != e.body]
    bodies = " and ".join(f"{body} ({meeting})" for body, meeting in s.endorsements)
    if not s.signed and s.status != "in implementation":
        s._set("endorsed", e.occurred, f"endorsed by {bodies}")


def _signed(s: ItemState, e: ev.AgreementSigned) -> None:
    s.signed = True
    s._set("signed", e.occurred,
           f"signed by {', '.join(e.signatories)}" if e.signatories else None)


def _renewed(s: ItemState, e: ev.AgreementRenewed) -> None:
    s.period, s.ended = e.period, False
    s._set("in implementation", e.occurred, f"renewed for {e.period}")


def _ended(status: str) -> Any:
    def handle(s: ItemState, e: ev.ItemEvent) -> None:
        s.ended = True
        s._clear_agenda()
        detail = f"superseded by {e.by}" if isinstance(e, ev.AgreementSuperseded) else None
        s._set(status, e.occurred, detail)
    return handle


# Progress reported while the text is still being drafted, negotiated or awaits
# endorsement is progress in the negotiation: implementation begins only once it is agreed.
_NOT_AGREED = frozenset({"proposed", "in drafting", "draft ready", "in negotiation",
                         "awaiting endorsement"})


def _progress_reported(s: ItemState, e: ev.AgreementProgressReported) -> None:
    if s.status in _NOT_AGREED:
        s.detail = e.summary
        return
    since = s.status_since if s.status == "in implementation" else e.occurred
    s._set("in implementation", since or e.occurred, e.summary)


HANDLERS: dict[type[Any], Any] = {
    ev.AgreementProposed: simple("proposed"),
    ev.AgreementDraftingStarted: simple("in drafting"),
    ev.AgreementDrafted: _drafted,
    ev.AgreementNegotiationProgressed: _negotiated,
    ev.AgreementSubmittedForEndorsement: _submitted,
    ev.AgreementEndorsed: _endorsed,
    ev.AgreementSigned: _signed,
    ev.AgreementImplementationStarted: simple("in implementation"),
    ev.AgreementProgressReported: _progress_reported,
    ev.AgreementExpired: _ended("expired"),
    ev.AgreementRenewed: _renewed,
    ev.AgreementSuperseded: _ended("superseded"),
}

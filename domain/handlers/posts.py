"""How a post's events change it: funded, filled, vacated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import events as ev
from domain.handlers.shared import simple

if TYPE_CHECKING:
    from domain.state import ItemState


def _post_funded(s: ItemState, e: ev.PostFunded) -> None:
    s._add_partner(e.donor)
    if not s.filled:
        s._set("funded", e.occurred, f"funded by {e.donor}")


def _recruited(s: ItemState, e: ev.OfficerRecruited) -> None:
    s.filled, s.officer = True, e.officer
    since = e.start or e.occurred
    who = e.officer or "officer"
    s._set("filled", since, f"{who} recruited; began work {since}" if e.start else
           f"{who} recruited")


def _started(s: ItemState, e: ev.OfficerStarted) -> None:
    s._set("filled", e.start, f"{s.officer or 'officer'} began work {e.start}")


def _vacated(s: ItemState, e: ev.PostVacated) -> None:
    s.filled, s.officer = False, None
    s._set("vacant", e.occurred)


def _stalled(s: ItemState, e: ev.PostStalled) -> None:
    s._set("stalled", e.occurred, e.reason or "no progress")


HANDLERS: dict[type[Any], Any] = {
    ev.PostProposed: simple("proposed"),
    ev.PostFunded: _post_funded,
    ev.PostStalled: _stalled,
    ev.OfficerRecruited: _recruited,
    ev.OfficerStarted: _started,
    ev.PostVacated: _vacated,
}

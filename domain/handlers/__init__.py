"""The fold's handlers, one per event type: how each fact changes an item, by kind."""

from __future__ import annotations

from typing import Any

from domain.handlers import agreements, consultations, engagements, meetings, posts, shared

HANDLERS: dict[type[Any], Any] = {
    **shared.HANDLERS, **agreements.HANDLERS, **posts.HANDLERS, **meetings.HANDLERS,
    **consultations.HANDLERS, **engagements.HANDLERS,
}

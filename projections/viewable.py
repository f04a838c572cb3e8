"""Events as the views can hold them.

Commands refuse text that a store cannot hold (domain/text.py), but a log written before
that rule, or copied from one, may still hold some: a NUL in a title stops every write of
PostgreSQL's views. The projector reads each event through `viewable`, which replaces
such characters with U+FFFD in what the views are made of, and says so in the log. The
event in the log is never changed.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from domain.dates import PartialDate
from domain.errors import InvalidTextError
from domain.provenance import Source
from domain.text import UNSTORABLE, check_fields

log = logging.getLogger(__name__)
REPLACEMENT = "\ufffd"


def viewable(event: Any) -> Any:
    """The event, or, if any of its text cannot be stored, a copy with that text mended
    (and a warning naming the event and its fields)."""
    state = event.__dict__
    try:
        check_fields(state)  # the commands' own check: cheap when all is well
    except InvalidTextError:
        pass
    else:
        return event
    mended = {name: _mend(value) for name, value in state.items()}
    fields = sorted(name for name in mended if mended[name] is not state[name])
    log.warning("event %s v%s (%s) holds text no store can hold in %s; the views show "
                "each such character as U+FFFD", state.get("originator_id"),
                state.get("originator_version"), type(event).__name__, ", ".join(fields))
    copy = object.__new__(type(event))  # as eventsourcing's mapper makes an event
    object.__setattr__(copy, "__dict__", mended)
    return copy


def _mend(value: Any) -> Any:
    """The value with unstorable characters replaced; the same object when it has none."""
    kind = type(value)
    if kind is str:
        return UNSTORABLE.sub(REPLACEMENT, value) if UNSTORABLE.search(value) else value
    if kind is list:
        items = [_mend(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if kind is dict:
        pairs = [(_mend(k), _mend(v)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if kind is Source:
        parts = (value.document, value.paragraph, value.chat, value.url)
        mended = [None if p is None else _mend(p) for p in parts]
        if all(a is b for a, b in zip(mended, parts, strict=True)):
            return value
        return Source.shared(*mended)
    if kind is PartialDate and value.text is not None and UNSTORABLE.search(value.text):
        return dataclasses.replace(value, text=_mend(value.text))
    return value

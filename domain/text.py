"""Text that every store can hold: the one rule each recorded field meets.

PostgreSQL's text cannot hold NUL, and neither orjson nor PostgreSQL can hold a lone
surrogate (which is also how Python carries a command-line byte that is not UTF-8). The
other C0 control characters are storable but never meant; tab, newline and carriage
return are ordinary text. Commands refuse such text when they raise an event
(`TextChecked`), so nothing a path sends can bypass it; questions, which record nothing,
have it removed instead (`storable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate

from domain.dates import PartialDate
from domain.errors import InvalidTextError
from domain.provenance import Source

UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def storable(text: str) -> str:
    """The text without the characters no store can hold."""
    return UNSTORABLE.sub("", text)


def check_text(name: str, text: str) -> None:
    """Raise InvalidTextError if the text holds a character no store can hold."""
    found = UNSTORABLE.search(text)
    if found is not None:
        raise InvalidTextError(name, found.group(), found.start())


def check_fields(fields: Mapping[str, Any]) -> None:
    """Check every text in an event's fields: texts, lists and mappings of them, a source's
    parts and a date's words. Raise InvalidTextError naming the first field that fails."""
    # Called for every event an import raises: printable text (nearly all of it) is passed
    # by one C call, and the common types are told apart without isinstance.
    for name, value in fields.items():
        kind = type(value)
        if kind is str:
            if not value.isprintable():
                check_text(name, value)
        elif value is None or kind in _PLAIN:
            continue
        elif kind is list:
            for item in value:
                if type(item) is not str or not item.isprintable():
                    _check_value(name, value)
                    break
        elif kind is Source:
            for part in ("document", "paragraph", "chat", "url"):
                text = getattr(value, part)
                if text is not None and not text.isprintable():
                    check_text(f"{name}.{part}", text)
        elif kind is PartialDate:
            if value.text is not None and not value.text.isprintable():
                check_text(name, value.text)
        else:
            _check_value(name, value)


_PLAIN = frozenset({bool, int, float, date, datetime, UUID})


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, str):
        if not value.isprintable():
            check_text(name, value)
    elif isinstance(value, list | tuple):
        for number, inner in enumerate(value):
            _check_value(f"{name}[{number}]", inner)
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _check_value(name, key)
            _check_value(f"{name}.{key}", inner)
    elif isinstance(value, Source | PartialDate):
        check_fields({name: value})


class TextChecked(BaseAggregate[UUID]):
    """An aggregate whose events are refused when any of their text cannot be stored."""

    @classmethod
    def _create(cls, event_class: type[CanInitAggregate[UUID]], *,
                id: UUID | None = None, **kwargs: Any) -> Self:
        check_fields(kwargs)
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any,
                      ) -> None:
        check_fields(kwargs)
        super().trigger_event(event_class, **kwargs)

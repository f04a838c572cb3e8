"""Text that every store can hold: the one rule each recorded field meets.

PostgreSQL's text cannot hold NUL, and neither orjson nor PostgreSQL can hold a lone
surrogate (which is also how Python carries a command-line byte that is not UTF-8). The
other C0 control characters are storable but never meant; tab, newline and carriage
return are ordinary text. Commands refuse such text when they raise an event
(`TextChecked`), so nothing a path sends can bypass it; questions, which record nothing,
have it removed instead (`storable`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
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
    for name, value in fields.items():
        if type(value) is str:
            if not value.isascii() or not value.isprintable():  # most text is plain: cheap
                check_text(name, value)
        elif value is not None:
            _check_value(name, value)


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, str):
        check_text(name, value)
    elif isinstance(value, list | tuple):
        for number, inner in enumerate(value):
            _check_value(f"{name}[{number}]", inner)
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _check_value(name, key)
            _check_value(f"{name}.{key}", inner)
    elif isinstance(value, Source):
        _check_source(name, value)
    elif isinstance(value, PartialDate) and value.text is not None:
        check_text(name, value.text)


def _check_source(name: str, source: Source) -> None:
    problem = _source_problem(source)
    if problem is not None:
        part, character, position = problem
        raise InvalidTextError(f"{name}.{part}", character, position)


@functools.lru_cache(maxsize=4096)
def _source_problem(source: Source) -> tuple[str, str, int] | None:
    """The first part of a source that no store can hold, its character and where: once for
    each source, since an import's thousands of events cite a few."""
    for part in ("document", "paragraph", "chat"):
        text = getattr(source, part)
        found = UNSTORABLE.search(text) if text is not None else None
        if found is not None:
            return part, found.group(), found.start()
    return None


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

"""How much one entry may hold, wherever it comes from (a history file, a form, the
command line), and how an error message quotes a value whatever its size.

The bounds keep every stored event small enough to read, index and show, and keep out
numbers no store keeps: a whole number beyond 64 bits (the stored JSON is read back with
orjson) and NaN or infinity. Which characters text may hold is domain.text's rule.
"""

from __future__ import annotations

import math
from typing import Any

from domain.errors import InvalidFieldError

MAX_TEXT = 10_000  # characters in one field: a long paragraph, not a document
MAX_LIST = 1_000  # entries in one list field
MAX_DEPTH = 20  # levels of lists and mappings inside one another
MAX_WHOLE = 2**63 - 1  # the largest whole number a store keeps


def within_length(value: str, name: str) -> str:
    """`value` if it is no longer than a field may be; else InvalidFieldError."""
    if len(value) > MAX_TEXT:
        raise InvalidFieldError(f"'{name}' is {len(value):,} characters long; a field "
                                f"holds at most {MAX_TEXT:,}")
    return value


def checked_whole(value: int, name: str) -> int:
    """`value` if a store can keep it as the field `name`; else InvalidFieldError."""
    if not -MAX_WHOLE <= value <= MAX_WHOLE:
        raise InvalidFieldError(f"'{name}' is {shown(value)}; a whole number has at most "
                                f"{len(str(MAX_WHOLE))} digits")
    return value


def checked_value(value: Any, name: str, depth: int = 1) -> Any:
    """A mapping field's value (text, a number, true/false, or lists and mappings of them,
    nested at most MAX_DEPTH deep) if a store can keep it; else InvalidFieldError."""
    if depth > MAX_DEPTH:
        raise InvalidFieldError(f"'{name}' nests more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return within_length(value, name)
    if isinstance(value, int):
        return checked_whole(value, name)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidFieldError(f"'{name}' is {shown(value)}, which is not a number")
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise InvalidFieldError(f"'{name}' has {len(value):,} entries; a list holds at "
                                    f"most {MAX_LIST:,}")
        return [checked_value(v, name, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) > MAX_LIST:
            raise InvalidFieldError(f"'{name}' has {len(value):,} fields; a mapping holds "
                                    f"at most {MAX_LIST:,}")
        checked: dict[str, Any] = {}
        for key, inner in value.items():
            if not isinstance(key, str):
                raise InvalidFieldError(f"'{name}' names a field by {shown(key)}, not by text")
            checked[within_length(key, name)] = checked_value(inner, name, depth + 1)
        return checked
    raise InvalidFieldError(f"'{name}' cannot hold {shown(value)}")


def shown(value: Any, width: int = 60) -> str:
    """`value` as an error message quotes it: at most about `width` characters, however
    large the value (a list or mapping is named, never spelt out)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return repr(value if len(value) <= width else value[:width] + "…")
    if isinstance(value, int):
        if value.bit_length() > 10_000:  # near the 4,300 digits Python turns into text
            return f"a number of about {int(value.bit_length() * 0.30103):,} digits"
        text = repr(value)
        return text if len(text) <= width else f"a number of {len(text.lstrip('-')):,} digits"
    if isinstance(value, float):
        return repr(value)
    if value is None:
        return "nothing"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a value of type {type(value).__name__}"

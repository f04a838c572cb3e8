"""What one entry may hold: bounded text, lists, nesting and numbers, and error messages
that quote a value briefly however large it is."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.catalogue import FieldSpec, coerce_value, lookup
from domain.errors import DomainError, FutureDateError, InvalidFieldError
from domain.limits import (
    MAX_DEPTH,
    MAX_LIST,
    MAX_TEXT,
    MAX_WHOLE,
    checked_value,
    shown,
    within_length,
)
from domain.state import Kind


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def laughs(levels: int) -> list[Any]:
    """Nine references to the same list at every level: small in memory, 9**levels
    entries when spelt out."""
    value: list[Any] = ["lol"] * 9
    for _ in range(levels):
        value = [value] * 9
    return value


class TestText:
    @pytest.mark.parametrize("text", ["", "IWC–CMS Joint Work Plan", "x" * MAX_TEXT],
                             ids=lambda value: shown(value, 12))
    def test_keeps_what_fits_a_field(self, text: str) -> None:
        assert within_length(text, "title") is text

    def test_refuses_what_does_not(self) -> None:
        with pytest.raises(InvalidFieldError, match=(
                f"'title' is {MAX_TEXT + 1:,} characters long; a field holds at most "
                f"{MAX_TEXT:,}")):
            within_length("x" * (MAX_TEXT + 1), "title")


class TestMappingValues:
    def test_keeps_plain_values(self) -> None:
        value = {"meeting": "IWC66", "venue_tentative": True, "paragraph": 12,
                 "attendees": ["Parties", "IWC"], "nothing": None, "share": 0.5,
                 "deep": nested(MAX_DEPTH - 1)}
        assert checked_value(value, "changes") == value

    @pytest.mark.parametrize(("value", "reason"), [
        ({"a": nested(MAX_DEPTH)}, f"nests more than {MAX_DEPTH} levels deep"),
        ({"a": laughs(MAX_DEPTH)}, f"nests more than {MAX_DEPTH} levels deep"),
        ({"a": 2**63}, f"is {2**63}; a whole number has at most {len(str(MAX_WHOLE))} digits"),
        ({"a": float("nan")}, "is nan, which is not a number"),
        ({"a": float("-inf")}, "is -inf, which is not a number"),
        ({"x" * (MAX_TEXT + 1): "x"}, f"is {MAX_TEXT + 1:,} characters long"),
        ({1: "x"}, "names a field by 1, not by text"),
        ({"a": list(range(MAX_LIST + 1))}, f"has {MAX_LIST + 1:,} entries"),
        ({"a": b"bytes"}, "cannot hold a value of type bytes"),
    ])
    def test_refuses_what_no_store_keeps(self, value: Any, reason: str) -> None:
        with pytest.raises(InvalidFieldError) as refused:
            checked_value(value, "changes")
        assert len(str(refused.value)) < 120
        assert reason in str(refused.value)
        assert str(refused.value).startswith("'changes' ")


class TestShown:
    @pytest.mark.parametrize(("value", "said"), [
        ("IWC66", "'IWC66'"), (True, "true/false"), (None, "nothing"), (12, "12"),
        ([1, 2], "a list"), ({"a": 1}, "a mapping"), (1.5, "1.5"),
        (10**5000, "a number of about 5,000 digits"), (10**70, "a number of 71 digits"),
        ("x" * 1000, repr("x" * 60 + "…")),
    ], ids=lambda value: shown(value, 12))
    def test_says_a_value_briefly(self, value: Any, said: str) -> None:
        assert shown(value) == said

    def test_never_spells_out_a_structure_that_expands(self) -> None:
        assert shown(laughs(9)) == "a list"


class TestCoercion:
    """What the catalogue's fields take, from a history file, a form or the command line."""

    def test_a_wrong_type_is_named_without_spelling_the_value_out(self) -> None:
        spec = lookup(Kind.MEETING, "planned")
        for field, value in (("when", laughs(9)), ("venue_tentative", laughs(9)),
                             ("venue", {"a": laughs(9)})):
            with pytest.raises(DomainError) as refused:
                spec.coerce({"when": "2016", field: value})
            assert len(str(refused.value)) < 200

    def test_a_date_beyond_the_horizon_is_refused_when_today_is_given(self) -> None:
        spec = lookup(Kind.MEETING, "planned")
        assert spec.coerce({"when": "2040"})["when"].start == date(2040, 1, 1)
        with pytest.raises(FutureDateError, match="when: 2040 is more than 10 years"):
            spec.coerce({"when": "2040"}, today=date(2026, 12, 6))

    @pytest.mark.parametrize(("kind", "value", "reason"), ids=lambda v: shown(v, 12),
                             argvalues=[
        ("str", "x" * (MAX_TEXT + 1), f"is {MAX_TEXT + 1:,} characters long"),
        ("str", 10**30, "a whole number has at most 19 digits"),
        ("str", float("inf"), "which is not a number"),
        ("list", ["a", "x" * (MAX_TEXT + 1)], f"is {MAX_TEXT + 1:,} characters long"),
        ("list", ["a"] * (MAX_LIST + 1), f"has {MAX_LIST + 1:,} entries"),
        ("int", 2**64, "a whole number has at most 19 digits"),
        ("dict", {"a": laughs(30)}, f"nests more than {MAX_DEPTH} levels deep"),
    ])
    def test_every_kind_of_field_is_bounded(self, kind: str, value: Any, reason: str) -> None:
        with pytest.raises(InvalidFieldError) as refused:
            coerce_value(FieldSpec("field", kind, False), value)
        assert reason in str(refused.value)

"""What the domain tests share: a fact to record with, and a new item with no pending
events."""

from __future__ import annotations

from typing import TypeVar

from domain.dates import PartialDate
from domain.items import Item
from domain.provenance import Fact, Source

T = TypeVar("T", bound=Item)


def fact(when: str = "by 2015-09-01", *, paragraph: str = "8") -> Fact:
    """A fact recorded by "tester" on `when`, citing paragraph `paragraph` of StC44/18."""
    return Fact(PartialDate.parse(when), "tester", Source("UNEP/CMS/StC44/18", paragraph))


def new(cls: type[T], key: str = "thing", title: str = "A thing") -> T:
    """A newly registered item of `cls`, its registration already collected."""
    item = cls.register(fact(), key=key, title=title)
    item.collect_events()
    return item

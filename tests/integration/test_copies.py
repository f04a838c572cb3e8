"""The copy the store hands each reader (`Item.__deepcopy__`, a fast path) behaves as an
item folded afresh from its events (the plain path): commands on the copy change neither
the cached item nor any other copy."""

from __future__ import annotations

import copy
from typing import Any

from cmsbot.bootstrap import Container
from domain.dates import PartialDate
from domain.items import Item, item_id
from domain.provenance import Fact, Source


def replayed(events: list[Any]) -> Item:
    item = None
    for event in events:
        item = event.mutate(item)
    assert isinstance(item, Item)
    return item


def snapshot(item: Item) -> tuple[Any, ...]:
    return (item.version, item.state.to_dict(), list(item.history), set(item.refs),
            list(item.pending_events))


def test_a_copy_folds_on_as_a_fresh_fold_and_leaves_the_original_alone(
        seeded: Container) -> None:
    with seeded.engine.connect() as conn:
        keys = [entry.key for entry in seeded.readmodel.index(conn).items]
    assert len(keys) > 20
    for key in keys:
        events = seeded.tracker.item_events(item_id(key))
        for cut in range(1, len(events) + 1):
            original = replayed(events[:cut])
            before = snapshot(original)
            fast = copy.deepcopy(original)
            assert snapshot(fast) == before
            for event in events[cut:]:
                event.mutate(fast)  # an item's later events change it in place
            assert snapshot(fast) == snapshot(replayed(events))
            assert snapshot(original) == before


def test_commands_on_two_copies_are_each_their_own(seeded: Container) -> None:
    first, second = seeded.tracker.item("cites-jwp"), seeded.tracker.item("cites-jwp")
    cached = snapshot(seeded.tracker.item("cites-jwp"))
    for n, item in enumerate((first, second)):
        item.link_document(Fact(PartialDate.parse("2016"), "tester", Source("TEST", str(n))),
                           document=f"DOC/{n}")
    assert [getattr(e, "document", None) for e in first.pending_events] == ["DOC/0"]
    assert [getattr(e, "document", None) for e in second.pending_events] == ["DOC/1"]
    assert first.state.documents[-1] == "DOC/0" and second.state.documents[-1] == "DOC/1"
    assert snapshot(seeded.tracker.item("cites-jwp")) == cached

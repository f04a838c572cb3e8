"""The read of the items and their keys (`cmsbot.readmodel.items`) that `/cms list` and
`cmsbot items` share, on both stores."""

from __future__ import annotations

import pytest

from cmsbot.bootstrap import Container
from cmsbot.readmodel.items import (
    ItemFilter,
    UnknownListFilterError,
    list_items,
    read_filter,
)


def test_every_item_with_its_key_kind_partners_and_status(seeded: Container) -> None:
    reader = seeded.readmodel
    with reader.engine.connect() as conn:
        rows = list_items(reader, conn)
        index = reader.index(conn)
    assert sorted(r.key for r in rows) == sorted(i.key for i in index.items)
    assert rows == sorted(rows, key=lambda r: (r.kind, r.title))
    iwc = next(r for r in rows if r.key == "iwc-jwp")
    assert iwc.to_json() == {"key": "iwc-jwp", "title": "IWC–CMS Joint Work Plan",
                             "kind": "agreement", "partners": ["IWC"],
                             "status": "in negotiation"}


@pytest.mark.parametrize(("words", "which"), [
    ("", ItemFilter()), ("agreements", ItemFilter(kind="agreement")),
    ("Meeting", ItemFilter(kind="meeting")),
    ("whaling commission", ItemFilter(partner="iwc",
                                      partner_label="International Whaling Commission (IWC)"))])
def test_words_name_a_kind_or_a_partner(seeded: Container, words: str,
                                        which: ItemFilter) -> None:
    reader = seeded.readmodel
    with reader.engine.connect() as conn:
        found = read_filter(reader, conn, words)
        rows = list_items(reader, conn, found)
    assert found == which
    assert rows
    if which.kind:
        assert {r.kind for r in rows} == {which.kind}
    if which.partner:
        assert all("IWC" in r.partners for r in rows)


def test_other_words_are_refused_by_name(seeded: Container) -> None:
    reader = seeded.readmodel
    with reader.engine.connect() as conn, pytest.raises(UnknownListFilterError,
                                                        match="“whales” is neither"):
        read_filter(reader, conn, "whales")

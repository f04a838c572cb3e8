"""The later-history test data (tests/data/README.md) keeps to what it promises: it extends
the seed's items by their keys, every new item says what it is, and every event cites a
source of its own. (Importing it needs the history format of issue #16.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmsbot.history import SEED
from domain.dates import PartialDate

DATA = Path(__file__).parents[1] / "data"
LATER = sorted(DATA.glob("later-history-*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_there_are_later_files() -> None:
    assert [p.name for p in LATER] == ["later-history-2015-2017.yaml",
                                       "later-history-cop12.yaml"]


@pytest.mark.parametrize("path", LATER, ids=lambda p: p.name)
def test_items_extend_the_seed_by_key_and_events_cite_their_source(path: Path) -> None:
    seed_keys = {item["key"] for item in load(SEED)["items"]}
    for item in load(path)["items"]:
        if item["key"] in seed_keys:  # extended by key alone
            assert not {"kind", "title"} & set(item), item["key"]
        else:
            assert {"kind", "title"} <= set(item), item["key"]
        for event in item["events"]:
            source = event["source"]
            assert isinstance(source, str) or source["document"], (item["key"], event)
            for field in ("occurred", "dates", "date"):
                if field in event:
                    PartialDate.parse(str(event[field]))

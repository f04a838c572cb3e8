"""`cmsbot items`: the items tracked, with the keys that `record` and history files take."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cmsbot.lag import lag_note
from cmsbot.settings import Settings
from cmsbot.wording import count
from domain.state import Kind


def register(sub: Any) -> list[str]:
    items = sub.add_parser("items", help="list the items tracked: keys, titles, kinds, "
                                         "partners and status (reads only)")
    items.add_argument("--kind", choices=[k.value for k in Kind], help="only items of KIND")
    items.add_argument("--partner", metavar="PARTNER",
                       help="only items with PARTNER (its key, acronym or name)")
    items.add_argument("--json", action="store_true", help="print one JSON object")
    return ["items"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cmsbot.bootstrap import bootstrap
    from cmsbot.readmodel.items import ItemFilter, UnknownListFilterError, list_items, read_filter

    container = bootstrap(settings, reading=True)
    try:
        with container.readmodel.reading() as conn:
            behind = container.readmodel.views_behind(conn)
            which = ItemFilter(kind=args.kind)
            if args.partner:
                named = read_filter(container.readmodel, conn, args.partner)
                if named.partner is None:
                    raise UnknownListFilterError(f"no partner is named {args.partner!r}")
                which = ItemFilter(kind=args.kind, partner=named.partner)
            rows = list_items(container.readmodel, conn, which)
    finally:
        container.close()
    if args.json:
        print(json.dumps({"items": [row.to_json() for row in rows], "total": len(rows),
                          "views_behind": behind}, ensure_ascii=False, indent=2))
        return 0
    width = max((len(row.key) for row in rows), default=0)
    for row in rows:
        partners = f" — with {', '.join(row.partners)}" if row.partners else ""
        print(f"{row.key:<{width}}  {row.kind:<12} {row.title}: {row.status}{partners}")
    print(count(len(rows), "item"))
    note = lag_note(behind)
    if note:
        print(f"\n{note}")
    return 0

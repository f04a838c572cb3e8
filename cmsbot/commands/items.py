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

    container = bootstrap(settings, reading=True)
    try:
        matches, behind = container.questions.items(kind=args.kind, partner=args.partner)
    finally:
        container.close()
    if args.json:
        print(json.dumps({"items": [{**m.to_json(), "detail": m.detail} for m in matches],
                          "total": len(matches), "views_behind": behind},
                         ensure_ascii=False, indent=2))
        return 0
    width = max((len(m.key) for m in matches), default=0)
    for match in matches:
        partners = f" — with {', '.join(match.partners)}" if match.partners else ""
        print(f"{match.key:<{width}}  {match.kind:<12} {match.title}: {match.status}"
              f"{partners}")
    print(count(len(matches), "item"))
    note = lag_note(behind)
    if note:
        print(f"\n{note}")
    return 0

"""`cmsbot digest preview` and `cmsbot clock`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from cmsbot.bootstrap import bootstrap
from cmsbot.commands import date_arg
from cmsbot.settings import Settings


def register(sub: Any) -> list[str]:
    digest = sub.add_parser("digest", help="digests: see what a channel would get")
    actions = digest.add_subparsers(dest="digest_action", required=True)
    preview = actions.add_parser("preview", help="print a channel's digest")
    preview.add_argument("--channel", required=True, help="the Slack channel id, e.g. C0123")
    preview.add_argument("--as-at", type=date_arg, metavar="DATE",
                         help="the digest that was (or would have been) posted on DATE")
    preview.add_argument("--json", action="store_true")
    sub.add_parser("clock", help="post digests on schedule (Procfile: clock)")
    return ["digest", "clock"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cmsbot.digests.clock import Clock
    from cmsbot.digests.content import build_digest
    from cmsbot.digests.notices import NoticeSender
    from cmsbot.digests.schedule import last_fire, period_ending, period_open_at, zone
    from cmsbot.digests.service import Subscriptions
    from cmsbot.digests.wiring import SlackPoster, digest_poster
    from domain.channels import Schedule

    container = bootstrap(settings)
    try:
        if args.command == "clock":
            slack = SlackPoster(settings)
            Clock(container, digest_poster(container, slack),
                  notices=NoticeSender(container.engine, slack)).run()
            return 0
        container.catch_up()
        schedule, _ = Subscriptions(container.tracker, container.questions).listing(
            args.channel)
        effective = schedule or Schedule()
        if args.as_at is not None:
            end_of_day = datetime.combine(args.as_at + timedelta(days=1), time(),
                                          tzinfo=zone(effective)) - timedelta(seconds=1)
            period = period_ending(effective, last_fire(effective, end_of_day))
        else:
            period = period_open_at(effective, datetime.now(UTC))
        content = build_digest(container.questions, channel=args.channel, period=period.key,
                               start=period.start, end=period.end, schedule=schedule,
                               quiet_days=settings.quiet_days)
        if args.json:
            print(json.dumps(content.to_json(), ensure_ascii=False, indent=2))
        else:
            print(content.text())
        return 0
    finally:
        container.close()

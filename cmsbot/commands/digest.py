"""`cmsbot digest preview` and `cmsbot clock`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from cmsbot.bootstrap import bootstrap
from cmsbot.commands import date_arg
from cmsbot.lag import lag_note
from cmsbot.settings import Settings


def register(sub: Any) -> list[str]:
    digest = sub.add_parser("digest", help="digests: see what a channel would get")
    actions = digest.add_subparsers(dest="digest_action", required=True)
    preview = actions.add_parser("preview", help="print a channel's digest")
    preview.add_argument("--channel", required=True, help="the Slack channel id, e.g. C0123")
    preview.add_argument("--as-at", type=date_arg, metavar="DATE",
                         help="the digest for the period that ended on or before DATE, from "
                              "what happened then (business time), as known now")
    preview.add_argument("--json", action="store_true")
    sub.add_parser("clock", help="post digests on schedule (Procfile: clock)")
    return ["digest", "clock"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cmsbot.digests.clock import Clock
    from cmsbot.digests.content import build_digest
    from cmsbot.digests.notices import NoticeSender
    from cmsbot.digests.schedule import Period, period_open_at
    from cmsbot.digests.service import Subscriptions
    from cmsbot.digests.wiring import SlackPoster, digest_poster
    from domain.channels import Schedule

    # The clock records each digest it posts (a writer); a preview only reads.
    container = bootstrap(settings, reading=args.command != "clock")
    try:
        if args.command == "clock":
            slack = SlackPoster(settings)
            Clock(container, digest_poster(container, slack),
                  notices=NoticeSender(container.engine, slack)).run()
            return 0
        behind = container.views_behind()
        schedule, _ = Subscriptions(container.tracker, container.readmodel).listing(
            args.channel)
        effective = schedule or Schedule()
        if args.as_at is not None:
            # Business time: the day, or the ISO week (from its Monday) up to that date,
            # so that "2015-W36" covers days of ISO week 36 only.
            end = datetime.combine(args.as_at + timedelta(days=1), time(), tzinfo=UTC)
            year, week, weekday = args.as_at.isocalendar()
            days = weekday if effective.frequency == "weekly" else 1
            key = f"{year}-W{week:02d}" if effective.frequency == "weekly" \
                else args.as_at.isoformat()
            period = Period(key, end - timedelta(days=days), end - timedelta(seconds=1))
        else:
            period = period_open_at(effective, datetime.now(UTC))
        content = build_digest(container.readmodel, channel=args.channel, period=period.key,
                               start=period.start, end=period.end, schedule=schedule,
                               quiet_days=settings.quiet_days,
                               business_time=args.as_at is not None)
        if args.json:
            print(json.dumps({**content.to_json(), "views_behind": behind},
                             ensure_ascii=False, indent=2))
        else:
            print(content.text())
            note = lag_note(behind)
            if note:
                print(f"\n{note}")
        return 0
    finally:
        container.close()

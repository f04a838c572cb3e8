"""`cmsbot serve`, `cmsbot socket` and `cmsbot chat`: the Slack bot and its console."""

from __future__ import annotations

import argparse

from cmsbot.commands import date_arg, timestamp_arg
from cmsbot.settings import Settings

COMMANDS = ("serve", "socket", "chat")


def register(sub: argparse._SubParsersAction) -> list[str]:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="the Slack bot over HTTP: /slack/events and "
                                         "/healthz on $PORT (default 3000), behind gunicorn")
    serve.add_argument("--port", type=int, help="instead of $PORT")
    serve.add_argument("--workers", type=int, help="worker processes (default "
                                                   "$WEB_CONCURRENCY, else one a CPU)")
    sub.add_parser("socket", help="the Slack bot over Socket Mode (needs SLACK_APP_TOKEN)")
    chat = sub.add_parser("chat", help="try the bot in this terminal, without Slack: one "
                          "question, or a conversation (quit, exit or Ctrl-D ends it)")
    chat.add_argument("question", nargs="*", help="one question (else a conversation)")
    chat.add_argument("--json", action="store_true", help="print each answer as one JSON "
                                                          "object, as `ask --json` does")
    chat.add_argument("--as-at", type=date_arg, metavar="DATE",
                      help="what was true on DATE (business time)")
    chat.add_argument("--known-at", type=timestamp_arg, metavar="TIMESTAMP",
                      help="what the system knew at TIMESTAMP (recorded time, UTC)")
    return list(COMMANDS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Slack's libraries load only when a Slack command runs.
    from cmsbot.slack import console, server

    if args.command == "serve":
        return server.serve(settings, port=args.port, workers=args.workers)
    if args.command == "socket":
        return server.socket(settings)
    asked = console.Asking(as_at=args.as_at, known_at=args.known_at, json=args.json)
    return server.chat(settings, " ".join(args.question) or None, asked)

"""`cmsbot serve`, `cmsbot socket` and `cmsbot chat`: the Slack bot and its console."""

from __future__ import annotations

import argparse

from cmsbot.settings import Settings

COMMANDS = ("serve", "socket", "chat")


def register(sub: argparse._SubParsersAction) -> list[str]:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="the Slack bot over HTTP: /slack/events and "
                                         "/healthz on $PORT (default 3000), behind gunicorn")
    serve.add_argument("--port", type=int, help="instead of $PORT")
    serve.add_argument("--workers", type=int, help="worker processes (default "
                                                   "$WEB_CONCURRENCY, else 1)")
    sub.add_parser("socket", help="the Slack bot over Socket Mode (needs SLACK_APP_TOKEN)")
    chat = sub.add_parser("chat", help="try the bot in this terminal, without Slack")
    chat.add_argument("question", nargs="*", help="one question (else a conversation)")
    chat.add_argument("--as-at", metavar="DATE", help="what was true on DATE (YYYY-MM-DD)")
    return list(COMMANDS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Slack's libraries load only when a Slack command runs.
    from cmsbot.slack import server

    if args.command == "serve":
        return server.serve(settings, port=args.port, workers=args.workers)
    if args.command == "socket":
        return server.socket(settings)
    question = " ".join(args.question)
    if question and args.as_at:
        question += f" --as-at {args.as_at}"
    return server.chat(settings, question or None)

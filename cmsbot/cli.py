"""The `cmsbot` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.utils import TopicError

from cmsbot import bootstrap as bootstrap_module
from cmsbot import commands, redaction, sources
from cmsbot.app.auth import Principal
from cmsbot.bootstrap import Container
from cmsbot.commands import date_arg, timestamp_arg
from cmsbot.db import STORE_ERRORS, StoreNotInitialisedError, store_problem
from cmsbot.questions.pages import PAGE_SIZE, page_of
from cmsbot.settings import ConfigurationError, Settings
from cmsbot.whoami import os_user
from cmsbot.wording import count as plural
from domain.errors import DomainError
from domain.provenance import COMMAND_LINE, acting_for

# What reading an event that no code here can read raises: an unknown topic, or state that
# does not decode into its class.
UNREADABLE_EVENT = (TopicError, MapperDeserialisationError)

log = logging.getLogger("cmsbot")


class UsageError(Exception):
    """The command line's words are off."""


def _page_number(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a page number (1, 2, …): {value!r}")
    return int(value)


# The commands this module runs itself. Their words are read without the other commands'
# modules (audit, digests, Slack), whose imports would be most of a question's start-up.
CORE = ("db", "import", "ask", "record", "projections", "projector")


def _parser(words: Sequence[str] = ()) -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="cmsbot", description=(
        "Event-sourced status tracker for the CMS Secretariat's partnerships. "
        "The store is CMSBOT_DATABASE_URL (default sqlite:///var/cmsbot.sqlite)."))
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log what happens (-vv: and every detail)")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the database schema")
    db.add_argument("action", choices=["init"], help=(
        "init: create the store (a new SQLite file and its folder, or the tables in a "
        "PostgreSQL database); safe to repeat"))

    imp = sub.add_parser("import", help="record a history file (YAML, or JSON for bulk) "
                         "or an audit export (.jsonl); re-importing is a no-op")
    imp.add_argument("file", nargs="?", type=Path, help="the history file")
    imp.add_argument("--seed", action="store_true", help="the bundled StC44 report")
    imp.add_argument("--check", action="store_true", help=(
        "list every problem of the file (exit status 2) or what it would record, and "
        "record nothing"))

    ask = sub.add_parser("ask", help="ask a question in plain English")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--as-at", type=date_arg, metavar="DATE",
                     help="what was true on DATE (business time)")
    ask.add_argument("--known-at", type=timestamp_arg, metavar="TIMESTAMP",
                     help="what the system knew at TIMESTAMP (recorded time, UTC)")
    whole = ask.add_mutually_exclusive_group()
    whole.add_argument("--all", action="store_true",
                       help=f"every entry of a long answer (else {PAGE_SIZE} a page)")
    whole.add_argument("--page", type=_page_number, metavar="N",
                       help="page N of a long answer (--json: its entries)")

    rec = sub.add_parser("record", help="record that something happened to an item")
    rec.add_argument("item", help="the item's key, e.g. iwc-jwp")
    rec.add_argument("what", help='what happened, e.g. "endorsed" (see docs/history-files.md)')
    rec.add_argument("--occurred", required=True, help='when, e.g. "2016-10-24", "late 2016"')
    rec.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                     help="a field of the event; repeat for lists; a correction's changes "
                          "as changes.FIELD=VALUE")
    rec.add_argument("--document", help="the source document symbol")
    rec.add_argument("--paragraph", help="the paragraph in the source document")
    rec.add_argument("--note")
    rec.add_argument("--actor", "--on-behalf-of", dest="actor", metavar="WHO", help=(
        "record on behalf of WHO: the actor is then 'cli:<you> on behalf of WHO' "
        "(it is always cli:<you>, the user running the command)"))
    rec.add_argument("--ref", help="a key of your own for this record: recording with the "
                                   "same key again records nothing (for scripts that retry)")

    projections = sub.add_parser("projections", help="the read models")
    projections.add_argument("action", choices=["rebuild"])

    projector = sub.add_parser("projector", help="keep the views current from the log")
    projector.add_argument("--once", action="store_true", help="catch up and exit")
    projector.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    projector.add_argument("--batch-size", type=int, default=1000, help="events a transaction")
    command = next((word for word in words if not word.startswith("-")), None)
    return parser, {} if command in CORE else commands.register_all(sub)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser, extensions = _parser(words)
    args = parser.parse_args(words)
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    logging.basicConfig(level=levels[min(args.verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        redaction.install(Settings.from_env())  # no token or password in any log line
        if args.command in extensions:
            return int(extensions[args.command].run(args, Settings.from_env()))
        return _run(args)
    except _bad_words() as error:  # as argparse exits for bad words
        print(f"cmsbot: {error}", file=sys.stderr)
        return 2
    except (DomainError, StoreNotInitialisedError, UsageError) as error:
        print(f"cmsbot: {error}", file=sys.stderr)
        return 1
    except UNREADABLE_EVENT as error:  # one line; the library's traceback at -vv
        log.debug("an event in the log cannot be read", exc_info=error)
        print(f"cmsbot: the log holds an event this version of cmsbot cannot read "
              f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
              "`cmsbot audit verify` names it", file=sys.stderr)
        return 1
    except _loaded("cmsbot.app.import_pool", "ImportFailedError") as error:
        # one line; the process's traceback at -vv
        log.debug("the import failed: %s", getattr(error, "trace", None) or "no traceback")
        print(f"cmsbot: {error}", file=sys.stderr)
        return 1
    except STORE_ERRORS as error:  # down, full, read-only: one line, not a traceback
        log.debug("the store failed", exc_info=error)
        print(f"cmsbot: {store_problem(error, Settings.from_env().database)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (e.g. `head`) stopped reading
        sys.stderr.close()
        return 0


def _loaded(module: str, name: str) -> tuple[type[BaseException], ...]:
    """The exception class `name` of `module` if this process imported the module, else
    none: what was never imported raised nothing. A question does not import the history
    files' modules or the import's, which a writer imports where it needs them."""
    found = sys.modules.get(module)
    return (getattr(found, name),) if found is not None else ()


def _bad_words() -> tuple[type[BaseException], ...]:
    """A configuration, or a history file, that cannot be read as it is."""
    return (ConfigurationError, *_loaded("cmsbot.history", "HistoryFileError"))


def _run(args: argparse.Namespace) -> int:
    from cmsbot.bootstrap import bootstrap, init_schema

    settings = Settings.from_env()
    if args.command == "db":
        init_schema(settings)
        print(f"Initialised {settings.database.redacted}")
        return 0
    if args.command == "ask":
        return _ask(args, settings)
    if args.command == "import" and args.check:
        return _check_import(args, settings)
    container = bootstrap(settings)
    try:
        return _dispatch(args, container)
    finally:
        container.close()


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    """A question, read from the store as it is: it writes nothing, so it is answered from
    a store that cannot be written too, and says so when the views lag the log."""
    from cmsbot.bootstrap import bootstrap

    # The page shown is the page asked of the engine: --all, and --json without --page,
    # hold every entry.
    size = None if args.all or (args.json and args.page is None) else PAGE_SIZE
    container = bootstrap(settings, reading=True)
    try:
        answer = container.questions.answer(" ".join(args.question), as_at=args.as_at,
                                            known_at=args.known_at, page=args.page or 1,
                                            size=size)
    finally:
        container.close()
    page = page_of(answer, args.page or 1, size)
    if args.json:
        data = answer.to_json()  # every entry, unless a page was asked for
        if args.page is not None:  # that page's entries, and the answer's total
            data |= {**page.to_json(), "total": answer.total}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(page.text)
        if page.note is not None:
            hint = f"--page {page.number + 1} for the next, " if page.has_more else ""
            print(f"\n({page.note}: {hint}--all for every one)")
        if answer.lag_note:
            print(f"\n{answer.lag_note}")
    return 0


def _check_import(args: argparse.Namespace, settings: Settings) -> int:
    """`import --check`: the file checked against the store as it is, which it only reads;
    every problem raises one HistoryFileError (exit status 2)."""
    from cmsbot.bootstrap import bootstrap

    if args.file is None or args.seed or args.file.suffix == ".jsonl":
        raise UsageError("--check takes a history file (YAML or JSON)")
    container = bootstrap(settings, reading=True)
    try:
        print(container.importer.check_file(args.file))
    finally:
        container.close()
    return 0


def _dispatch(args: argparse.Namespace, container: Container) -> int:
    if args.command == "import":
        if bool(args.file) == bool(args.seed):
            raise UsageError("give a history file or --seed (one of them)")
        principal = Principal(f"{COMMAND_LINE}{os_user()}", may_record=True)
        if args.file is not None and args.file.suffix == ".jsonl":
            from cmsbot.audit.transfer import import_jsonl  # an `audit export` file

            print(import_jsonl(container, principal, args.file))
            return 0
        from cmsbot.history import SEED

        result = container.importer.run_file(principal, SEED if args.seed else args.file)
        print(result, flush=True)
        _catch_up_after_write(container)
        return 0
    if args.command == "record":
        fields: dict[str, object] = {}
        for pair in args.field:
            name, sep, value = pair.partition("=")
            if not sep:
                raise UsageError(f"--field takes NAME=VALUE, not {pair!r}")
            if name.startswith("changes."):  # corrected.changes is a mapping
                changes = fields.setdefault("changes", {})
                if isinstance(changes, dict):
                    changes[name.removeprefix("changes.")] = value
                continue
            existing = fields.get(name)
            if existing is None:
                fields[name] = value
            else:
                fields[name] = [*existing, value] if isinstance(existing, list) else [
                    existing, value]
        user = os_user()
        actor = acting_for(f"{COMMAND_LINE}{user}", args.actor)
        source = sources.command_line(user, args.document, args.paragraph)
        recorded = container.recorder.record(
            Principal(actor, may_record=True), key=args.item, what=args.what,
            fields=_numbers(fields), occurred=args.occurred, source=source, note=args.note,
            ref=f"cli:{args.ref}" if args.ref else None)
        from cmsbot.app.recording import ALREADY_RECORDED

        if recorded.summary == ALREADY_RECORDED:
            print(f"Already recorded on {recorded.title} under --ref {args.ref}; nothing new",
                  flush=True)
            return 0
        print(f"Recorded on {recorded.title} (event {recorded.version}): {recorded.summary}",
              flush=True)
        _catch_up_after_write(container)
        return 0
    if args.command == "projections":
        count = container.projector.rebuild()
        print(f"Rebuilt every view from {plural(count, 'event')}")
        return 0
    if args.command == "projector":
        container.projector.batch_size = max(1, args.batch_size)
        while True:
            count = container.catch_up()  # the audit chain, then the views
            if count:
                log.info("applied %d events", count)
            if args.once:
                print(f"Caught up: {plural(count, 'event')} applied")
                return 0
            time.sleep(args.interval)
    raise UsageError(f"unknown command {args.command!r}")


def _catch_up_after_write(container: Container) -> None:
    """After a write that is done and said: bring the views up to date, or say why not.
    The write stands (exit status 0, so that a script does not record it twice); the next
    writer, or the projector, brings the views up to date (a read says they lag)."""
    try:
        behind = container.tracker.head() - container.projector.position()
        if behind > bootstrap_module.BULK_CATCH_UP:  # minutes, for a million events
            print(f"Bringing the audit chain and the views up to date with {behind} new "
                  f"events…", file=sys.stderr, flush=True)
        container.catch_up()
    except STORE_ERRORS as error:
        print(f"cmsbot: recorded, but the views are not up to date yet: "
              f"{store_problem(error, container.settings.database)}", file=sys.stderr)


def _numbers(fields: dict[str, object]) -> dict[str, object]:
    """Whole-number fields (`corrects`, `retracts`) arrive as text on the command line."""
    return {k: int(v) if k in ("corrects", "retracts") and isinstance(v, str) and v.isdigit()
            else v for k, v in fields.items()}


if __name__ == "__main__":
    sys.exit(main())

"""`cmsbot audit log|verify|export|replay|repair-gap` and `cmsbot report`: the log as
auditors need it.

See docs/audit.md for how an auditor uses each and what the chain does and does not prove.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO

from cmsbot.app.auth import Principal
from cmsbot.audit.chain import Head, HeadFormatError
from cmsbot.audit.logbook import LogFilter, entries, text
from cmsbot.audit.repair import RepairRefusedError, repair_gap
from cmsbot.audit.replay import Cutoff, ReplayError, board_text, diff_text, replay
from cmsbot.audit.report.model import NoSuchReportError, build_report
from cmsbot.audit.report.render import render
from cmsbot.audit.transfer import export_csv, export_jsonl
from cmsbot.audit.verify import ExportFileError, verify
from cmsbot.bootstrap import Container, bootstrap
from cmsbot.commands import date_arg
from cmsbot.lag import lag_note
from cmsbot.settings import Settings
from cmsbot.whoami import os_user
from cmsbot.wording import count
from domain.provenance import COMMAND_LINE
from domain.state import ItemState
from projections import queries as q

COMMANDS = ("audit", "report")


def _moment(value: str, *, end_of_day: bool) -> datetime:
    """A date (the whole day, UTC) or a timestamp."""
    try:
        if "T" not in value and ":" not in value:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date (2015-09-01) or a timestamp (2026-03-03T12:00:00Z): {value!r}",
        ) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed + timedelta(microseconds=1) if end_of_day else parsed


def _since(value: str) -> datetime:
    return _moment(value, end_of_day=False)


def _until(value: str) -> datetime:
    return _moment(value, end_of_day=True)


def _timestamp(value: str) -> datetime:
    return _moment(value, end_of_day=False)


def _head(value: str) -> Head:
    try:
        return Head.parse(value)
    except HeadFormatError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(sub: argparse._SubParsersAction) -> list[str]:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="the log for auditors: list, verify, export, replay")
    actions = audit.add_subparsers(dest="audit_command", required=True)

    log = actions.add_parser("log", help="every event in log order, with who, when and source")
    log.add_argument("--item", metavar="KEY", help="only the events of this item (or partner)")
    log.add_argument("--since", type=_since, metavar="D",
                     help="recorded on or after D (a date, or a UTC timestamp)")
    log.add_argument("--until", type=_until, metavar="D",
                     help="recorded on or before D (a date: the whole day; or a timestamp)")
    log.add_argument("--actor", metavar="U", help="recorded by U (e.g. cli:alice, U024BE7LH)")
    log.add_argument("--json", action="store_true", help="one JSON object per line")

    verify = actions.add_parser("verify", help="recompute the hash chain; print its head; "
                                               "exit 1 naming the first bad position")
    verify.add_argument("--head", type=_head, action="append", default=[],
                        metavar="HASH@POSITION",
                        help="a head published earlier that the log must still extend "
                             "(repeat for several)")
    verify.add_argument("--against", type=Path, metavar="FILE.jsonl",
                        help="an earlier jsonl export the log must still begin with")

    repair = actions.add_parser(
        "repair-gap", help="acknowledge a gap in an item's versions, so that it can be read "
                           "and recorded on again (a local operator only; audited)")
    repair.add_argument("key", metavar="KEY",
                        help="the item's key (or a partner's, or the id verify names)")
    repair.add_argument("--reason", required=True, metavar="TEXT",
                        help="why the gap is acknowledged: what was found, and who checked")

    export = actions.add_parser("export", help="write the whole log, streaming")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl",
                        help="jsonl (complete; `cmsbot import FILE.jsonl` reads it) or csv")
    export.add_argument("--output", type=Path, metavar="FILE", help="instead of stdout")

    replay = actions.add_parser("replay", help="the views as they stood at a point, rebuilt "
                                               "in a scratch store")
    replay.add_argument("--until", required=True, metavar="DATE|POSITION",
                        help="a business date (2015-01-01), a recorded time "
                             "(2026-03-03T12:00:00Z) or a log position (57)")
    replay.add_argument("--diff", action="store_true",
                        help="also show what changed between then and now, item by item")
    replay.add_argument("--keep", type=Path, metavar="FILE",
                        help="keep the scratch SQLite store at FILE")

    report = sub.add_parser("report", help="a document's report (or an overview of every "
                                           "item) as at a date, written from the log")
    report.add_argument("--as-at", type=date_arg, required=True, metavar="DATE",
                        help="what was true on DATE (business time)")
    report.add_argument("--known-at", type=_timestamp, metavar="TIMESTAMP",
                        help="from what was recorded by TIMESTAMP (default: everything)")
    report.add_argument("--document", metavar="SYMBOL",
                        help="the document whose report to write, in the outline its history "
                             "file declared (default: every item, by kind and partner)")
    report.add_argument("--format", choices=["md", "html"], default="md")
    report.add_argument("--output", type=Path, metavar="FILE", help="instead of stdout")
    return list(COMMANDS)


class _Refused(Exception):
    """Something the audit commands cannot do as asked; printed, exit status 1."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Every command here reads the store as it is, except repair-gap, which records.
    writes = args.command == "audit" and args.audit_command == "repair-gap"
    container = bootstrap(settings, reading=not writes)
    try:
        if args.command == "report":
            return _report(args, container)
        return _AUDIT[args.audit_command](args, container)
    except (_Refused, ReplayError, HeadFormatError, ExportFileError, RepairRefusedError,
            OSError) as error:
        if isinstance(error, BrokenPipeError):
            _silence_stdout()
            return 0
        print(f"cmsbot: {error}", file=sys.stderr)
        return 1
    finally:
        container.close()


def _silence_stdout() -> None:
    # The reader went away (`| head`): say nothing more, as other tools do.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def _say_lag(container: Container) -> None:
    """On stderr, so that what goes to stdout stays the log, the export or the report."""
    note = lag_note(container.views_behind())
    if note:
        print(f"cmsbot: {note}", file=sys.stderr)


def _log(args: argparse.Namespace, container: Container) -> int:
    wanted = LogFilter(args.item, args.since, args.until, args.actor)
    shown = 0
    for data in entries(container.engine, container.tracker, wanted):
        if args.json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(("\n" if shown else "") + text(data) + "\n")
        shown += 1
    if not shown and not args.json:
        print("No events match." if args.item or args.since or args.until or args.actor
              else "The log is empty.")
    sys.stdout.flush()
    return 0


def _verify(args: argparse.Namespace, container: Container) -> int:
    if args.against is not None and not args.against.is_file():
        raise _Refused(f"no export file at {args.against}")
    result = verify(container.engine, container.tracker, heads=args.head,
                    against=args.against)
    if not result.ok:
        print(f"Chain head now: {result.head} ({result.events} events)")
        if result.problem is not None:
            print(f"cmsbot: the log does not verify: {result.problem}", file=sys.stderr)
        if result.inconsistencies:
            problems = len(result.inconsistencies) + result.more_inconsistencies
            print(f"cmsbot: the log is not consistent with itself "
                  f"({count(problems, 'problem')}):", file=sys.stderr)
            for inconsistency in result.inconsistencies:
                print(f"  {inconsistency}", file=sys.stderr)
            if result.more_inconsistencies:
                print(f"  … and {result.more_inconsistencies} more", file=sys.stderr)
        return 1
    print(f"The log verifies: {count(result.events, 'log entry', 'log entries')} (each "
          "registration of an item or partner is one, as is each event), each as it was "
          "chained.")
    print("It holds together: every item's versions run without a gap, every event reads "
          "as its type, every correction points at an earlier event of its item.")
    if result.acknowledged:
        print(f"Acknowledged gaps ({len(result.acknowledged)}), repaired and not failures:")
        for gap in result.acknowledged:
            print(f"  {gap}")
    for head in result.heads_ok:
        print(f"It still extends {head}.")
    if args.against is not None:
        print(f"It begins with every event of {args.against}.")
    if result.unchained:
        print(f"Note: the last {result.unchained} events are not in the stored chain yet "
              "(the projector, or the next command that records, chains them); the head "
              "below covers them.")
    print(f"Chain head: {result.head}")
    return 0


def _export(args: argparse.Namespace, container: Container) -> int:
    # The export is the log itself, with the chain recomputed as it is read: it is whole
    # however far the views and the stored chain lag, which is still said.
    _say_lag(container)
    with _output(args.output) as out:
        head = (export_jsonl if args.format == "jsonl" else export_csv)(container.tracker, out)
    if args.output is not None:
        print(f"Exported {head.position} events to {args.output}; chain head {head}")
    return 0


def _replay(args: argparse.Namespace, container: Container) -> int:
    if args.diff:  # "now" is the views
        _say_lag(container)
    result = replay(container.tracker, Cutoff.parse(args.until), keep=args.keep)
    print(board_text(result))
    if args.diff:
        with container.engine.connect() as conn:
            now = {row.item_id: ItemState.from_dict(row.state) for row in q.board(conn)}
            names = {row.key: row.acronym or row.name for row in q.partner_rows(conn)}
        print()
        print(diff_text(result, now, names, container.tracker))
    if args.keep is not None:
        print(f"\nThe scratch store is kept at {args.keep}.")
    return 0


def _report(args: argparse.Namespace, container: Container) -> int:
    try:
        report = build_report(container, args.as_at, known_at=args.known_at,
                              document=args.document)
    except NoSuchReportError as error:
        raise _Refused(str(error)) from None
    with _output(args.output) as out:
        out.write(render(report, args.format))
    if args.output is not None:
        print(f"Wrote the report {report.when} ({count(len(report.items), 'item')}) to "
              f"{args.output}")
        note = lag_note(report.views_behind)  # also in the report itself
        if note:
            print(f"cmsbot: {note}", file=sys.stderr)
    return 0


def _repair_gap(args: argparse.Namespace, container: Container) -> int:
    # Only whoever can run cmsbot against the store (a local operator) gets here: no chat
    # command leads to it.
    operator = Principal(f"{COMMAND_LINE}{os_user()}", may_record=True)
    print(repair_gap(container, operator, args.key, reason=args.reason,
                     now=datetime.now(UTC)))
    return 0


_AUDIT = {"log": _log, "verify": _verify, "export": _export, "replay": _replay,
          "repair-gap": _repair_gap}

"""The composition root: builds the product's parts from the settings, and nothing else does.

Importing this module connects to nothing; `bootstrap()` does, when a command needs it.
A command that only reads asks for `bootstrap(reading=True)`: it opens the store without
writing to it (no table made, no view upgraded; on SQLite, a store that cannot be written
is opened read-only), and its answers say how far the views lag the log
(`Container.views_behind`) instead of catching them up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

from cmsbot import collector
from cmsbot.db import (
    StoreMissingError,
    StoreNotInitialisedError,
    create_views,
    make_engine,
    views_current,
    views_exist,
)
from cmsbot.eventstore.sqliterecorder import BulkSQLiteRecorder
from cmsbot.eventstore.tracker import Tracker
from cmsbot.questions.engine import QuestionEngine
from cmsbot.readmodel import stored_index
from cmsbot.readmodel.reader import ReadModel
from cmsbot.settings import Reading, Settings
from cmsbot.storefile import StoreFile, StoreUnhealthyError
from projections.projector import Projector

if TYPE_CHECKING:
    from cmsbot.app.importing import Importer
    from cmsbot.app.recording import Recorder
    from cmsbot.audit.chain import ChainKeeper
    from cmsbot.choices import RecordChoices
    from cmsbot.digests.channels import ChannelCommands

# Views this far behind the log (after a large import) catch up in one transaction.
BULK_CATCH_UP = 20_000


@dataclass
class Container:
    """The parts, built from the settings. The parts that write or post (recording,
    importing, the audit chain, a channel's verbs, the record form's choices) are built,
    and their modules imported, when first asked for (`__getattr__`): a process that
    answers one question starts without them."""

    settings: Settings
    tracker: Tracker
    engine: Engine
    projector: Projector
    readmodel: ReadModel
    questions: QuestionEngine
    store_file: StoreFile | None = None  # the SQLite store's file (None on PostgreSQL)
    recorder: Recorder = field(init=False, repr=False)
    importer: Importer = field(init=False, repr=False)
    chain: ChainKeeper = field(init=False, repr=False)
    channels: ChannelCommands = field(init=False, repr=False)  # a channel's /cms verbs
    choices: RecordChoices = field(init=False, repr=False)  # what a record form offers

    def __getattr__(self, name: str) -> Any:
        # Called only for an attribute not set yet: one of the parts built on first use.
        build = _BUILT_ON_FIRST_USE.get(name)
        if build is None:
            raise AttributeError(f"{type(self).__name__} has no {name!r}")
        with _building:  # one of each, when threads ask at once
            part = self.__dict__.get(name)
            if part is None:
                part = build(self)
                setattr(self, name, part)
        return part

    def store_fault(self) -> StoreUnhealthyError | None:
        """What is wrong with the SQLite store's file: missing, replaced, read-only, or
        damaged by a `PRAGMA quick_check` at most `storefile.CHECK_EVERY` seconds old. None
        when nothing is, and on PostgreSQL (whose server says what is wrong)."""
        return None if self.store_file is None else self.store_file.fault()

    def store_moved(self) -> bool:
        """Whether the SQLite store's path no longer names the file this container
        opened: deleted, moved or replaced."""
        return self.store_file is not None and self.store_file.moved()

    def views_behind(self) -> int:
        """How many events of the log the views have not applied yet (read, not written:
        the writers and the projector catch them up, never a read)."""
        with self.readmodel.reading() as conn:
            return self.readmodel.views_behind(conn)

    def catch_up(self) -> int:
        """Bring the audit chain and the views up to the log's head (a cheap check when
        they are current); returns how many events the views applied. Writers call it
        after they write, and the projector in its loop; reads never do."""
        head = self.tracker.head()
        if head > self.chain.log_id():
            self.chain.catch_up()
        position = self.projector.position()
        if head - position > BULK_CATCH_UP:
            applied = self.projector.catch_up_in_bulk()
        else:
            applied = self.projector.catch_up() if head > position else 0
        self.readmodel.keep_stored_index()  # for the processes that answer one question
        return applied

    def server_started(self) -> Any:
        """When the PostgreSQL server last started (None for SQLite), asked over the views'
        pool, which tests each connection first: raises the store's error at once when the
        server does not answer, where the event store would retry for long. A new value
        means it restarted, and every connection pooled before is dead."""
        if self.settings.database.is_sqlite:
            return None
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT pg_postmaster_start_time()")).scalar()

    def close(self) -> None:
        self.tracker.close()
        self.engine.dispose()


def _recorder(container: Container) -> Recorder:
    from cmsbot.app.recording import Recorder

    return Recorder(container.tracker)


def _importer(container: Container) -> Importer:
    from cmsbot.app.importing import Importer

    return Importer(container.tracker)


def _chain(container: Container) -> ChainKeeper:
    from cmsbot.audit.chain import ChainKeeper

    return ChainKeeper(container.engine, container.tracker)


def _channels(container: Container) -> ChannelCommands:
    from cmsbot.digests.channels import ChannelCommands
    from cmsbot.digests.service import Subscriptions

    return ChannelCommands(Subscriptions(container.tracker, container.readmodel),
                           after_writing=container.catch_up,
                           views_behind=container.views_behind)


def _choices(container: Container) -> RecordChoices:
    from cmsbot.choices import RecordChoices

    return RecordChoices(container.engine)


_building = threading.RLock()  # re-entrant: building a part may ask for another
_BUILT_ON_FIRST_USE: dict[str, Callable[[Container], Any]] = {
    "recorder": _recorder, "importer": _importer, "chain": _chain, "channels": _channels,
    "choices": _choices}


def init_schema(settings: Settings) -> None:
    """Create the event table and the views once (`cmsbot db init`); safe to repeat. The
    one command that makes a new SQLite store (and its folder)."""
    engine = make_engine(settings.database, create=True)
    try:
        if settings.database.schema:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database.schema}"'))
        _create_tables(engine)
    finally:
        engine.dispose()
    Tracker(env=settings.database.eventsourcing_env(create_table=True)).close()


def _create_tables(engine: Engine) -> None:
    """Every table beside the log, each made by the package that owns it; idempotent, and
    also what adds the tables a newer version brings."""
    from cmsbot.audit import tables as audit_tables
    from cmsbot.slack import deliveries as slack_deliveries

    create_views(engine)
    audit_tables.create_tables(engine)
    slack_deliveries.create_table(engine)  # not a view: the bot's record of what it handled
    stored_index.create_table(engine)  # not a view: the name index, made from the views


def bootstrap(settings: Settings | None = None, *, reading: bool = False,
              **overrides: Any) -> Container:
    """Wire the application to a store that exists. A store is made by `cmsbot db init`
    alone, except the default SQLite store (`sqlite:///var/cmsbot.sqlite`), which is made
    on first use where its folder exists.

    A writer's start brings a SQLite store's tables up to this version; on PostgreSQL
    `cmsbot db init` does, and until then every process refuses views of another version.
    With `reading` nothing is written: the tables must be there and current (else the
    error says what to run), and a SQLite store that cannot be written is opened
    read-only."""
    collector.tune()  # a setting of the process, as the composition root's to make
    settings = settings or Settings.from_env()
    database = settings.database
    store_file = _store_file(settings) if database.is_sqlite else None
    writable = store_file is not None and store_file.read_only() is None
    opening = _reading(store_file) if reading and store_file is not None and not writable \
        else None
    engine = make_engine(database, reading=opening)
    try:
        if not views_exist(engine):
            raise StoreNotInitialisedError(
                f"{database.redacted} has no cmsbot tables; run `cmsbot db init` once")
        if writable and not reading:
            _create_tables(engine)  # (a store that cannot be written is read as it is)
        elif not _audit_tables_exist(engine):
            raise StoreNotInitialisedError(f"{database.redacted} has no audit chain yet; run "
                                           "`cmsbot db init` once more")
        elif (reading or not database.is_sqlite) and not views_current(engine):
            # A writer brings a SQLite store's views up to this version as it starts; on
            # PostgreSQL processes never make tables at start, and none may write views
            # of another version's shape: `cmsbot db init` makes them, empty.
            raise StoreNotInitialisedError(
                f"the views of {database.redacted} are of an older version of cmsbot; " + (
                    "`cmsbot projector --once` brings them up to date" if database.is_sqlite
                    else "run `cmsbot db init` to make them anew, and the projector "
                         "rebuilds them from the log"))
    except BaseException:
        engine.dispose()
        raise
    tracker = Tracker(env=database.eventsourcing_env(
        create_table=database.is_sqlite and not reading, reading=opening))
    recorder: Any = tracker.recorder
    if isinstance(recorder, BulkSQLiteRecorder):
        recorder.store_file = store_file  # every write asks the file first
    projector = Projector(engine, tracker)
    readmodel = ReadModel(engine, tracker, **overrides)
    container = Container(
        settings=settings, tracker=tracker, engine=engine, projector=projector,
        readmodel=readmodel, questions=QuestionEngine(readmodel), store_file=store_file,
    )
    return container


def _audit_tables_exist(engine: Engine) -> bool:
    from cmsbot.audit import tables as audit_tables

    return audit_tables.tables_exist(engine)


def _reading(store_file: StoreFile) -> Reading:
    """How to read a SQLite store that cannot be written: by itself when no write-ahead
    log holds anything (nobody can write it meanwhile, and SQLite could not make the -shm
    file it reads a log through), else with its log (SQLite needs its -wal and -shm)."""
    return Reading.READ_ONLY if store_file.pending_log() else Reading.IMMUTABLE


def _store_file(settings: Settings) -> StoreFile:
    """The SQLite store's file, as it is now: a file that is not there is not made (a
    mistyped path is said, not answered from an empty store), except the default one."""
    database = settings.database
    path = database.sqlite_path
    if not path.exists() and database.is_default and path.parent.is_dir():
        init_schema(settings)
    try:
        store_file = StoreFile(path)
    except FileNotFoundError:
        raise StoreMissingError(
            f"the store {database.redacted} does not exist: check CMSBOT_DATABASE_URL, or "
            "make a new, empty store there with `cmsbot db init`") from None
    if path.is_file() and path.stat().st_size == 0:  # opening it would write SQLite's header
        raise StoreNotInitialisedError(
            f"{database.redacted} has no cmsbot tables; run `cmsbot db init` once")
    return store_file

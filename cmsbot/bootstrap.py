"""The composition root: builds the product's parts from the settings, and nothing else does.

Importing this module connects to nothing; `bootstrap()` does, when a command needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from cmsbot.audit import tables as audit_tables
from cmsbot.audit.chain import ChainKeeper
from cmsbot.db import StoreNotInitialisedError, create_views, make_engine, views_exist
from cmsbot.questions.engine import QuestionEngine
from cmsbot.services import Importer, Recorder
from cmsbot.settings import Settings
from cmsbot.store import Tracker
from projections.projector import Projector

# Views this far behind the log (after a large import) catch up in one transaction.
BULK_CATCH_UP = 20_000


@dataclass
class Container:
    settings: Settings
    tracker: Tracker
    engine: Engine
    projector: Projector
    questions: QuestionEngine
    recorder: Recorder
    importer: Importer
    chain: ChainKeeper

    def catch_up(self) -> int:
        """Bring the audit chain and the views up to the log's head (a cheap check when
        they are current); returns how many events the views applied."""
        head = self.tracker.head()
        if head > self.chain.log_id():
            self.chain.catch_up()
        position = self.projector.position()
        if head - position > BULK_CATCH_UP:
            return self.projector.catch_up_in_bulk()
        if head > position:
            return self.projector.catch_up()
        return 0

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


def init_schema(settings: Settings) -> None:
    """Create the event table and the views once (`cmsbot db init`); safe to repeat."""
    engine = make_engine(settings.database)
    try:
        if settings.database.schema:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database.schema}"'))
        create_views(engine)
        audit_tables.create_tables(engine)
    finally:
        engine.dispose()
    Tracker(env=settings.database.eventsourcing_env(create_table=True)).close()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Container:
    """Wire the application. The embedded SQLite store is created on first use; a
    PostgreSQL store must have been initialised with `cmsbot db init`."""
    settings = settings or Settings.from_env()
    database = settings.database
    if database.is_sqlite and not database.sqlite_path.exists():
        init_schema(settings)
    engine = make_engine(database)
    if database.is_sqlite:
        create_views(engine)  # idempotent: also adds the tables a newer version brings
    elif not views_exist(engine):
        engine.dispose()
        raise StoreNotInitialisedError(
            f"{database.redacted} has no cmsbot tables; run `cmsbot db init` once")
    if database.is_sqlite:
        audit_tables.create_tables(engine)
    elif not audit_tables.tables_exist(engine):
        engine.dispose()
        raise StoreNotInitialisedError(
            f"{database.redacted} has no audit chain yet; run `cmsbot db init` once more")
    tracker = Tracker(env=database.eventsourcing_env(create_table=database.is_sqlite))
    projector = Projector(engine, tracker)
    container = Container(
        settings=settings, tracker=tracker, engine=engine, projector=projector,
        questions=QuestionEngine(engine, tracker, **overrides),
        recorder=Recorder(tracker), importer=Importer(tracker),
        chain=ChainKeeper(engine, tracker),
    )
    container.questions.before_reading = container.catch_up
    return container

"""The audit chain's tables. Not a view: a record kept beside the log, created with it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, Engine, MetaData, String, Table, inspect

from projections.writing import writing

GENESIS = "0" * 64
HEAD_ROW = "chain"

metadata = MetaData()

# One row per event: its position (counted), the store's id for it, the digest of its
# content, and the chain hash that covers it and everything before it.
chain = Table(
    "audit_chain", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("log_id", BigInteger, nullable=False, unique=True),
    Column("digest", String(64), nullable=False, index=True),
    Column("hash", String(64), nullable=False),
)

# Where the chain has got to. Its one row is what a keeper locks, as the projector locks
# its position rows, so two processes never chain the same events.
chain_head = Table(
    "audit_chain_head", metadata,
    Column("name", String(16), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("log_id", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)


def ensure_head(conn: Connection) -> None:
    """Create the head row if missing; safe when two processes race."""
    row = {"name": HEAD_ROW, "position": 0, "log_id": 0, "hash": GENESIS}
    # Each dialect's module is imported by the one store that needs it (PostgreSQL's
    # brings asyncio, ssl and more, which a SQLite store's reader need not start with).
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(chain_head).on_conflict_do_nothing(), [row])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(chain_head).on_conflict_do_nothing(), [row])


def create_tables(engine: Engine) -> None:
    """Create the chain's tables and head row; safe to repeat."""
    metadata.create_all(engine)
    with writing(engine) as conn:
        ensure_head(conn)


def tables_exist(engine: Engine) -> bool:
    return inspect(engine).has_table(chain_head.name)

"""The record of Slack deliveries already handled, kept in the database.

Slack re-delivers an event when it thinks the first delivery failed (with X-Slack-Retry-Num
set), and may send the same message as two events. Each delivery, and each message answered,
is claimed here once; a second claim fails, so nothing is answered or recorded twice, also
across restarts and processes. A claim is taken before the work is done: after a crash the
work is lost rather than done twice (at most once is the right failure for a chat reply).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
)
from sqlalchemy.exc import IntegrityError

from projections.writing import writing

log = logging.getLogger(__name__)

# Not a view: `projections rebuild` must not forget what was handled.
metadata = MetaData()

deliveries = Table(
    "slack_deliveries", metadata,
    Column("key", String(255), primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False),
    Column("retry_num", Integer, nullable=False, default=0),
    Column("retry_reason", String(100)),
)

# Slack retries for about an hour; a week keeps a wide margin and the table small.
KEEP = timedelta(days=7)
PRUNE_EVERY = 500


def create_table(engine: Engine) -> None:
    """Create the table if it is missing (for stores initialised before the bot)."""
    metadata.create_all(engine, checkfirst=True)


class Deliveries:
    """Claims of handled deliveries: the first claim of a key wins, every later one loses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._claims = 0

    def claim(self, key: str, *, retry_num: int = 0, retry_reason: str | None = None) -> bool:
        """True the first time `key` is claimed, False ever after."""
        now = datetime.now(UTC)
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(deliveries).values(
                    key=key[:255], handled_at=now, retry_num=retry_num,
                    retry_reason=(retry_reason or None) and retry_reason[:100]))
        except IntegrityError:
            log.info("already handled %s (retry %d, %s)", key, retry_num, retry_reason or "-")
            return False
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self.prune(now - KEEP)
        return True

    def prune(self, before: datetime) -> int:
        with writing(self.engine) as conn:
            return conn.execute(delete(deliveries)
                                .where(deliveries.c.handled_at < before)).rowcount

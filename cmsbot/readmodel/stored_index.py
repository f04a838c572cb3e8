"""The name index kept in the store, so that a process that answers one question does not
make every item's names normal again.

Building the index (`resolve.Index`) reads every item's title, key, aliases and partners
and makes each name normal through the vocabulary's patterns: about 1.3 s for the quick
history's 10,000 items and 50,000 names, which a `cmsbot ask` process would spend on every
run. Restoring it from its stored contents (the names already normal) takes a JSON parse
and the postings. The stored contents are a cache, never the truth: they are used only when
they were made at the views' current `names` position by this very code (a fingerprint of
the modules that make names normal), and otherwise the index is built as before. Writers
keep them current after they catch up the views (`keep`); a reader only reads them.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError

from cmsbot.readmodel import resolve, text
from cmsbot.readmodel.resolve import Index
from projections.writing import writing

log = logging.getLogger(__name__)

# Not a view: the projector neither keeps nor rebuilds it; it is made from the views.
metadata = MetaData()

stored_indexes = Table(
    "name_index", metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),  # the views' `names` position
    Column("made_by", String(64), nullable=False),  # `fingerprint()` of the code
    Column("contents", LargeBinary, nullable=False),  # `Index.contents()`, as JSON
)
NAME = "names"


def create_table(engine: Engine) -> None:
    """Create the table if it is missing (for stores made before it)."""
    metadata.create_all(engine, checkfirst=True)


@cache
def fingerprint() -> str:
    """What made the stored names normal: the source of the modules that do it. Contents
    made by other code (an older or newer version) are not used."""
    digest = hashlib.sha256()
    for module in (text, resolve):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def load(conn: Connection, position: int) -> Index | None:
    """The index stored for the views' `names` position, if one is (made by this code)."""
    if not inspect(conn).has_table(stored_indexes.name):  # a store made before the table
        return None
    row = conn.execute(select(stored_indexes.c.made_by, stored_indexes.c.contents)
                       .where(stored_indexes.c.name == NAME,
                              stored_indexes.c.position == position)).first()
    if row is None or row.made_by != fingerprint():
        return None
    return Index.restored(orjson.loads(row.contents))


def stored_position(conn: Connection) -> int | None:
    """The `names` position of the stored index made by this code (None if there is none)."""
    if not inspect(conn).has_table(stored_indexes.name):
        return None
    row = conn.execute(select(stored_indexes.c.position, stored_indexes.c.made_by)
                       .where(stored_indexes.c.name == NAME)).first()
    return None if row is None or row.made_by != fingerprint() else int(row.position)


def save(engine: Engine, position: int, index: Index) -> None:
    """Store the index made at the views' `names` position `position`, in place of the
    one stored before."""
    contents = orjson.dumps(index.contents())
    try:
        with writing(engine) as conn:
            stored = conn.execute(select(stored_indexes.c.position, stored_indexes.c.made_by)
                                  .where(stored_indexes.c.name == NAME)).first()
            if stored is not None and stored.made_by == fingerprint() \
                    and stored.position >= position:
                return  # another writer stored this one, or a later one, meanwhile
            conn.execute(delete(stored_indexes).where(stored_indexes.c.name == NAME))
            conn.execute(insert(stored_indexes).values(
                name=NAME, position=position, made_by=fingerprint(), contents=contents))
    except IntegrityError:
        # Another writer stored one at the same moment (PostgreSQL: both found none). If
        # it is not the latest, readers build the index until the next catch-up stores it.
        log.info("another writer stored the name index meanwhile")

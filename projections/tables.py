"""The read models' tables. Every one is a function of the event log and can be rebuilt."""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    event,
)

metadata = MetaData()

# Bump when a view table changes shape, or what a view stores (an item's state's fields): the
# views are then dropped and rebuilt from the log.
VIEWS_VERSION = 16

schema_info = Table(
    "cmsbot_schema_info", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

# How far each view has applied the log; written in the same transaction as the rows.
positions = Table(
    "projection_positions", metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# One row per item: the status board, with the item's whole current state as JSON.
board = Table(
    "board", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("subtype", String(60)),
    # `ItemState.is_workshop`: what "workshops" asks for, found from an index rather than by
    # matching every title.
    Column("workshop", Boolean, nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("partner_keys", JSON, nullable=False),
    Column("status", String(60), nullable=False),
    Column("status_since_end", Date),
    Column("next_start", Date),
    Column("last_occurred_end", Date),
    # When it last happened, and how many submissions it has: what a digest says of every
    # item (`queries.digest_rows`), which on PostgreSQL took 0.3 s to dig out of 10,000
    # states' JSON at a million events.
    Column("last_occurred", JSON),
    Column("submission_count", Integer, nullable=False),
    Column("last_recorded", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    # A meeting that slipped (`domain.overdue.slip` from its state's first plan), with a
    # dated entry: the date its slip is listed under (held, else now planned, else first
    # planned), as its sort key and end; NULL for every other item. What the overdue list
    # reads (`cmsbot.readmodel.stale_rows`) without reading the states.
    Column("slip_start", Date),
    Column("slip_end", Date),
    Column("state", JSON, nullable=False),
    Index("ix_board_slip", "slip_start"),
    Index("ix_board_workshop", "workshop", "item_id"),
    # The items with an event recorded after a time: whose agenda rows may have been
    # replaced since (`projections.agenda_days.on_day`, as known at a past time).
    Index("ix_board_recorded", "last_recorded", "item_id"),
)

item_partners = Table(
    "item_partners", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("partner_key", String(200), primary_key=True),
    Index("ix_item_partners_partner", "partner_key"),
)

partners = Table(
    "partners", metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("acronym", String(200)),
    Column("name", Text, nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("category", String(60)),
)

# Meetings, deadlines and milestones, with the dates as the source gave them.
calendar = Table(
    "calendar", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("label", String(400), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("held", Boolean, nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("when", JSON, nullable=False),
    Column("venue", Text),
    Index("ix_calendar_end", "end"),
    # A window's entries in date order, and their count, read from the index alone.
    Index("ix_calendar_start", "start", "end", "kind", "held"),
)

# Each item's dated entries by business time, as known by recorded time: the entry (`label`,
# `when`, `held`) was on the item's agenda for the business days [`from_day`, `to_day`)
# (`to_day` 9999-12-31: from then on), as the log stood from `recorded_from` until
# `recorded_to` (NULL: as it stands). "What was coming up as at D, known at K" reads it.
agenda = Table(
    "agenda", metadata,
    Column("item_id", String(36), nullable=False),
    Column("label", String(400), nullable=False),
    Column("held", Boolean, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("when", JSON, nullable=False),
    Column("from_day", Date, nullable=False),
    Column("to_day", Date, nullable=False),
    Column("recorded_from", DateTime(timezone=True), nullable=False),
    Column("recorded_to", DateTime(timezone=True)),
    # How long [`from_day`, `to_day`) is, as a level (`projections.agenda_days.span_level`):
    # the entries on the agenda as at a day are found one level at a time.
    Column("span_level", SmallInteger, nullable=False),
    # A meeting's own entry (held, else planned) when it had slipped: the date it is listed
    # under as overdue (its sort key and end, as the board's `slip_start`, `slip_end`).
    Column("slip_start", Date),
    Column("slip_end", Date),
    Index("ix_agenda_item", "item_id", "recorded_to"),
    # The entries on the agenda as at a day: those whose span has not ended by then.
    Index("ix_agenda_to_day", "to_day", "from_day"),
)
# The entries on the agenda as at a day as known now, level by level, each level's a short
# run of `from_day`; filtered, sorted and counted from the index alone
# (`projections.agenda_days`), as known at a past time too (`recorded_from`). A partial
# index, written as DDL that SQLite and PostgreSQL read alike: SQLAlchemy's
# `sqlite_where`/`postgresql_where` would load the PostgreSQL dialect into every process
# that reads the tables, a question on SQLite included.
event.listen(agenda, "after_create", DDL(  # type: ignore[no-untyped-call]
    'CREATE INDEX ix_agenda_on_day ON agenda (span_level, held, from_day, to_day, "end", '
    "start, kind, label, item_id, recorded_from) WHERE recorded_to IS NULL"))
# The meetings' current rows that carry a slip, as at a day level by level, likewise: the
# overdue list as at a day reads its slips, their order and their count from it alone
# (`cmsbot.readmodel.stale_asat`).
event.listen(agenda, "after_create", DDL(  # type: ignore[no-untyped-call]
    "CREATE INDEX ix_agenda_slips ON agenda (span_level, from_day, to_day, slip_start, "
    "slip_end, kind, item_id, recorded_from) WHERE recorded_to IS NULL "
    "AND slip_start IS NOT NULL"))
# The replaced rows of an item recorded by a time: as known at a past time K, the rows
# recorded by K and replaced since, of each item changed since K
# (`projections.agenda_days.on_day`), without reading its rows recorded after K. SQLite's
# alone: PostgreSQL's planner takes `recorded_from <= K AND recorded_to > K` for tens of
# thousands of rows where none are (it treats the two as independent), and scans the
# agenda whatever indexes there are.
event.listen(agenda, "after_create", DDL(  # type: ignore[no-untyped-call]
    "CREATE INDEX ix_agenda_replaced ON agenda (item_id, recorded_from, recorded_to) "
    "WHERE recorded_to IS NOT NULL").execute_if(dialect="sqlite"))

# Per item, the latest business date of its dating events and relocations
# (`domain.state.SLIPPING`) and of all its events besides its registration and revisions:
# whether an event is late (recorded after one dated later), and whether an item's state as
# at a day is its current one.
agenda_marks = Table(
    "agenda_marks", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("dating_end", Date),
    Column("last_end", Date),
)

# Every `projections.views.checkpoints.EVERY`th version of an item (not a revision): its
# state folded through that version, and the latest business date (`occurred.end`) of its
# events through it besides its registration and revisions. As at a day on or after
# `through_end`, each of those events had happened: an as-at fold starts from `state` and
# folds only the later versions (`cmsbot.readmodel.checkpoints`). A correction or retraction
# of a version makes the checkpoints from that version on again.
state_checkpoints = Table(
    "state_checkpoints", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("through_end", Date, nullable=False),
    Column("state", JSON, nullable=False),
)

consultations = Table(
    "consultations", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(60), nullable=False),
    Column("submission_count", Integer, nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("submitter", String(200), nullable=False),
    Column("title", Text, nullable=False),
)

# Every event, for "what changed since" and for history.
activity = Table(
    "activity", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("item_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("summary", Text, nullable=False),
    Column("occurred", JSON, nullable=False),
    Column("occurred_end", Date, nullable=False),
    Column("occurred_start", Date),  # None: a "by" date (sorted by its end)
    Column("recorded", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", JSON, nullable=False),
    Column("note", Text),
    Column("target_version", Integer),  # what a correction or retraction points at
    Index("ix_activity_item", "item_id", "version"),
    Index("ix_activity_recorded", "recorded"),
    Index("ix_activity_occurred", "occurred_end"),
)

# Channels: what each asked for, and which digests were posted.
channels = Table(
    "channels", metadata,
    Column("channel_uuid", String(36), primary_key=True),
    Column("channel", String(64), nullable=False, unique=True),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("channel", String(64), primary_key=True),
    Column("frequency", String(10), nullable=False),
    Column("weekday", String(3), nullable=False),
    Column("at", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("filter_kind", String(20)),
    Column("filter_value", String(200)),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

follows = Table(
    "follows", metadata,
    Column("channel", String(64), primary_key=True),
    Column("target_kind", String(20), primary_key=True),
    Column("target_key", String(200), primary_key=True),
)

digests = Table(
    "digests", metadata,
    Column("digest_uuid", String(36), nullable=False, unique=True),
    Column("channel", String(64), primary_key=True),
    Column("period", String(40), primary_key=True),
    Column("claimed_by", String(200), nullable=False),
    Column("message_ts", String(40)),
)

# Change notices waiting to be posted: written once per (event, following channel) by the
# projector, in the same transaction as its position; worded from the activity row at the
# same position and marked sent by the sender. Not a rebuildable view: rebuilding must not
# notice the past again.
notice_outbox = Table(
    "notice_outbox", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("item_id", String(36), nullable=False),
    Column("title", Text, nullable=False),  # the item's title when the event was applied
    Column("sent_ts", String(40)),
    Index("ix_notice_outbox_unsent", "sent_ts", "position"),
)

notice_threads = Table(
    "notice_threads", metadata,
    Column("channel", String(64), primary_key=True),
    Column("item_id", String(36), primary_key=True),
    Column("thread_ts", String(40), nullable=False),
)

VIEW_TABLES = (board, item_partners, partners, calendar, agenda, agenda_marks,
               state_checkpoints, consultations, submissions, activity, channels,
               subscriptions, follows, digests)

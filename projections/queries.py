"""The read side: plain queries over the view tables, a function for each reading.

It is long because it holds every reader's plain query, each a few lines over the same
tables; the fast paths beside some of them are modules of their own
(`projections.agenda_days`, `cmsbot.readmodel.stale_asat`). Split by table, the readings
that join two views would have no one home."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, func, literal_column, or_, select

from domain.state import ItemState
from projections import tables as t
from projections.positions import views_position

# Event types that put a date on the calendar; an as-at calendar question folds only
# the items that had one of these.
AGENDA_EVENTS = (
    "MeetingPlanned", "MeetingScheduled", "MeetingRescheduled", "MeetingHeld",
    "AgreementSubmittedForEndorsement", "ConsultationAnnounced", "ConsultationIssued",
    "ConsolidationPlanned", "MilestonePlanned",
)
REVISIONS = ("EventCorrected", "EventRetracted")  # the events that revise another


def position(conn: Connection) -> int:
    """How far the views have applied the log."""
    return views_position(conn)


def items_position(conn: Connection) -> int:
    """The log position of the last item event the views applied: unlike `position`, it
    does not move for the events of channels and digests."""
    return int(conn.execute(select(func.max(t.activity.c.position))).scalar() or 0)


def digest_rows(conn: Connection) -> Sequence[Row[Any]]:
    """What a digest says of every item besides its dates, without reading whole states:
    its title, kind and status, when it last happened, and its submissions."""
    b = t.board.c
    return conn.execute(select(b.item_id, b.title, b.kind, b.status, b.last_occurred,
                               b.submission_count)).all()


def dated_item_ids(conn: Connection, *, ending_from: date) -> set[str]:
    """The items with a date (held or not) that ends on or after `ending_from`."""
    c = t.calendar.c
    return set(conn.execute(select(c.item_id).where(c.end >= ending_from).distinct())
               .scalars())


def index_rows(conn: Connection) -> Sequence[Row[Any]]:
    """What entity resolution needs of every item (not its whole state)."""
    b = t.board.c
    return conn.execute(select(b.item_id, b.key, b.kind, b.title, b.subtype, b.aliases,
                               b.partner_keys)).all()


def names_position(conn: Connection) -> int:
    """Moves only when an item or partner is named differently."""
    value = conn.execute(select(t.positions.c.position)
                         .where(t.positions.c.name == "names")).scalar()
    return int(value or 0)


def partner_rows(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(t.partners).order_by(t.partners.c.key)).all()


def states(conn: Connection, item_ids: Iterable[str]) -> dict[str, ItemState]:
    ids = list(item_ids)
    if not ids:
        return {}
    rows = conn.execute(select(t.board.c.item_id, t.board.c.state)
                        .where(t.board.c.item_id.in_(ids)))
    return {row.item_id: ItemState.from_dict(row.state) for row in rows}


def item_ids(conn: Connection, *, kind: str) -> list[str]:
    """The ids of the items of a kind, by title."""
    return list(conn.execute(select(t.board.c.item_id).where(t.board.c.kind == kind)
                             .order_by(t.board.c.title)).scalars())


def item_rows(conn: Connection, *, kind: str | None = None,
              partner_key: str | None = None) -> Sequence[Row[Any]]:
    """Every item's key, kind, title, status and partners' keys (not its whole state), of a
    kind and with a partner when given, by kind and title."""
    b = t.board.c
    query = select(b.item_id, b.key, b.kind, b.title, b.status, b.partner_keys)
    if kind is not None:
        query = query.where(b.kind == kind)
    if partner_key is not None:
        query = query.where(b.item_id.in_(select(t.item_partners.c.item_id).where(
            t.item_partners.c.partner_key == partner_key)))
    return conn.execute(query.order_by(b.kind, b.title)).all()


def items_with_partner(conn: Connection, partner_key: str) -> list[str]:
    return list(conn.execute(select(t.item_partners.c.item_id)
                             .where(t.item_partners.c.partner_key == partner_key)).scalars())


def calendar_between(conn: Connection, first: date, last: date) -> Sequence[Row[Any]]:
    """Calendar entries whose dates overlap [first, last], earliest first."""
    return conn.execute(
        select(t.calendar).where(and_(t.calendar.c.end >= first, t.calendar.c.start <= last))
        .order_by(t.calendar.c.start, t.calendar.c.end, t.calendar.c.label)).all()


def agenda_item_ids(conn: Connection, *, occurred_by: date | None,
                    recorded_by: datetime | None) -> list[str]:
    """Items that may have had something on their agenda by a business or recorded time:
    those with an event that dates something, dated by then, and (as at a business time)
    those with a correction, which may have moved such an event's date earlier than its
    row says. A superset, for a reader that folds each item to see what it had dated."""
    a = t.activity.c
    recorded = [a.recorded <= recorded_by] if recorded_by is not None else []
    dated = select(a.item_id).where(a.event_type.in_(AGENDA_EVENTS), *recorded)
    if occurred_by is None:
        return list(conn.execute(dated.distinct()).scalars())
    return list(conn.execute(dated.where(a.occurred_end <= occurred_by).union(
        select(a.item_id).where(a.event_type == "EventCorrected", *recorded))).scalars())


def activity_since(conn: Connection, *, occurred_from: date, occurred_to: date | None,
                   recorded_by: datetime | None) -> Sequence[Row[Any]]:
    """Events whose business date reaches into [occurred_from, occurred_to], in log order."""
    query = select(t.activity).where(t.activity.c.occurred_end >= occurred_from)
    if occurred_to is not None:
        query = query.where(t.activity.c.occurred_end <= occurred_to)
    if recorded_by is not None:
        query = query.where(t.activity.c.recorded <= recorded_by)
    return conn.execute(query.order_by(t.activity.c.position)).all()


def activity_recorded_from(conn: Connection, start: datetime, *, recorded_by: datetime | None,
                           occurred_to: date | None) -> Sequence[Row[Any]]:
    """Events recorded at or after `start` (and by `recorded_by`), whenever they happened
    (by `occurred_to`), in log order."""
    query = select(t.activity).where(t.activity.c.recorded >= start)
    if recorded_by is not None:
        query = query.where(t.activity.c.recorded <= recorded_by)
    if occurred_to is not None:
        query = query.where(t.activity.c.occurred_end <= occurred_to)
    return conn.execute(query.order_by(t.activity.c.position)).all()


def latest_report(conn: Connection, *, occurred_by: date | None,
                  recorded_by: datetime | None) -> tuple[str, date] | None:
    """The latest document that states facts as at its own date, and that date: a report's
    undated facts are recorded as so "by" its date, so it is the document of the latest
    such fact (by `occurred_by`, as recorded by `recorded_by`)."""
    a = t.activity.c
    query = select(a.occurred, a.occurred_end, a.source).order_by(a.occurred_end.desc(),
                                                                  a.position.desc())
    if occurred_by is not None:
        query = query.where(a.occurred_end <= occurred_by)
    if recorded_by is not None:
        query = query.where(a.recorded <= recorded_by)
    rows = conn.execution_options(stream_results=True, max_row_buffer=500).execute(query)
    try:
        for row in rows:
            if row.occurred.get("start") is None and row.source.get("document"):
                return str(row.source["document"]), row.occurred_end
    finally:
        rows.close()
    return None


def item_activity(conn: Connection, item_id: str, *, recorded_by: datetime | None,
                  ) -> Sequence[Row[Any]]:
    """One item's events as the activity view holds them, in version order."""
    query = select(t.activity).where(t.activity.c.item_id == item_id)
    if recorded_by is not None:
        query = query.where(t.activity.c.recorded <= recorded_by)
    return conn.execute(query.order_by(t.activity.c.version)).all()


def calendar_rows(conn: Connection, *, first: date | None, last: date | None,
                  kinds: set[str] | None, workshops: bool, item_ids: list[str] | None,
                  held: bool | None = None, held_or_before: date | None = None,
                  limit: int | None = None, offset: int = 0,
                  ) -> tuple[Sequence[Row[Any]], int]:
    """Calendar entries (with their item's title and type) overlapping [first, last], in
    date order: `limit` of them (all when None) from the `offset`th (from 0), and how many
    there are in all.

    An entry overlaps when it ends on or after `first` and starts on or before `last`; a
    "by" date is stored as starting on its end, so it counts only when it cannot fall after
    `last`. `held` keeps only entries that were (or were not) held; `held_or_before` keeps
    those held or ending before that day."""
    return _dated_rows(conn, t.calendar, [], first=first, last=last, kinds=kinds,
                       workshops=workshops, item_ids=item_ids, held=held,
                       held_or_before=held_or_before, limit=limit, offset=offset)


def calendar_entry_item_ids(conn: Connection, *, first: date | None = None,
                            last: date | None = None, kinds: set[str] | None = None,
                            workshops: bool = False, item_ids: list[str] | None = None,
                            held: bool | None = None, held_or_before: date | None = None,
                            ) -> list[str]:
    """The items of every calendar entry that `calendar_rows` answers with these filters
    (no page), each once, in no order: for a reader that wants the items, not the entries
    (`cmsbot.readmodel.agenda.dated_item_ids`)."""
    return _dated_item_ids(conn, t.calendar, [], first=first, last=last, kinds=kinds,
                           workshops=workshops, item_ids=item_ids, held=held,
                           held_or_before=held_or_before)


def agenda_rows(conn: Connection, *, as_at: date | None, known_at: datetime | None,
                first: date | None, last: date | None, kinds: set[str] | None,
                workshops: bool, item_ids: list[str] | None, held: bool | None = None,
                held_or_before: date | None = None, limit: int | None = None,
                offset: int = 0) -> tuple[Sequence[Row[Any]], int]:
    """What `calendar_rows` says of the calendar, of the agenda as it stood at business
    date `as_at` (None: after every date) as known at `known_at` (None: now)."""
    return _dated_rows(conn, t.agenda, agenda_on(as_at, known_at), first=first, last=last,
                       kinds=kinds, workshops=workshops, item_ids=item_ids, held=held,
                       held_or_before=held_or_before, limit=limit, offset=offset)


def agenda_entry_item_ids(conn: Connection, *, as_at: date | None,
                          known_at: datetime | None, first: date | None = None,
                          last: date | None = None, kinds: set[str] | None = None,
                          workshops: bool = False, item_ids: list[str] | None = None,
                          held: bool | None = None, held_or_before: date | None = None,
                          ) -> list[str]:
    """What `calendar_entry_item_ids` says of the calendar, of the agenda as `agenda_rows`
    reads it."""
    return _dated_item_ids(conn, t.agenda, agenda_on(as_at, known_at), first=first,
                           last=last, kinds=kinds, workshops=workshops, item_ids=item_ids,
                           held=held, held_or_before=held_or_before)


def agenda_on(as_at: date | None, known_at: datetime | None) -> list[Any]:
    """The agenda's rows as they stood at business date `as_at` (None: after every date)
    as known at `known_at` (None: now)."""
    a = t.agenda.c
    on_day: list[Any] = ([a.to_day == date(9999, 12, 31)] if as_at is None
                         else [a.from_day <= as_at, a.to_day > as_at])
    if known_at is None:
        on_day.append(a.recorded_to.is_(None))
    else:
        on_day += [a.recorded_from <= known_at,
                   or_(a.recorded_to.is_(None), a.recorded_to > known_at)]
    return on_day


def _dated_rows(conn: Connection, table: Any, conditions: list[Any], *, first: date | None,
                last: date | None, kinds: set[str] | None, workshops: bool,
                item_ids: list[str] | None, held: bool | None, held_or_before: date | None,
                limit: int | None, offset: int) -> tuple[Sequence[Row[Any]], int]:
    c = table.c
    query = _dated(table, conditions, first=first, last=last, kinds=kinds,
                   workshops=workshops, item_ids=item_ids, held=held,
                   held_or_before=held_or_before, columns=(c.item_id, c.label, c.when,
                                                           c.held, c.start, c.end))
    # The limit and offset are written into the statement: SQLite plans bound ones as
    # unknown, and then walks the whole calendar in date order rather than the few entries
    # ahead.
    shown: Any = None if limit is None else literal_column(str(int(limit)))
    skipped: Any = literal_column(str(int(offset))) if offset else None
    rows = conn.execute(query.order_by(c.start, c.end, c.label, c.item_id)
                        .limit(shown).offset(skipped)).all()
    if (limit is None or len(rows) < limit) and (rows or not offset):
        return rows, offset + len(rows)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    return rows, int(total)


def _dated_item_ids(conn: Connection, table: Any, conditions: list[Any], *,
                    first: date | None, last: date | None, kinds: set[str] | None,
                    workshops: bool, item_ids: list[str] | None, held: bool | None,
                    held_or_before: date | None) -> list[str]:
    query = _dated(table, conditions, first=first, last=last, kinds=kinds,
                   workshops=workshops, item_ids=item_ids, held=held,
                   held_or_before=held_or_before, columns=(table.c.item_id,))
    return list(conn.execute(query.distinct()).scalars())


def _dated(table: Any, conditions: list[Any], *, first: date | None, last: date | None,
           kinds: set[str] | None, workshops: bool, item_ids: list[str] | None,
           held: bool | None, held_or_before: date | None,
           columns: Sequence[Any]) -> Select[Any]:
    """These columns of the dated entries of `table` (the calendar, or the agenda with
    `conditions` saying which of its rows) that the filters keep."""
    c, b = table.c, t.board.c
    conditions = list(conditions)
    if first is not None:
        conditions.append(c.end >= first)
    if last is not None:
        conditions.append(c.start <= last)
    if kinds:
        conditions.append(c.kind.in_(sorted(kinds)))
    if workshops:
        conditions.append(b.workshop.is_(True))
    if item_ids is not None:
        conditions.append(c.item_id.in_(item_ids))
    if held is not None:
        conditions.append(c.held.is_(held))
    if held_or_before is not None:
        conditions.append(or_(c.held.is_(True), c.end < held_or_before))
    query = select(*columns).where(*conditions)
    if workshops:  # what a workshop is, is the board's to say
        query = query.join(t.board, b.item_id == c.item_id)
    return query


def visible_versions(conn: Connection, item_ids: list[str], *, occurred_by: date,
                     recorded_by: datetime | None) -> dict[str, tuple[int, bool]]:
    """For each of these items: the last version of its events (its registration and
    revisions aside) dated by `occurred_by` (and recorded by `recorded_by`), at least 1;
    and whether a revision comes after it. What an as-at reading must read of its events."""
    a = t.activity.c
    revision = a.event_type.in_(REVISIONS)
    dated = and_(a.occurred_end <= occurred_by, ~revision, a.version > 1)
    query = select(a.item_id, func.max(a.version).filter(dated),
                   func.max(a.version).filter(revision)).where(a.item_id.in_(item_ids))
    if recorded_by is not None:
        query = query.where(a.recorded <= recorded_by)
    found = {}
    for item_id, last, last_revision in conn.execute(query.group_by(a.item_id)):
        last = last or 1
        found[item_id] = (last, last_revision is not None and last_revision > last)
    return found


def item_ids_recorded_after(conn: Connection, item_ids: list[str], *,
                            recorded_after: datetime, revisions: bool = False) -> set[str]:
    """Those of these items with an event (with `revisions`, a correction or retraction)
    recorded after this time."""
    a = t.activity.c
    types = [a.event_type.in_(REVISIONS)] if revisions else []
    return set(conn.execute(select(a.item_id).distinct().where(
        a.item_id.in_(item_ids), *types, a.recorded > recorded_after)).scalars())


def latest_checkpoints(conn: Connection, item_ids: list[str], *, through_by: date,
                       ) -> dict[str, tuple[int, dict[str, Any]]]:
    """For each of these items that has one: its latest checkpoint (`state_checkpoints`)
    whose events had all happened by `through_by`, as its version and state (as stored)."""
    c = t.state_checkpoints.c
    latest = (select(c.item_id, func.max(c.version).label("version"))
              .where(c.item_id.in_(item_ids), c.through_end <= through_by)
              .group_by(c.item_id).subquery())
    rows = conn.execute(select(c.item_id, c.version, c.state).join(
        latest, and_(c.item_id == latest.c.item_id, c.version == latest.c.version)))
    return {item_id: (version, state) for item_id, version, state in rows}


def settled_item_ids(conn: Connection, item_ids: Iterable[str] | None, *,
                     by: date) -> set[str]:
    """Of these items (None: of every item), those whose every event besides their
    registration and revisions was over by `by` (so that their state as at `by` is their
    state now). Every item's are read without a list of ids: 10,000 ids took PostgreSQL
    0.10-0.11 s, and every item 0.02."""
    m = t.agenda_marks.c
    if item_ids is None:
        return set(conn.execute(select(m.item_id).where(m.last_end <= by)).scalars())
    ids = list(item_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 5000):  # a bounded list of parameters a statement
        found.update(conn.execute(select(m.item_id).where(
            m.item_id.in_(ids[start:start + 5000]), m.last_end <= by)).scalars())
    return found


def activity_recorded_between(conn: Connection, start: datetime, end: datetime,
                              ) -> Sequence[Row[Any]]:
    """Events recorded in [start, end), in log order."""
    return conn.execute(select(t.activity).where(
        and_(t.activity.c.recorded >= start, t.activity.c.recorded < end))
        .order_by(t.activity.c.position)).all()


def latest_recorded(conn: Connection) -> datetime | None:
    value = conn.execute(select(func.max(t.activity.c.recorded))).scalar()
    if isinstance(value, str):  # SQLite keeps timestamps as text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def activity_occurred_between(conn: Connection, first: date, last: date,
                              ) -> Sequence[Row[Any]]:
    """Events that had certainly happened within [first, last] (by their latest date)."""
    return conn.execute(select(t.activity).where(
        and_(t.activity.c.occurred_end >= first, t.activity.c.occurred_end <= last,
             t.activity.c.event_type != "ItemRegistered"))
        .order_by(t.activity.c.position)).all()


def subscriptions(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(t.subscriptions).order_by(t.subscriptions.c.channel)).all()


def subscription(conn: Connection, channel: str) -> Row[Any] | None:
    return conn.execute(select(t.subscriptions)
                        .where(t.subscriptions.c.channel == channel)).first()


def follows(conn: Connection, channel: str | None = None) -> Sequence[Row[Any]]:
    query = select(t.follows)
    if channel is not None:
        query = query.where(t.follows.c.channel == channel)
    return conn.execute(query.order_by(t.follows.c.channel, t.follows.c.target_key)).all()


def consultations(conn: Connection) -> Sequence[Row[Any]]:
    return conn.execute(select(t.consultations).order_by(t.consultations.c.title)).all()


def board(conn: Connection) -> Sequence[Row[Any]]:
    """Every item's id and state, by kind and title."""
    return conn.execute(select(t.board.c.item_id, t.board.c.state)
                        .order_by(t.board.c.kind, t.board.c.title)).all()


def unsent_notices(conn: Connection, limit: int) -> Sequence[Row[Any]]:
    """The oldest notices not yet sent, each with its event's activity row (summary,
    business date, source), by position and channel. A notice whose activity row is not
    there yet (views being rebuilt after a change of their shape) waits."""
    n, a = t.notice_outbox.c, t.activity.c
    return conn.execute(
        select(n.position, n.channel, n.item_id, n.title, a.summary, a.occurred, a.source)
        .join(t.activity, a.position == n.position).where(n.sent_ts.is_(None))
        .order_by(n.position, n.channel).limit(limit)).all()

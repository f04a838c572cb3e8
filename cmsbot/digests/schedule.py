"""When digests fire, and which period each one covers.

A weekly digest fired on Monday 30 November 2026 at 09:00 Europe/Berlin covers what was
recorded since the previous firing; its period key is the ISO week of the local firing date
("2026-W49"), so one digest per channel and week, whatever clock posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from domain.channels import WEEKDAYS, Schedule
from domain.errors import InvalidFieldError


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime
    end: datetime  # the firing time; the digest covers [start, end)


def zone(schedule: Schedule) -> ZoneInfo:
    try:
        return ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidFieldError(f"unknown time zone {schedule.timezone!r}; "
                                "write e.g. Europe/Berlin or UTC") from None


def trigger_for(schedule: Schedule) -> CronTrigger:
    """A cron trigger with a named weekday, in the subscription's time zone (APScheduler 3's
    `from_crontab` counts weekdays from Monday = 0, so it is not used)."""
    return CronTrigger(day_of_week=schedule.weekday if schedule.frequency == "weekly" else "*",
                       hour=schedule.hour, minute=schedule.minute, timezone=zone(schedule))


def _local_fire(schedule: Schedule, day: datetime) -> datetime:
    local = datetime.combine(day.date(), time(schedule.hour, schedule.minute),
                             tzinfo=zone(schedule))
    # A time that does not exist (spring forward) moves on, as the trigger does.
    return local.astimezone(UTC).astimezone(local.tzinfo)


def last_fire(schedule: Schedule, now: datetime) -> datetime:
    """The most recent firing at or before `now` (UTC)."""
    local_now = now.astimezone(zone(schedule))
    for back in range(9):
        day = local_now - timedelta(days=back)
        if schedule.frequency == "weekly" and WEEKDAYS[day.weekday()] != schedule.weekday:
            continue
        fire = _local_fire(schedule, day)
        if fire <= local_now:
            return fire.astimezone(UTC)
    raise RuntimeError(f"{schedule.describe()} did not fire in a week")  # pragma: no cover


def period_ending(schedule: Schedule, fire: datetime) -> Period:
    """The period that the firing at `fire` closes."""
    previous = last_fire(schedule, fire - timedelta(seconds=1))
    local = fire.astimezone(zone(schedule))
    if schedule.frequency == "weekly":
        year, week, _ = local.isocalendar()
        key = f"{year}-W{week:02d}"
    else:
        key = local.date().isoformat()
    return Period(key, previous, fire)


def period_open_at(schedule: Schedule, now: datetime) -> Period:
    """The period still open at `now`: from the last firing until now (for a preview)."""
    start = last_fire(schedule, now)
    closing = period_ending(schedule, _next_fire(schedule, now))
    return Period(closing.key, start, now)


def _next_fire(schedule: Schedule, now: datetime) -> datetime:
    fire: datetime | None = trigger_for(schedule).get_next_fire_time(None, now)
    if fire is None:  # pragma: no cover - a cron trigger without an end always fires again
        raise RuntimeError(f"{schedule.describe()} never fires")
    return fire.astimezone(UTC)

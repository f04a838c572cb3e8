"""`cmsbot clock`: fires each channel's digest on its schedule, in its own process.

APScheduler 3 (a blocking scheduler) runs one cron job per subscription, with named
weekdays, the subscription's time zone, coalescing, one instance at a time and a grace of
hours. Jobs are rebuilt from the subscriptions view at start and whenever it changes. At
start, and at every refresh (every few seconds), a digest missed while the clock was down
is posted if its firing is within the grace (the claim in the log stops a second post),
and queued change notices are sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from cmsbot.digests.notices import NoticeSender
from cmsbot.digests.schedule import last_fire, period_ending, trigger_for
from cmsbot.digests.service import DigestPoster, schedule_of
from domain.channels import Schedule
from projections import queries as q

log = logging.getLogger(__name__)
GRACE = timedelta(hours=6)
REFRESH_SECONDS = 10


class Clock:
    """The schedule of every subscribed channel, kept in an APScheduler scheduler."""

    def __init__(self, container: Any, poster: DigestPoster, *,
                 notices: NoticeSender | None = None,
                 scheduler: BaseScheduler | None = None, grace: timedelta = GRACE,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.container, self.poster, self.grace, self.now = container, poster, grace, now
        self.notices = notices
        self.scheduler = scheduler or BlockingScheduler(timezone=UTC)
        self._jobs: dict[str, Schedule] = {}

    def subscriptions(self) -> dict[str, Schedule]:
        self.container.catch_up()
        with self.container.engine.connect() as conn:
            return {row.channel: schedule_of(row) for row in q.subscriptions(conn)}

    def post_due(self, channel: str, schedule: Schedule | None = None) -> str | None:
        """Post the channel's latest digest if its firing is within the grace and nobody
        posted it. A job reads the subscription afresh (`schedule` None), so an
        unsubscribed channel gets none."""
        if schedule is None:
            schedule = self.subscriptions().get(channel)
        if schedule is None:
            return None
        now = self.now()
        fire = last_fire(schedule, now)
        if now - fire > self.grace:
            return None
        return self.poster.post_once(channel, period_ending(schedule, fire), schedule)

    def sync(self) -> None:
        """Make the jobs match the subscriptions view, and post what was missed."""
        current = self.subscriptions()
        for channel in set(self._jobs) - set(current):
            self.scheduler.remove_job(_job_id(channel))
            log.info("unscheduled %s", channel)
        for channel, schedule in current.items():
            if self._jobs.get(channel) != schedule:
                self.scheduler.add_job(
                    self.post_due, trigger_for(schedule), args=[channel], id=_job_id(channel),
                    replace_existing=True, coalesce=True, max_instances=1,
                    misfire_grace_time=int(self.grace.total_seconds()))
                log.info("scheduled %s: %s", channel, schedule.describe())
        self._jobs = current
        for channel, schedule in current.items():
            self.post_due(channel, schedule)
        if self.notices is not None:
            self.notices.send_pending()

    def run(self) -> None:
        self.sync()
        self.scheduler.add_job(self.sync, "interval", seconds=REFRESH_SECONDS, id="refresh",
                               coalesce=True, max_instances=1, replace_existing=True)
        self.scheduler.start()


def _job_id(channel: str) -> str:
    return f"digest:{channel}"

"""The store's orjson transcoder writes and reads exactly what eventsourcing's own JSON
transcoder does, so stored events are the same bytes whichever wrote them."""

from __future__ import annotations

from eventsourcing.persistence import JSONTranscoder

from cmsbot.app.auth import Principal
from cmsbot.bootstrap import Container
from cmsbot.digests.service import Subscriptions
from cmsbot.eventstore.tracker import Tracker
from cmsbot.eventstore.transcoding import FastJSONTranscoder
from domain.channels import Schedule
from domain.provenance import Source

EDITOR = Principal("U0EDITOR", may_record=True)


def _transcoders(tracker: Tracker) -> tuple[JSONTranscoder, JSONTranscoder]:
    ours, theirs = FastJSONTranscoder(), JSONTranscoder()
    tracker.register_transcodings(ours)
    tracker.register_transcodings(theirs)
    return ours, theirs


def test_every_kind_of_stored_event_is_the_same_bytes_both_ways(seeded: Container) -> None:
    subscriptions = Subscriptions(seeded.tracker, seeded.readmodel)
    subscriptions.subscribe(EDITOR, "C1", Schedule(filter_kind="kind", filter_value="meeting"),
                            in_channel=True)
    subscriptions.follow(EDITOR, "C1", "IWC JWP", in_channel=True)
    seeded.recorder.record(EDITOR, key="iwc-jwp", what="progress reported", occurred="late 2016",
                           fields={"summary": "Ünïcode, \"quotes\", \\ and \u2028 too"},
                           source=Source("TEST/1", "2", chat="https://x.slack.com/p1"))
    seeded.recorder.record(EDITOR, key="iwc-jwp", what="corrected", occurred="2016-12-01",
                           fields={"corrects": 2, "changes": {"occurred": "2015-10"},
                                   "reason": "the month was wrong"},
                           source=Source("TEST/1", "3"))
    ours, theirs = _transcoders(seeded.tracker)
    types = set()
    for notification in seeded.tracker.recorder.select_notifications(start=1, limit=10_000):
        decoded = theirs.decode(notification.state)
        assert ours.decode(notification.state) == decoded
        assert ours.encode(decoded) == theirs.encode(decoded) == notification.state
        types.add(notification.topic)
    assert len(types) >= 10  # registrations, updates, corrections, channels, partners


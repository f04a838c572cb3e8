"""Who may record from Slack: the users in CMSBOT_EDITORS, or in CMSBOT_EDITOR_GROUP."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from cmsbot.app.auth import Principal

log = logging.getLogger(__name__)

_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


class UnknownGroupError(LookupError):
    """CMSBOT_EDITOR_GROUP names no user group of the workspace."""


class Editors:
    """Answers "may this Slack user record?", asked on every write path.

    Group membership is read with `usergroups.users.list` and kept for `ttl` seconds, so
    that a form's submission does not wait on Slack. When Slack cannot be asked, the answer
    is no: a refusal is better than an unauthorized record. Without a client (the local
    console) only the listed editors may record.
    """

    def __init__(self, client: WebClient | None, editors: frozenset[str], group: str | None,
                 *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.editors, self.group = client, editors, group
        self.ttl, self.clock = ttl, clock
        self._members: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def principal(self, user_id: str) -> Principal:
        """The Slack user as the recorder knows them: the actor of what they record."""
        return Principal(f"slack:{user_id}", may_record=self.may_record(user_id))

    def may_record(self, user_id: str) -> bool:
        if not user_id:
            return False
        return user_id in self.editors or user_id in self._group_members()

    def _group_members(self) -> frozenset[str]:
        if self.client is None or not self.group:
            return frozenset()
        with self._lock:
            now = self.clock()
            if self._members is not None and now - self._members[0] < self.ttl:
                return self._members[1]
            try:
                group_id = _group_id(self.client, self.group)
                members = frozenset(
                    self.client.usergroups_users_list(usergroup=group_id)["users"] or [])
            except (SlackApiError, SlackClientError, UnknownGroupError) as error:
                log.warning("could not read the editor group's members: %s", error)
                return frozenset()
            self._members = (now, members)
            return members


def _group_id(client: WebClient, group: str) -> str:
    """CMSBOT_EDITOR_GROUP may be the group's ID (S0123ABC) or its handle (@cms-editors)."""
    if _GROUP_ID.match(group):
        return group
    handle = group.lstrip("@")
    for found in client.usergroups_list()["usergroups"] or []:
        if found.get("handle") == handle:
            return str(found["id"])
    raise UnknownGroupError(f"no user group has the handle @{handle}")

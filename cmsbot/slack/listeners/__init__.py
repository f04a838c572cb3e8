"""Bolt listeners, one module per kind of request; each module has `register(app, bot)`.

Every callback is thin: `ack()` first, then read the payload, make one call to the `Bot`,
and send what it returns. Slow work (answering, opening a form) runs after the ack, or in
a lazy listener, so that Slack hears back within its 3 seconds.
"""

from __future__ import annotations

from slack_bolt import App

from cmsbot.slack.bot import Bot
from cmsbot.slack.listeners import actions, commands, events, home, shortcuts, views


def register(app: App, bot: Bot) -> None:
    for area in (commands, events, home, actions, shortcuts, views):
        area.register(app, bot)

"""The Slack bot: a thin Bolt adapter over the question engine and the recorder.

Importing this package connects to nothing and imports no Slack library; `app.build_app`
builds a Bolt app from a bootstrapped container and the settings, when a command needs it.
"""

"""cmsbot: an event-sourced status tracker with a Slack bot for the CMS Secretariat.

Importing the package connects to nothing; see `cmsbot.bootstrap` for the wiring.
"""

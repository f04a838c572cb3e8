"""The application services: one module per use case, each a small service over the event
store (`cmsbot.eventstore`). Every write goes through here, authorized (`auth`), and is
saved whole: one recorded fact (`recording`), or a history file (`importing`, whose
process pool is `import_pool`).

The adapters (the command line, Slack, digests, audit) call these; nothing here knows them.
"""

"""Audit: the log as an auditor reads it, a hash chain that makes it tamper-evident, export
and re-import, replay into a scratch store, and the status report rebuilt from the log.

Positions here count the log's events from 1, in log order. They equal the store's own
notification ids unless the store skipped some (PostgreSQL does after a rolled-back write),
and being counted is what lets an export re-imported elsewhere keep every position and the
chain head.
"""

"""Who is asking, and whether they may record: every write path asks `require_editor`."""

from __future__ import annotations

from dataclasses import dataclass


class NotAuthorizedError(Exception):
    """The person asking may read but not record."""


@dataclass(frozen=True)
class Principal:
    """Who is asking, and whether they may record."""

    id: str
    may_record: bool

    def require_editor(self) -> None:
        if not self.may_record:
            raise NotAuthorizedError(
                "Only editors may record updates; ask a Secretariat editor to add you.")


# An editor with no person behind it, for scripts, tests and benchmarks. The command line
# records as the OS user who runs it instead (`cmsbot.whoami`).
LOCAL_OPERATOR = Principal("local", may_record=True)

"""Who runs a command on this machine: the actor of what the command line records."""

from __future__ import annotations

import os
import pwd


def os_user() -> str:
    """Who runs the command: the name of the process's real user id. Not $USER or
    $LOGNAME (which getpass reads first), since anyone can set those."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a container's user with no entry in /etc/passwd
        return f"uid{uid}"

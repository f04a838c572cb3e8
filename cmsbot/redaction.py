"""Secrets kept out of what a process writes: its log records, and the traceback of an
exception nothing caught, with the Slack tokens, the signing secret and the database
password replaced by ***.

The product's own messages do not write these in the first place (`Settings` hides them
from its repr, `Database.redacted` shows a URL without its password); this is the net under
them and under the libraries, installed once by the command line (`install`) before any
work, so that it covers every logger (gunicorn's and Bolt's too, in every worker). Besides
the values it is given, anything shaped like a Slack token (xoxb-…, xoxp-…, xapp-…) or like
a password in a URL (scheme://user:password@host) is hidden.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from cmsbot.settings import Settings

MASK = "***"
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]{6,}")
_URL_PASSWORD = re.compile(r"(?<=://)([^:/?#@\s]*):[^@/\s]+@")
_SHORTEST = 4  # a shorter value is hidden only where it is shaped like a secret

_values: set[str] = set()
_lock = threading.Lock()
_previous: tuple[Any, Any] | None = None  # what `install` replaced


def secrets_of(settings: Settings) -> set[str]:
    """The values in `settings` that must never be written out."""
    found = {settings.slack_bot_token, settings.slack_signing_secret,
             settings.slack_app_token}
    password = urlsplit(settings.database.url).password
    if password:
        found |= {password, unquote(password)}
    return {v for v in found if v and len(v) >= _SHORTEST}


def redact(text: str, values: Iterable[str] | None = None) -> str:
    """`text` with the known secrets (`values`, else those installed) and anything shaped
    like a token or a URL's password replaced by MASK."""
    with _lock:
        known = sorted(_values if values is None else values, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    text = _TOKEN.sub(MASK, text)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, traceback and stack redacted (formatted now)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when it emits the record
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info))
                                 .rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install(settings: Settings) -> None:
    """Hide `settings`' secrets from every log record made from now on in this process,
    and from the traceback of an exception nothing catches."""
    global _previous
    with _lock:
        _values.update(secrets_of(settings))
        if _previous is not None:
            return
        _previous = (logging.getLogRecordFactory(), sys.excepthook)
    make = _previous[0]

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    sys.excepthook = _print_uncaught


def uninstall() -> None:
    """Undo `install` (for tests)."""
    global _previous
    with _lock:
        if _previous is not None:
            logging.setLogRecordFactory(_previous[0])
            sys.excepthook = _previous[1]
        _previous = None
        _values.clear()


def _print_uncaught(kind: type[BaseException], value: BaseException,
                    trace: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, trace))))

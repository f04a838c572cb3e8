"""What may reach Bolt at /slack/events: signed, not too large, and shaped as Slack sends it.

Bolt decodes and parses a body before it checks the signature, and Bolt and the listeners
read fields that Slack always sends without asking whether they are there. A request Slack
would never send is therefore answered here, with a 4xx that says why, before Bolt could
fail on it with a 500. Every request to /slack/events is checked in this order, and the
first check that fails answers:

1. 400 when Content-Length is not a number; 413 when it is over MAX_BODY. A body up to
   DRAIN_LIMIT is read (and dropped) first, so that the client, still sending, hears the
   answer; a larger one is refused unread. Size comes before the signature, which cannot
   be checked without reading the body;
2. 401 without Slack's signature headers, or with a timestamp that is not ASCII digits
   (`int()` refuses some that `str.isdigit` accepts) (but Slack's `ssl_check=1` goes on to
   Bolt, which answers it 200 unsigned);
3. 401 when the signature does not verify (a 5-minute window, a constant-time compare): an
   unsigned or wrongly signed request is refused as such, whatever but its size is wrong
   with it;
4. 405 for a method other than POST; 400 for an empty body; 415 for a content type Slack
   does not send (it sends form-encoded and JSON bodies only); 400 for bytes that are not
   UTF-8;
5. 400 for a payload nested more than MAX_DEPTH deep: Python's JSON parser recurses once
   a level, and so would anything that walks the payload, so a deep one could end in a
   RecursionError wherever it is read; Slack's own nest a dozen levels or so;
6. 400 when Bolt cannot read the body, or the payload lacks a field that Slack always sends
   and that Bolt or a listener reads (`shape_problem`).

Only then does Bolt see the request (and check its signature again). What is refused is
logged as a warning with the reason, never the body.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # far above any request Slack sends to this app
DRAIN_LIMIT = 16 * MAX_BODY  # larger bodies are refused unread
WINDOW = 5 * 60  # seconds, as Slack's documentation and Bolt have it
MAX_DEPTH = 64  # arrays and objects within each other: several times what Slack sends
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
_CHUNK = 64 * 1024

# The payload types of the requests this app takes, and what each must carry.
_WITH_USER = ("block_actions", "block_suggestion", "view_submission", "view_closed",
              "shortcut", "message_action")


class SlackRequestGuard(SlackRequestHandler):
    """Bolt's WSGI handler for `path`, behind the checks in this module's docstring."""

    def __init__(self, app: App, path: str, signing_secret: str,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(app, path=path)
        self._secret = signing_secret.encode()
        self._clock = clock

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path:
            return refuse(start_response, HTTPStatus.NOT_FOUND, "not found")
        for name in [k for k in environ if k.startswith("HTTP_X_SLACK_BOLT_")]:
            del environ[name]  # Bolt's own headers for lazy listeners: never from outside
        problem = self._check(environ)
        if problem is not None:
            status, reason = problem
            log.warning("refused a request to %s: %d %s", self.path, status, reason)
            return refuse(start_response, status, reason)
        return super().__call__(environ, start_response)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                       headers=request.get_headers())
        except (ValueError, TypeError, LookupError, AttributeError) as error:
            problem = f"a body Bolt cannot read ({type(error).__name__})"
        else:
            found = shape_problem(bolt_request.body)
            if found is None:
                return self.app.dispatch(bolt_request)
            problem = found
        log.warning("refused a request to %s: 400 %s", self.path, problem)
        return BoltResponse(status=400, body={"error": problem},
                            headers={"content-type": "application/json"})

    def _check(self, environ: WSGIEnvironment) -> tuple[HTTPStatus, str] | None:
        """None when the request may go on (its body then in `wsgi.input`), else why not."""
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        length = _length(environ)
        if length is None:
            return HTTPStatus.BAD_REQUEST, "Content-Length is not a number"
        stream = environ.get("wsgi.input")
        if length > MAX_BODY:
            if length <= DRAIN_LIMIT:
                _drain(stream, length)
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large"
        body = _read(stream, length)
        if not (stamp.isascii() and stamp.isdigit()) or not signature:
            if _ssl_check(environ, body):
                return None  # Bolt answers 200 to it before it verifies, and does nothing
            return HTTPStatus.UNAUTHORIZED, "unsigned request"
        base = b"v0:" + stamp.encode() + b":" + body
        expected = ("v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()).encode()
        if abs(self._clock() - int(stamp)) > WINDOW or not hmac.compare_digest(
                expected, signature.encode("latin-1", "replace")):
            return HTTPStatus.UNAUTHORIZED, "invalid signature"
        if environ.get("REQUEST_METHOD") != "POST":
            return HTTPStatus.METHOD_NOT_ALLOWED, "only POST"
        if not body:
            return HTTPStatus.BAD_REQUEST, "empty request body"
        content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "not form-encoded or JSON"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return HTTPStatus.BAD_REQUEST, "the body is not UTF-8"
        if content_type == CONTENT_TYPES[0]:
            text = dict(parse_qsl(text)).get("payload", "")  # Bolt parses only this as JSON
        if too_deep(text):
            return HTTPStatus.BAD_REQUEST, f"a payload nested more than {MAX_DEPTH} deep"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return None


def _ssl_check(environ: WSGIEnvironment, body: bytes) -> bool:
    """Whether this is Slack checking a slash command's URL (`ssl_check=1`), then left in
    `wsgi.input` for Bolt."""
    if environ.get("REQUEST_METHOD") != "POST" or len(body) > 1000 or not str(
            environ.get("CONTENT_TYPE") or "").startswith(CONTENT_TYPES[0]):
        return False
    if dict(parse_qsl(body.decode("latin-1"))).get("ssl_check") != "1":
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return True


def _length(environ: WSGIEnvironment) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def _read(stream: IO[bytes] | None, length: int) -> bytes:
    """Up to `length` bytes: fewer when the client sent less than it said (its signature
    then does not verify)."""
    chunks: list[bytes] = []
    left = length
    while stream is not None and left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _drain(stream: IO[bytes] | None, length: int) -> None:
    """Read `length` bytes and keep none of them."""
    left = length
    while stream is not None and left > 0:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)


# A JSON string (its closing quote optional, so that an unclosed one ends the scan rather
# than being tried again from each quote inside it), or an array's or object's bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` deep in the JSON `text`, found
    without parsing it (and so without recursion); brackets in strings do not count."""
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif mark in ("]", "}"):
            depth -= 1
    return False


def shape_problem(body: Any) -> str | None:
    """What a parsed request lacks of what Slack always sends and this app reads, if
    anything. Types this app does not handle pass, for Bolt to answer 404."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if "ssl_check" in body:
        return None  # Slack checking a slash command's URL: Bolt answers it
    if "command" in body:
        return _strings(body, "a slash command", "command", "user_id")
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "a payload without its type"
    if kind == "url_verification":
        return _strings(body, kind, "challenge")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict):
            return "an event_callback without its event"
        return _strings(event, "an event", "type")
    if kind not in _WITH_USER:
        return None
    user = body.get("user")
    if not isinstance(user, dict) or _strings(user, "", "id"):
        return f"a {kind} payload without its user"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or any(
                not isinstance(a, dict) or _strings(a, "", "action_id") for a in actions):
            return "a block_actions payload without its actions"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or _strings(view, "", "id", "type", "callback_id"):
            return f"a {kind} payload without its view"
        if not isinstance(view.get("state", {}), dict):
            return f"a {kind} payload whose view has no state"
    if kind in ("shortcut", "message_action"):
        return _strings(body, f"a {kind} payload", "callback_id", "trigger_id")
    if kind == "block_suggestion":
        return _strings(body, "a block_suggestion payload", "action_id")
    return None


def _strings(data: dict[str, Any], what: str, *names: str) -> str | None:
    missing = [n for n in names if not isinstance(data.get(n), str) or not data[n]]
    return f"{what} without {', '.join(missing)}" if missing else None


def refuse(start_response: StartResponse, status: HTTPStatus, reason: str) -> list[bytes]:
    body = json.dumps({"error": reason}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        headers.append(("Allow", "POST"))
    start_response(f"{status.value} {status.phrase}", headers)
    return [body]

"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlencode, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///var/cmsbot.sqlite"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_URL_PASSWORD = re.compile(r"(?<=://)([^:/?#@\s]*):[^@/\s]+@")


class ConfigurationError(Exception):
    """A setting is missing or cannot be understood."""


@dataclass(frozen=True, repr=False)
class Database:
    """Where the events and the views live: one SQLite file or one PostgreSQL database."""

    url: str

    def __post_init__(self) -> None:
        # A URL that cannot be understood is said at once, in words, where it is read.
        if self.is_sqlite:
            path = str(self.sqlite_path)
            if path == ":memory:" or "mode=memory" in path:
                raise ConfigurationError(f"a SQLite store in memory keeps nothing: give a "
                                         f"file, as in {DEFAULT_DATABASE_URL}")
            if "?" in path or "#" in path:
                raise ConfigurationError(f"a SQLite URL takes no options (?…): "
                                         f"{self.redacted}")
            if self.url.endswith("/"):
                raise ConfigurationError(f"{self.redacted} names a folder: give the store's "
                                         f"file, as in {DEFAULT_DATABASE_URL}")
        else:
            self._parts  # noqa: B018 - parsed for its errors

    def __repr__(self) -> str:
        return f"Database({self.redacted!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def is_default(self) -> bool:
        return self.url == DEFAULT_DATABASE_URL

    @property
    def sqlite_path(self) -> Path:
        path = self.url.removeprefix("sqlite:///")
        if not path or path == self.url:
            raise ConfigurationError(f"write a SQLite URL as sqlite:///path/to/file.sqlite, "
                                     f"not {self.redacted}")
        return Path(path)

    def sqlite_uri(self, *, create: bool, reading: Reading | None = None) -> str:
        """The file as an SQLite URI. Without `create`, opening it never makes a file: a
        store that is gone is an error, not a new empty store. With `reading`, it is
        opened read-only (see `Reading`)."""
        options = _sqlite_options(create, reading)
        return self._sqlite_file() + ("?" + urlencode(options) if options else "")

    def _sqlite_file(self) -> str:
        return f"file:{quote(os.path.abspath(self.sqlite_path))}"

    def _split(self) -> SplitResult:
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - read for its errors
        except ValueError as error:  # a port that is no number, a broken [IPv6] host
            raise ConfigurationError(f"CMSBOT_DATABASE_URL cannot be read ({error}): "
                                     f"{self.redacted}") from None
        return parts

    @property
    def _parts(self) -> tuple[str, str, int, str, str | None, str | None]:
        parts = self._split()
        if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ConfigurationError(
                f"CMSBOT_DATABASE_URL must start sqlite:/// or postgresql://, not {self.redacted}")
        query = parse_qs(parts.query)
        schema = query.get("schema", [None])[0]
        if schema is not None and (not schema.isprintable() or '"' in schema):
            raise ConfigurationError(f"the schema in {self.redacted} must be a plain name")
        return (parts.hostname or "127.0.0.1", unquote(parts.username or "postgres"),
                parts.port or 5432, parts.path.lstrip("/") or "postgres",
                unquote(parts.password) if parts.password else None, schema)

    @property
    def redacted(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        try:
            password = urlsplit(self.url).password
        except ValueError:  # not a URL urlsplit reads: hide what is shaped like a password
            return _URL_PASSWORD.sub(r"\1:***@", self.url)
        if password:
            return self.url.replace(f":{password}@", ":***@")
        return self.url

    def eventsourcing_env(self, *, create_table: bool, reading: Reading | None = None,
                          ) -> dict[str, str]:
        env = {"CREATE_TABLE": "y" if create_table else "n"}
        if self.is_sqlite:
            env.update(PERSISTENCE_MODULE="eventsourcing.sqlite",
                       SQLITE_DBNAME=self.sqlite_uri(create=create_table, reading=reading),
                       SQLITE_LOCK_TIMEOUT="30",
                       # Large saves (history imports) go in one statement.
                       APPLICATION_RECORDER_TOPIC="cmsbot.eventstore.sqliterecorder:BulkSQLiteRecorder")
            return env
        host, user, port, dbname, password, schema = self._parts
        env.update(PERSISTENCE_MODULE="eventsourcing.postgres", POSTGRES_HOST=host,
                   POSTGRES_PORT=str(port), POSTGRES_USER=user, POSTGRES_DBNAME=dbname,
                   POSTGRES_CONNECT_TIMEOUT="5", POSTGRES_PRE_PING="y",
                   POSTGRES_LOCK_TIMEOUT="30",
                   # Large saves (history imports) bypass the psycopg pipeline.
                   APPLICATION_RECORDER_TOPIC="cmsbot.eventstore.pgrecorder:LargeSavePostgresRecorder")
        env["POSTGRES_PASSWORD"] = password or ""  # eventsourcing requires the key
        if schema:
            env["POSTGRES_SCHEMA"] = schema
        return env

    @property
    def schema(self) -> str | None:
        return None if self.is_sqlite else self._parts[5]

    def sqlalchemy_url(self, *, create: bool = False, reading: Reading | None = None) -> str:
        """The URL SQLAlchemy connects with; on SQLite, the file's URI (see `sqlite_uri`)."""
        from sqlalchemy import URL  # quotes what must be quoted: a password with @ or /

        if self.is_sqlite:
            options = {"uri": "true", **_sqlite_options(create, reading)}
            return URL.create("sqlite", database=self._sqlite_file(),
                              query=options).render_as_string()
        host, user, port, dbname, password, _ = self._parts
        return URL.create("postgresql+psycopg", username=user, password=password, host=host,
                          port=port, database=dbname).render_as_string(hide_password=False)


class Reading(Enum):
    """How a process that only reads opens a SQLite store that cannot be written.

    `READ_ONLY` (`mode=ro`) reads the file and what its write-ahead log holds; SQLite needs
    the log's -wal and -shm files to be there (or to be creatable) for that. `IMMUTABLE`
    (`mode=ro&immutable=1`) reads the file alone, with no -shm and no locks: right only
    when no write-ahead log holds anything (no -wal file, or an empty one) and nobody can
    write, as where the store cannot be written.
    """

    READ_ONLY = "ro"
    IMMUTABLE = "immutable"


def _sqlite_options(create: bool, reading: Reading | None) -> dict[str, str]:
    if reading is Reading.IMMUTABLE:
        return {"mode": "ro", "immutable": "1"}
    if reading is Reading.READ_ONLY:
        return {"mode": "ro"}
    return {} if create else {"mode": "rw"}


@dataclass(frozen=True)
class Settings:
    """Everything the product reads from its environment."""

    database: Database = field(default_factory=lambda: Database(DEFAULT_DATABASE_URL))
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    editors: frozenset[str] = frozenset()
    editor_group: str | None = None
    port: int = 3000
    quiet_days: int = 180

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        editors = frozenset(u.strip() for u in env.get("CMSBOT_EDITORS", "").split(",")
                            if u.strip())
        try:
            port = int(env.get("PORT", "3000"))
        except ValueError:
            raise ConfigurationError("PORT must be a number") from None
        try:
            quiet_days = int(env.get("CMSBOT_QUIET_DAYS", "180"))
        except ValueError:
            raise ConfigurationError("CMSBOT_QUIET_DAYS must be a number of days") from None
        api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        return cls(
            database=Database(env.get("CMSBOT_DATABASE_URL") or DEFAULT_DATABASE_URL),
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            editors=editors,
            editor_group=env.get("CMSBOT_EDITOR_GROUP") or None,
            port=port,
            quiet_days=quiet_days,
        )

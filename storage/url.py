"""Database URLs: `sqlite:///path/to/file` or `postgresql://user:password@host:port/database`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class BadDatabaseUrl(ValueError):
    """The URL names no database this application can use; the message is one line."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    backend: str
    """"sqlite" or "postgres"."""
    target: str
    """The SQLite file's path, or the libpq connection URL for asyncpg."""
    synchronous: str = "FULL"
    """SQLite only (`?synchronous=normal`): NORMAL is faster but may lose the last answers
    a person saw confirmed if the machine loses power (a crashed process loses nothing)."""

    @property
    def path(self) -> Path:
        assert self.backend == "sqlite", self.backend
        return Path(self.target)

    def __str__(self) -> str:
        """The URL with any password masked: safe for messages and logs."""
        if self.backend == "sqlite":
            options = (
                "" if self.synchronous == "FULL" else f"?synchronous={self.synchronous.lower()}"
            )
            return SQLITE_PREFIX + self.target + options
        parts = urlsplit(self.target)
        if parts.password is None:
            return self.target
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))


def parse_database_url(raw: str | Path) -> DatabaseUrl:
    """A Path (or a URL without a scheme) is an SQLite file; `sqlite:///x` is the file `x`
    (`sqlite:////srv/x` the absolute `/srv/x`); `postgresql://…` and `postgres://…` are
    PostgreSQL servers."""
    if isinstance(raw, Path):
        return DatabaseUrl("sqlite", str(raw))
    text = raw.strip()
    if text.startswith(SQLITE_PREFIX) and len(text) > len(SQLITE_PREFIX):
        path, _sep, query = text[len(SQLITE_PREFIX) :].partition("?")
        options = parse_qs(query, keep_blank_values=True)
        synchronous = options.pop("synchronous", ["full"])[-1].upper()
        if options or synchronous not in ("FULL", "NORMAL"):
            raise BadDatabaseUrl(
                f"an SQLite URL takes only ?synchronous=full or ?synchronous=normal, got {query!r}"
            )
        return DatabaseUrl("sqlite", path, synchronous)
    scheme, sep, _rest = text.partition("://")
    if sep and scheme in POSTGRES_SCHEMES:
        parts = urlsplit(text)
        if not parts.hostname and "host=" not in parts.query:
            raise BadDatabaseUrl(f"no server in the PostgreSQL URL {_masked(text)!r}")
        return DatabaseUrl("postgres", text)
    raise BadDatabaseUrl(
        "a database URL must be sqlite:///path/to/file or postgresql://user@host/database,"
        f" got {_masked(text)!r}"
    )


def _masked(text: str) -> str:
    """Everything between `://` and `@` may be a password: never echo it."""
    scheme, sep, rest = text.partition("://")
    credentials, at, host = rest.rpartition("@")
    if sep and at:
        user = credentials.partition(":")[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else text
    return text

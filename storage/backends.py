"""Which `Database` serves a database URL."""

from __future__ import annotations

from pathlib import Path

from storage.database import Database
from storage.postgres import PostgresDatabase
from storage.sqlite import SqliteDatabase
from storage.url import DatabaseUrl, parse_database_url


async def connect(url: str | Path | DatabaseUrl) -> Database:
    """The driver for a database URL (see storage/url.py); migrations are not run here."""
    parsed = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    if parsed.backend == "sqlite":
        return await SqliteDatabase.connect(parsed.path, parsed.synchronous)
    return await PostgresDatabase.connect(parsed)

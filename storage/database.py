"""The seam between the application's SQL and a database driver.

The stores (storage/store.py, reports.py, invitations.py) write one SQL text for both
backends, with `?` placeholders, portable upserts (`ON CONFLICT … DO NOTHING/UPDATE`) and
`RETURNING`. A `Database` runs it: `storage/sqlite.py` on aiosqlite, `storage/postgres.py` on
an asyncpg pool (which turns `?` into `$n`). What cannot be written the same way is either in
the per-backend migrations (types, triggers, views) or in the small `Dialect` table below.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from storage.url import DatabaseUrl, parse_database_url

Row = Sequence[Any]
Params = Sequence[object]


class StorageError(Exception):
    """The database cannot be used (unreachable, refused the login, driver missing…)."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few spellings that differ between the backends."""

    name: str
    json_text: Callable[[str], str]
    """The SQL for a JSON scalar stored in a column, as text (or number, on SQLite)."""
    lock_rows: Callable[[str], str]
    """The clause a claiming subquery ends with, given the claimed table (or its alias)."""


SQLITE = Dialect(
    name="sqlite",
    json_text=lambda column: f"json_extract({column}, '$')",
    # One writer at a time (BEGIN IMMEDIATE): a claim cannot race another one.
    lock_rows=lambda _table: "",
)

POSTGRES = Dialect(
    name="postgres",
    json_text=lambda column: f"({column} #>> '{{}}')",
    # Rows another transaction is claiming are skipped, not waited for, nor taken twice.
    lock_rows=lambda table: f" FOR UPDATE OF {table} SKIP LOCKED",
)


class Connection(Protocol):
    """Statements inside one transaction."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def lock(self, namespace: int, key: int) -> None:
        """Hold a lock on (namespace, key) until this transaction ends, across processes
        sharing the database (a no-op where transactions are already serialised)."""
        ...


class Database(Protocol):
    dialect: Dialect
    shared: bool
    """True when other processes may use the same database at the same time."""
    lost: asyncio.Event
    """Set when this instance stopped counting as alive (see `hold_instance`)."""

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    def iterate(self, sql: str, batch: int) -> AsyncIterator[list[Row]]:
        """The rows of a query, a batch at a time (for copying whole tables)."""
        ...

    def script(self, text: str) -> tuple[str, ...]:
        """A migration file as the statements to execute (one, where the driver allows it)."""
        ...

    async def hold_instance(self, instance: int) -> None:
        """Make `instance` appear in the `live_instances` relation for as long as this
        process lives (or until `close`)."""
        ...

    async def watch(self, callback: Callable[[int], None]) -> None:
        """Call `callback(user_key)` when another process finishes an update of that user."""
        ...

    async def try_hold(self, namespace: int, key: int) -> bool:
        """Take (or keep) a lock on (namespace, key) for this instance's lifetime, unless
        another live instance holds it; True when this instance holds it."""
        ...

    # For `hiwar migrate-db`: the schema as the database describes it.
    async def tables(self) -> list[str]: ...
    async def columns(self, table: str) -> list[str]: ...
    async def parents(self, table: str) -> set[str]:
        """Tables this one references by foreign key."""
        ...

    async def after_bulk_load(self, tables: Sequence[str]) -> None:
        """Bring generated ids past the copied rows."""
        ...

    async def close(self) -> None: ...


async def connect(url: str | Path | DatabaseUrl) -> Database:
    """The driver for a database URL (see storage/url.py); migrations are not run here."""
    parsed = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    if parsed.backend == "sqlite":
        from storage.sqlite import SqliteDatabase

        return await SqliteDatabase.connect(parsed.path)
    from storage.postgres import PostgresDatabase

    return await PostgresDatabase.connect(parsed)

"""PostgreSQL through an asyncpg pool, for several instances sharing one database.

The application's SQL is written once with `?` placeholders; `numbered` turns them into
asyncpg's `$1, $2, …` (the only translation there is). Transactions are READ COMMITTED;
where two instances could race, the SQL claims rows with `FOR UPDATE SKIP LOCKED`
(Dialect.lock_rows) or takes a transaction-scoped advisory lock (`Connection.lock`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from storage.database import INSTANCE_LOCKS, POSTGRES, Database, Failure, Params, Row, StorageError
from storage.url import DatabaseUrl

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

POOL_SIZE = 16
"""Connections per instance: statements are short, so a few serve many concurrent updates."""
NOTIFY_CHANNEL = "hiwar_inbox"
"""Sent by the trigger of migrations/postgres/0005_instances.sql."""
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as `$1, $2, …`; quoted literals and identifiers are left alone."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() != "?":
            return match.group()
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _rowcount(status: str) -> int:
    """The row count in a command tag such as `UPDATE 3` or `INSERT 0 1` (0 if none)."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Transaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        if not params:  # the simple protocol: also runs whole scripts (migrations)
            return _rowcount(await self._conn.execute(sql))
        return _rowcount(await self._conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(numbered(sql), [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self._conn.fetch(numbered(sql), *params)]

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row = await self._conn.fetchrow(numbered(sql), *params)
        return None if row is None else tuple(row)

    async def lock(self, namespace: int, key: int) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock($1, $2)", namespace, key)


class PostgresDatabase(Database):
    dialect = POSTGRES
    shared = True

    def __init__(self, pool: asyncpg.Pool, url: DatabaseUrl) -> None:
        super().__init__()
        self._pool = pool
        self._url = url
        self._holder: asyncpg.Connection | None = None
        """The connection holding this instance's advisory locks, and LISTENing."""
        self._holding_lock = asyncio.Lock()
        self._held: set[tuple[int, int]] = set()

    @classmethod
    async def connect(cls, url: DatabaseUrl) -> PostgresDatabase:
        try:
            import asyncpg
        except ImportError:
            raise StorageError(
                "PostgreSQL needs the asyncpg driver: pip install 'hiwar[postgres]'"
            ) from None
        try:
            pool = await asyncpg.create_pool(url.target, min_size=1, max_size=POOL_SIZE)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise StorageError(f"cannot connect to {url}: {reason}") from None
        database = cls(pool, url)
        database.driver_errors = (asyncpg.PostgresError, asyncpg.InterfaceError)
        return database

    def failure(self, error: BaseException) -> Failure | None:
        import asyncpg

        if isinstance(
            error,
            asyncpg.DeadlockDetectedError
            | asyncpg.SerializationError
            | asyncpg.LockNotAvailableError
            | asyncpg.TooManyConnectionsError,
        ):
            return Failure.TRANSIENT
        if isinstance(
            error,
            OSError
            | asyncpg.PostgresConnectionError
            | asyncpg.InterfaceError
            | asyncpg.InsufficientResourcesError
            | asyncpg.ReadOnlySQLTransactionError
            | asyncpg.DataCorruptedError
            | asyncpg.OperatorInterventionError,
        ):
            return Failure.PERSISTENT
        return None

    async def purge_erased(self) -> None:
        """Deleted rows are invisible at once and their space is reclaimed by autovacuum;
        what PostgreSQL keeps meanwhile (dead tuples, WAL segments) is the server's."""

    async def close(self) -> None:
        if self._holder is not None:
            self._holder.remove_termination_listener(self._lost)
            await self._holder.close()  # the instance's lock goes with it
            self._holder = None
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Transaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _Transaction(conn)

    async def _fetchall(self, sql: str, params: Params) -> list[Row]:
        return [tuple(row) for row in await self._pool.fetch(numbered(sql), *params)]

    async def _fetchone(self, sql: str, params: Params) -> Row | None:
        row = await self._pool.fetchrow(numbered(sql), *params)
        return None if row is None else tuple(row)

    async def iterate(self, sql: str, batch: int) -> AsyncIterator[list[Row]]:
        async with self._pool.acquire() as conn, conn.transaction():
            cursor = await conn.cursor(sql)
            while rows := await cursor.fetch(batch):
                yield [tuple(row) for row in rows]

    def script(self, text: str) -> tuple[str, ...]:
        return (text,)  # one simple-protocol query: PL/pgSQL bodies need no splitting

    async def _holding(self) -> asyncpg.Connection:
        if self._holder is None:
            import asyncpg

            self._holder = await asyncpg.connect(self._url.target)
            self._holder.add_termination_listener(self._lost)
        return self._holder

    def _lost(self, _connection: Any) -> None:
        """The server dropped the locks with the connection: to the other instances this one
        is dead, and they take over its work. Carrying on would do that work twice."""
        log.error("instance_lock_lost", extra={"database": str(self._url)})
        self.lost.set()

    async def hold_instance(self, instance: int) -> None:
        async with self._holding_lock:
            holder = await self._holding()
            await holder.execute("SELECT pg_advisory_lock($1, $2)", INSTANCE_LOCKS, instance)

    async def watch(self, callback: Callable[[int], None]) -> None:
        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            callback(int(payload))

        async with self._holding_lock:
            await (await self._holding()).add_listener(NOTIFY_CHANNEL, notified)

    async def try_hold(self, namespace: int, key: int) -> bool:
        async with self._holding_lock:
            if (namespace, key) not in self._held:
                holder = await self._holding()
                if not await holder.fetchval("SELECT pg_try_advisory_lock($1, $2)", namespace, key):
                    return False
                self._held.add((namespace, key))
            return True

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " ORDER BY table_name"
        )
        return [row[0] for row in rows]

    async def columns(self, table: str) -> list[str]:
        rows = await self.fetchall(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in rows]

    async def parents(self, table: str) -> set[str]:
        rows = await self.fetchall(
            "SELECT DISTINCT p.relname FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid"
            " WHERE c.contype = 'f' AND t.relname = ?"
            " AND t.relnamespace = current_schema()::regnamespace",
            (table,),
        )
        return {row[0] for row in rows}

    async def after_bulk_load(self, tables: Sequence[str]) -> None:
        identities = await self.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        async with self.atomic() as db:
            for table, column in identities:
                if table not in tables:
                    continue
                await db.fetchone(
                    "SELECT setval(pg_get_serial_sequence(?, ?),"
                    f" COALESCE((SELECT MAX({_quoted(column)}) FROM {_quoted(table)}), 0) + 1,"
                    " false)",
                    (_quoted(table), column),
                )

"""The seam between the application's SQL and a database driver.

The stores (respondents, inbox, instances, reports, invitations) write one SQL text for both
backends, with `?` placeholders, portable upserts (`ON CONFLICT … DO NOTHING/UPDATE`) and
`RETURNING`. A `Database` runs it: `storage/sqlite.py` on aiosqlite, `storage/postgres.py` on
an asyncpg pool (which turns `?` into `$n`). What cannot be written the same way is either in
the per-backend migrations (types, triggers, views) or in the small `Dialect` table below.

Transactions are `atomic()` blocks, which nest: the outermost is the transaction, the inner
ones savepoints (the semantics of Django's `transaction.atomic`). Every store method runs in
one that joins the caller's block without a savepoint (`savepoint=False`: they cost a round
trip each), so a use case wrapping several store calls in a block commits them together.
"""

from __future__ import annotations

import asyncio
import itertools
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Protocol

Row = Sequence[Any]
Params = Sequence[object]

# Advisory lock namespaces (PostgreSQL's two-key locks), all here so that none collide.
INSTANCE_LOCKS = 0x68697761
"""Held by each live instance on its number (migrations/postgres/0005 reads it back)."""
USER_LOCKS = INSTANCE_LOCKS + 1
"""Transaction locks serialising the turns of one user's updates."""
MIGRATION_LOCK = (INSTANCE_LOCKS + 2, 0)
"""Held while migrating."""
REPORT_QUESTIONS_LOCK = (INSTANCE_LOCKS + 3, 0)
"""Held while recounting the report tallies."""
PROGRESS_LOCKS = INSTANCE_LOCKS + 4
"""Held by the instance reporting a broadcast's progress; the key is the invitation id."""
AUDIT_LOCK = (INSTANCE_LOCKS + 5, 0)
"""Held while appending to the audit chain (instances sharing a database take turns)."""
SNAPSHOT_LOCK = (INSTANCE_LOCKS + 6, 0)
"""Held while publishing a report snapshot (one instance publishes each number)."""


def lock_key(value: int) -> int:
    """A 32-bit advisory lock key for any Telegram id (collisions only serialise more)."""
    return value % 2**31


class Failure(Enum):
    """What a database error means for the process (see README, "Nothing lost, nothing
    twice")."""

    TRANSIENT = "transient"
    """Locked or busy: worth retrying after a pause."""
    PERSISTENT = "persistent"
    """Disk full, read-only, I/O error, corruption, connection gone: retrying will not help;
    the process stops so that a supervisor restarts it."""


class StorageError(Exception):
    """The database cannot be used (unreachable, refused the login, driver missing…)."""


class TransactionAborted(RuntimeError):
    """An exception left a block joined without a savepoint, and was caught inside the
    enclosing block: what the joined block wrote may be half done, so that one rolled back."""


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


@dataclass(slots=True)
class _Block:
    """The transaction, or the savepoint in it, that a task is in."""

    owner: asyncio.Task[Any] | None
    connection: Connection
    doomed: bool = False
    """An exception left a block joined without a savepoint: this one can only roll back."""


class Database(ABC):
    """One open database, shared by all the stores of a process."""

    dialect: ClassVar[Dialect]
    shared: ClassVar[bool]
    """True when other processes may use the same database at the same time."""
    driver_errors: tuple[type[Exception], ...]
    """The driver's own errors (a damaged or foreign schema shows up as one of these)."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()
        """Set when this instance stopped counting as alive (see `hold_instance`)."""
        self._block: ContextVar[_Block | None] = ContextVar("hiwar_atomic", default=None)
        self._savepoints = itertools.count(1)

    @asynccontextmanager
    async def atomic(self, savepoint: bool = True) -> AsyncIterator[Connection]:
        """A transaction, or a savepoint inside the one this task is in already.

        An exception leaving a block undoes what was written in it and propagates; the
        outermost block commits everything or nothing. With `savepoint=False` an inner block
        simply joins the enclosing one, which then cannot commit if an exception left the
        inner block (it raises TransactionAborted instead, having rolled back).

        Blocks belong to the task that opened them: another task, even one started inside a
        block (or by `asyncio.wait_for`), runs its own transaction, which on SQLite waits
        for this one to end.
        """
        block = self._joined()
        if block is None:
            async with self._transaction() as connection:
                with self._entered(_Block(asyncio.current_task(), connection)):
                    yield connection
        elif not savepoint:
            try:
                yield block.connection
            except BaseException:
                block.doomed = True
                raise
        else:
            name = f"atomic_{next(self._savepoints)}"
            await block.connection.execute(f"SAVEPOINT {name}")
            try:
                with self._entered(_Block(block.owner, block.connection)):
                    yield block.connection
            except BaseException:
                await block.connection.execute(f"ROLLBACK TO SAVEPOINT {name}")
                await block.connection.execute(f"RELEASE SAVEPOINT {name}")
                raise
            await block.connection.execute(f"RELEASE SAVEPOINT {name}")

    def rebuilding_tables(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction that may drop and remake tables others reference (see
        storage/migrations.py): their foreign keys are checked when it ends, not acted on.
        Where constraints can be dropped and added inside a transaction, a plain one."""
        return self.atomic()

    @contextmanager
    def _entered(self, block: _Block) -> Iterator[None]:
        """`block` is this task's innermost one until it ends (rolled back if doomed)."""
        token = self._block.set(block)
        try:
            yield
        finally:
            self._block.reset(token)
        if block.doomed:
            raise TransactionAborted(
                "an exception left a store call in this atomic block and was caught inside it"
            )

    def _joined(self) -> _Block | None:
        block = self._block.get()
        return block if block is not None and block.owner is asyncio.current_task() else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a query: inside an atomic block, through its transaction."""
        block = self._joined()
        if block is not None:
            return await block.connection.fetchall(sql, params)
        return await self._fetchall(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        block = self._joined()
        if block is not None:
            return await block.connection.fetchone(sql, params)
        return await self._fetchone(sql, params)

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A new transaction, committed when the block exits normally."""

    @abstractmethod
    async def _fetchall(self, sql: str, params: Params) -> list[Row]:
        """A read outside any transaction of this task."""

    @abstractmethod
    async def _fetchone(self, sql: str, params: Params) -> Row | None: ...

    @abstractmethod
    def iterate(self, sql: str, batch: int) -> AsyncIterator[list[Row]]:
        """The rows of a query, a batch at a time (for copying whole tables; not inside an
        atomic block)."""

    @abstractmethod
    def script(self, text: str) -> tuple[str, ...]:
        """A migration file as the statements to execute (one, where the driver allows it)."""

    @abstractmethod
    async def hold_instance(self, instance: int) -> None:
        """Make `instance` appear in the `live_instances` relation for as long as this
        process lives (or until `close`)."""

    @abstractmethod
    async def watch(self, callback: Callable[[int], None]) -> None:
        """Call `callback(user_key)` when another process finishes an update of that user."""

    @abstractmethod
    async def try_hold(self, namespace: int, key: int) -> bool:
        """Take (or keep) a lock on (namespace, key) for this instance's lifetime, unless
        another live instance holds it; True when this instance holds it."""

    # For `hiwar migrate-db`: the schema as the database describes it.
    @abstractmethod
    async def tables(self) -> list[str]: ...

    @abstractmethod
    async def columns(self, table: str) -> list[str]: ...

    @abstractmethod
    async def parents(self, table: str) -> set[str]:
        """Tables this one references by foreign key."""

    @abstractmethod
    async def after_bulk_load(self, tables: Sequence[str]) -> None:
        """Bring generated ids past the copied rows."""

    @abstractmethod
    def failure(self, error: BaseException) -> Failure | None:
        """What `error` means, if it is this database's (None: not a database error)."""

    @abstractmethod
    async def purge_erased(self) -> None:
        """Remove the copies that the database keeps of rows just deleted, beyond the rows
        themselves (SQLite: its write-ahead log; deleted content is zeroed as it is freed,
        `secure_delete`). Not inside an atomic block."""

    @abstractmethod
    async def close(self) -> None: ...

"""`Database.atomic()` on both backends: inner blocks are savepoints, the outermost commits
everything or nothing, reads inside a block go through it, and each task has its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage.backends import connect
from storage.database import Database, TransactionAborted


class Boom(Exception):
    """A failure inside a block."""


@pytest.fixture
async def db(database: str) -> AsyncIterator[Database]:
    opened = await connect(database)
    async with opened.atomic() as tx:
        await tx.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY)")
    yield opened
    await opened.close()


async def notes(db: Database) -> list[int]:
    return [row[0] for row in await db.fetchall("SELECT n FROM notes ORDER BY n")]


async def add(db: Database, n: int) -> None:
    async with db.atomic(savepoint=False) as tx:  # as a store method does
        await tx.execute("INSERT INTO notes (n) VALUES (?)", (n,))


async def test_nested_blocks_commit_together(db: Database):
    async with db.atomic():
        await add(db, 1)
        async with db.atomic():
            await add(db, 2)
            async with db.atomic():
                await add(db, 3)
    assert await notes(db) == [1, 2, 3]


async def test_a_failed_inner_block_undoes_only_its_own_writes(db: Database):
    async with db.atomic():
        await add(db, 1)
        with pytest.raises(Boom):
            async with db.atomic():
                await add(db, 2)
                raise Boom
        # A statement the database refuses: PostgreSQL would refuse everything after it in
        # the transaction, were it not inside a savepoint.
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            async with db.atomic():
                await add(db, 1)
        await add(db, 3)
    assert await notes(db) == [1, 3]


async def test_a_failed_outer_block_undoes_the_inner_ones_too(db: Database):
    with pytest.raises(Boom):
        async with db.atomic():
            await add(db, 1)
            async with db.atomic():
                await add(db, 2)
            raise Boom
    assert await notes(db) == []


async def test_a_caught_failure_of_a_joined_block_rolls_back_the_enclosing_one(db: Database):
    with pytest.raises(TransactionAborted):
        async with db.atomic():
            await add(db, 1)
            with pytest.raises(Boom):
                async with db.atomic(savepoint=False):  # a store method failing half-way
                    await add(db, 2)
                    raise Boom
    assert await notes(db) == []
    async with db.atomic():
        await add(db, 3)
        with pytest.raises(Boom):
            async with db.atomic(), db.atomic(savepoint=False):  # a savepoint contains it
                await add(db, 4)
                raise Boom
    assert await notes(db) == [3]


async def test_reads_inside_a_block_see_its_uncommitted_writes(db: Database):
    async with asyncio.timeout(10), db.atomic():  # on SQLite a read elsewhere would wait forever
        await add(db, 5)
        assert await notes(db) == [5]
        async with db.atomic():
            await add(db, 6)
            assert await db.fetchone("SELECT COUNT(*) FROM notes") == (2,)
    assert await notes(db) == [5, 6]


async def test_concurrent_tasks_neither_see_nor_join_each_others_transaction(db: Database):
    written = asyncio.Event()

    async def failing() -> None:
        with pytest.raises(Boom):
            async with db.atomic():
                await add(db, 1)
                written.set()
                await asyncio.sleep(0.2)  # the other task runs (PostgreSQL) or waits (SQLite)
                raise Boom

    async def succeeding() -> None:
        await written.wait()
        async with db.atomic():
            assert await notes(db) == []  # not the other's uncommitted write
            await add(db, 2)

    await asyncio.wait_for(asyncio.gather(failing(), succeeding()), 10)
    assert await notes(db) == [2]  # not rolled back with the other


async def test_a_task_started_inside_a_block_runs_its_own_transaction(db: Database):
    with pytest.raises(Boom):
        async with db.atomic():
            await add(db, 1)
            child = asyncio.create_task(add(db, 2))
            await asyncio.sleep(0.1)
            raise Boom
    await asyncio.wait_for(child, 10)
    assert await notes(db) == [2]

"""`hiwar migrate-db`: copy a whole deployment between databases (SQLite ⇄ PostgreSQL).

Both sides are first brought to the latest schema by their own migrations, so the tables and
columns match; then every table is copied in foreign-key order, in one transaction on the
target (a failure leaves it empty), and the row counts of each table are compared at the end.
The target must be empty: copying into a database in use would mix two deployments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.backends import connect
from storage.database import Database, StorageError
from storage.migrations import apply_migrations
from storage.url import DatabaseUrl, parse_database_url

BATCH = 2_000
SKIPPED = frozenset({"schema_migrations"})
"""Each side records its own migrations."""


class CopyRefused(StorageError):
    """The copy cannot be made (the message is one line)."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {_quoted(table)}")
    return int(row[0]) if row else 0


async def _in_dependency_order(db: Database, tables: list[str]) -> list[str]:
    """Parents before children, so that foreign keys hold after each insert."""
    parents = {table: (await db.parents(table)) & set(tables) - {table} for table in tables}
    ordered: list[str] = []
    while parents:
        ready = sorted(t for t, needs in parents.items() if needs <= set(ordered))
        if not ready:
            raise CopyRefused(f"circular foreign keys between {sorted(parents)}")
        ordered += ready
        for table in ready:
            del parents[table]
    return ordered


async def copy_database(
    source_url: str | DatabaseUrl,
    target_url: str | DatabaseUrl,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[TableCount]:
    """Copy every table of the source into the empty target; returns the per-table counts
    (all equal, or CopyRefused is raised)."""
    source_url = parse_database_url(source_url) if isinstance(source_url, str) else source_url
    target_url = parse_database_url(target_url) if isinstance(target_url, str) else target_url
    if source_url == target_url:
        raise CopyRefused("the source and the target are the same database")
    source = await connect(source_url)
    try:
        target = await connect(target_url)
        try:
            return await _copy(source, target, progress)
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(
    source: Database, target: Database, progress: Callable[[str], None]
) -> list[TableCount]:
    await apply_migrations(source)
    await apply_migrations(target)
    tables = [t for t in await source.tables() if t not in SKIPPED]
    missing = sorted(set(tables) - set(await target.tables()))
    if missing:
        raise CopyRefused(f"the target has no table {', '.join(missing)}")
    for table in tables:
        if rows := await _count(target, table):
            raise CopyRefused(
                f"the target database is not empty ({table} has {rows} rows):"
                " copy only into a new, empty database"
            )
    ordered = await _in_dependency_order(target, tables)
    columns: dict[str, list[str]] = {}
    for table in ordered:
        present = set(await source.columns(table))
        columns[table] = [c for c in await target.columns(table) if c in present]
    async with target.atomic() as into:
        for table in ordered:
            names = ", ".join(map(_quoted, columns[table]))
            insert = (
                f"INSERT INTO {_quoted(table)} ({names})"
                f" VALUES ({', '.join('?' * len(columns[table]))})"
            )
            async for rows in source.iterate(f"SELECT {names} FROM {_quoted(table)}", BATCH):
                await into.executemany(insert, rows)
            progress(f"copied {table}")
    await target.after_bulk_load(ordered)
    counts = [
        TableCount(table, await _count(source, table), await _count(target, table))
        for table in ordered
    ]
    wrong = [c for c in counts if c.source != c.target]
    if wrong:
        raise CopyRefused(
            "row counts differ after the copy: "
            + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong)
        )
    return counts

"""Numbered SQL migrations, one folder per backend, each applied in the same transaction as
the row that records it.

`migrations/sqlite/` and `migrations/postgres/` hold the same numbered names: the schema is
the same, spelled for each backend (types, triggers, views). Every instance runs them at
start-up; on PostgreSQL a transaction-scoped advisory lock lets one instance at a time apply
them, and the others then find them recorded.

A migration whose first line is `-- hiwar: rebuilds tables` changes a table the only way
SQLite can (https://www.sqlite.org/lang_altertable.html#otheralter): it makes a new table,
copies the rows, drops the old one and renames the new one. It runs in
`Database.rebuilding_tables()`, where the foreign keys are not acted on (dropping the old
table would otherwise cascade) and are checked before the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.database import MIGRATION_LOCK, Connection, Database, StorageError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
REBUILDS_TABLES = "-- hiwar: rebuilds tables"


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    statements: tuple[str, ...]
    rebuilds_tables: bool = False


def migration_files(dialect: str, directory: Path = MIGRATIONS_DIR) -> list[Path]:
    return sorted(p for p in (directory / dialect).glob("*.sql") if _NAME.match(p.name))


def load_migrations(db: Database, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in migration_files(db.dialect.name, directory):
        text = path.read_text("utf-8")
        migrations.append(
            Migration(path.stem, db.script(text), text.startswith(REBUILDS_TABLES + "\n"))
        )
    return migrations


async def _recorded(db: Connection) -> set[str]:
    await db.lock(*MIGRATION_LOCK)
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return {row[0] for row in await db.fetchall("SELECT name FROM schema_migrations")}


async def apply_migrations(db: Database, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied (none the second time)."""
    async with db.atomic() as tx:
        done = await _recorded(tx)
    known = {migration.name for migration in load_migrations(db, directory)}
    if unknown := sorted(done - known):
        raise StorageError(
            f"the database was written by a newer Hiwar (migrations {', '.join(unknown)} are "
            "unknown to this version); run the newer version, or restore a matching backup"
        )
    applied = []
    for migration in load_migrations(db, directory):
        if migration.name in done:
            continue
        transaction = db.rebuilding_tables() if migration.rebuilds_tables else db.atomic()
        async with transaction as tx:
            if migration.name in await _recorded(tx):
                continue  # another instance applied it meanwhile
            for statement in migration.statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (migration.name, datetime.now(UTC).isoformat()),
            )
        applied.append(migration.name)
    return applied

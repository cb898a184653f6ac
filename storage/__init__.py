"""Everything that knows which database the application talks to (SQLite or PostgreSQL).

`open_storage(url)` gives the process's `Storage`: every store on one database handle, and
`atomic()` for use cases whose writes, across stores, must be committed together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from storage.backends import connect
from storage.cards import LiveCards
from storage.database import Database, StorageError
from storage.inbox import Inbox
from storage.instances import Instances
from storage.invitations import Invitations
from storage.migrations import apply_migrations
from storage.reminders import Reminders
from storage.reports import Reports
from storage.respondents import Respondents
from storage.rounds import Rounds
from storage.surveys import Surveys
from storage.url import DatabaseUrl


@dataclass(frozen=True, slots=True)
class Storage:
    """The stores of one process, all on one database handle."""

    database: Database
    respondents: Respondents
    inbox: Inbox
    instances: Instances
    reports: Reports
    invitations: Invitations
    reminders: Reminders
    cards: LiveCards
    surveys: Surveys
    rounds: Rounds

    @property
    def shared(self) -> bool:
        """True when other processes may use the database at the same time (PostgreSQL)."""
        return self.database.shared

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """Implements the domain's `Transactions`: see `Database.atomic`."""
        async with self.database.atomic():
            yield

    async def close(self) -> None:
        await self.database.close()


async def open_storage(url: str | Path | DatabaseUrl, *, default_language: str) -> Storage:
    """The storage for a database URL (`sqlite:///file`, `postgresql://…`, or a file path),
    its migrations applied; `default_language` is that of people who never chose one.
    Raises storage.database.StorageError, storage.url.BadDatabaseUrl."""
    database = await connect(url)
    try:
        await apply_migrations(database)
    except database.driver_errors as error:
        await database.close()
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StorageError(
            f"{url} does not hold Hiwar's schema (damaged, or another program's): {reason}"
        ) from None
    except BaseException:
        await database.close()
        raise
    instances = Instances(database)
    return Storage(
        database=database,
        respondents=Respondents(database),
        inbox=Inbox(database, instances),
        instances=instances,
        reports=Reports(database),
        invitations=Invitations(database, instances, default_language),
        reminders=Reminders(database, instances, default_language),
        cards=LiveCards(database),
        surveys=Surveys(database),
        rounds=Rounds(database),
    )


__all__ = ["Storage", "open_storage"]

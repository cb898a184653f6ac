"""Which process ("instance") is alive, and waking the updates that wait for one another.

Several instances on one PostgreSQL database (see README, "Several instances"): each one
inserts a row in `instances` and holds an advisory lock on its number (INSTANCE_LOCKS) for
as long as it lives; `live_instances` lists the numbers whose lock is held (on SQLite it is a
temporary table holding this process only). Work claimed by an instance that is not live any
more (a crash) is taken over by the others: inbox rows, invitation messages, reminders.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from storage.database import Database

log = logging.getLogger(__name__)


class Instances:
    """This process among the instances sharing the database."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._number: int | None = None
        self._registering = asyncio.Lock()
        self._waiters: dict[int, set[asyncio.Event]] = {}

    @property
    def lost(self) -> asyncio.Event:
        """Set if this process stopped counting as a live instance (PostgreSQL connection
        lost): it must stop, since the others are taking over its work."""
        return self._db.lost

    async def current(self) -> int:
        """This process's instance number, registered (and kept alive) on first use.

        Registering commits on its own: call this before opening an atomic block."""
        if self._number is None:
            async with self._registering:
                if self._number is None:
                    async with self._db.atomic(savepoint=False) as db:
                        row = await db.fetchone(
                            "INSERT INTO instances (started_at, host, pid) VALUES (?, ?, ?)"
                            " RETURNING instance",
                            (datetime.now(UTC).isoformat(), socket.gethostname(), os.getpid()),
                        )
                    assert row is not None
                    await self._db.hold_instance(row[0])
                    await self._db.watch(self.wake)
                    self._number = row[0]
                    log.info("instance_registered", extra={"instance": row[0]})
        return self._number

    async def beat(self, at: datetime, heard_at: datetime | None) -> None:
        """This instance is alive and could write at `at`; it last heard from Telegram at
        `heard_at` (None: it does not poll, a webhook brings updates)."""
        number = await self.current()
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE instances SET heartbeat_at = ?, heard_at = ? WHERE instance = ?",
                (at.isoformat(), heard_at.isoformat() if heard_at else None, number),
            )

    async def latest_beat(self) -> tuple[datetime, datetime | None] | None:
        """The newest heartbeat of any instance, and when that instance last heard from
        Telegram."""
        row = await self._db.fetchone(
            "SELECT heartbeat_at, heard_at FROM instances WHERE heartbeat_at IS NOT NULL"
            " ORDER BY heartbeat_at DESC LIMIT 1"
        )
        if row is None:
            return None
        return datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]) if row[1] else None

    @contextmanager
    def watch(self, user_key: int) -> Iterator[asyncio.Event]:
        """An event set when an update of this user is done, here or in another instance."""
        event = asyncio.Event()
        self._waiters.setdefault(user_key, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiters[user_key]
            waiting.discard(event)
            if not waiting:
                del self._waiters[user_key]

    def wake(self, user_key: int) -> None:
        """Set the events of everyone watching this user."""
        for event in self._waiters.get(user_key, ()):
            event.set()

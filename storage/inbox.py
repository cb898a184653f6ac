"""The durable update inbox (bot/inbox.py) and the ids of the updates already applied.

- The inbox's update_id primary key makes a re-delivered update a no-op on every instance.
- An update is applied only when it is its user's turn: no other update of that user is in
  progress, and none with a smaller update_id is waiting. Taking the turn is one
  transaction under a per-user transaction lock, so two instances never both take it.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from datetime import datetime
from enum import Enum

from storage.database import USER_LOCKS, Database, lock_key
from storage.instances import Instances


class Turn(Enum):
    GO = "go"
    """Apply it now: no other update of its user is in progress or older and waiting."""
    WAIT = "wait"
    """An update of the same user is in progress, or an older one is waiting."""
    GONE = "gone"
    """Not this instance's to apply any more: it was done, or taken over."""


def _ts(at: datetime) -> str:
    return at.isoformat()


class Inbox:
    """Implements bot.inbox.InboxStore and bot.core.ports.ProcessedUpdates."""

    def __init__(self, database: Database, instances: Instances) -> None:
        self._db = database
        self._instances = instances

    # -- updates already applied -------------------------------------------------------

    async def was_processed(self, update_id: int) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def claim_update(self, update_id: int, at: datetime) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            inserted = await db.execute(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)"
                " ON CONFLICT (update_id) DO NOTHING",
                (update_id, _ts(at)),
            )
        return inserted == 1

    # -- the inbox ---------------------------------------------------------------------

    async def inbox_add(
        self, update_id: int, user_key: int | None, payload: str, at: datetime
    ) -> bool:
        """Record an arriving update as this instance's; False when it was seen before (a
        re-delivery, to this instance or another one)."""
        owner = await self._instances.current()
        async with self._db.atomic(savepoint=False) as db:
            inserted = await db.execute(
                "INSERT INTO inbox (update_id, user_key, owner, payload, received_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
                (update_id, user_key, owner, payload, _ts(at)),
            )
        return inserted == 1

    async def inbox_turn(self, update_id: int, user_key: int | None, at: datetime) -> Turn:
        """Start this instance's update if it is its user's turn (see the module docstring)."""
        owner = await self._instances.current()
        async with self._db.atomic(savepoint=False) as db:
            if user_key is not None:
                await db.lock(USER_LOCKS, lock_key(user_key))
            started = await db.execute(
                "UPDATE inbox SET started_at = ?"
                " WHERE update_id = ? AND owner = ? AND done_at IS NULL AND NOT EXISTS ("
                " SELECT 1 FROM inbox o WHERE o.user_key = ? AND o.done_at IS NULL"
                " AND o.update_id <> ? AND (o.update_id < ? OR o.started_at IS NOT NULL))",
                (_ts(at), update_id, owner, user_key, update_id, update_id),
            )
            if started:
                return Turn.GO
            row = await db.fetchone(
                "SELECT owner, done_at FROM inbox WHERE update_id = ?", (update_id,)
            )
        if row is None or row[1] is not None or row[0] != owner:
            return Turn.GONE  # handled already, or taken over by another instance
        return Turn.WAIT

    def inbox_watch(self, user_key: int) -> AbstractContextManager[asyncio.Event]:
        """An event set when an update of this user is done, here or in another instance."""
        return self._instances.watch(user_key)

    async def inbox_done(self, update_id: int, user_key: int | None, at: datetime) -> None:
        """Handled: the update's content and its user go, only its id stays (for as long as
        Telegram may deliver it again, see `inbox_prune`). Two statements, so that the
        PostgreSQL trigger that wakes waiting instances still sees the user."""
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE inbox SET done_at = ?, payload = '' WHERE update_id = ?",
                (_ts(at), update_id),
            )
            await db.execute("UPDATE inbox SET user_key = NULL WHERE update_id = ?", (update_id,))
        if user_key is not None:
            self._instances.wake(user_key)

    async def inbox_adopt(self) -> list[str]:
        """Take over the updates received but not finished by instances no longer alive
        (after a crash: a previous run of this one); their payloads, oldest first."""
        owner = await self._instances.current()
        async with self._db.atomic(savepoint=False) as db:
            rows = await db.fetchall(
                "UPDATE inbox SET owner = ?, started_at = NULL"
                " WHERE done_at IS NULL AND (owner IS NULL"
                " OR owner NOT IN (SELECT instance FROM live_instances))"
                " RETURNING update_id, payload",
                (owner,),
            )
        return [payload for _update_id, payload in sorted(rows)]

    async def quarantine(
        self, update_id: int, user_key: int | None, payload: str, error: str, at: datetime
    ) -> bool:
        """Keep an update that cannot be parsed; False when it was kept already."""
        async with self._db.atomic(savepoint=False) as db:
            inserted = await db.execute(
                "INSERT INTO unparsable_updates (update_id, user_key, payload, error, received_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
                (update_id, user_key, payload, error, _ts(at)),
            )
        return inserted == 1

    async def inbox_prune(self, before: datetime) -> int:
        """Forget the ids of updates handled before `before` (Telegram delivers an update
        again for at most 24 hours); returns how many rows went."""
        async with self._db.atomic(savepoint=False) as db:
            pruned = await db.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (_ts(before),)
            )
            pruned += await db.execute(
                "DELETE FROM processed_updates WHERE processed_at < ?", (_ts(before),)
            )
            pruned += await db.execute(
                "DELETE FROM unparsable_updates WHERE received_at < ?", (_ts(before),)
            )
        return pruned

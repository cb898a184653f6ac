"""A durable update queue: every update is stored before Telegram learns it arrived.

PTB's updater confirms updates to Telegram with the next getUpdates offset (or the webhook's
200) right after putting them in `Application.update_queue`. Making that queue's `put` write
the update to the database first means a crash after the confirmation loses nothing: pending
updates are replayed at the next start, before new ones. Updates are marked done after
handling (see PerUserOrderedProcessor), and a re-delivered update is not queued twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from telegram import Bot, Update

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=1)
"""Telegram keeps an unconfirmed update for 24 hours, so remembering done ids longer is moot."""


class InboxStore(Protocol):
    async def inbox_add(self, update_id: int, payload: str, at: datetime) -> bool: ...
    async def inbox_done(self, update_id: int, at: datetime) -> None: ...
    async def inbox_pending(self) -> list[str]: ...
    async def inbox_prune(self, before: datetime) -> int: ...


class DurableUpdateQueue(asyncio.Queue[object]):
    def __init__(
        self, store: InboxStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        super().__init__()
        self._store = store
        self._clock = clock

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            payload = json.dumps(item.to_dict(), ensure_ascii=False)
            if not await self._store.inbox_add(item.update_id, payload, self._clock()):
                log.info("update_redelivered", extra={"update_id": item.update_id})
                return
        await super().put(item)

    async def replay_pending(self, bot: Bot) -> int:
        """Queue the updates a previous run stored but did not finish; returns how many."""
        await self._store.inbox_prune(self._clock() - KEEP_DONE)
        pending = await self._store.inbox_pending()
        for payload in pending:
            await super().put(Update.de_json(json.loads(payload), bot))
        if pending:
            log.info("updates_replayed", extra={"count": len(pending)})
        return len(pending)

    async def mark_done(self, update: object) -> None:
        if isinstance(update, Update):
            await self._store.inbox_done(update.update_id, self._clock())

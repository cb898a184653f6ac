"""Concurrent update processing that keeps each user's updates strictly in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> int | None:
    """Updates with the same key are processed one after another (None: no ordering needed)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class PerUserOrderedProcessor(BaseUpdateProcessor):
    """Different users' updates run concurrently; one user's run one at a time, in arrival order.

    PTB starts one task per update in arrival order. The first thing each task does is take
    its user's lock, before PTB's concurrency semaphore: asyncio locks wake waiters first in,
    first out, so a second tap can never overtake the first. Locks are dropped when unused.

    With `turns` (several instances sharing a database) the order is kept by the database
    instead, across instances: `turns(update)` waits until no other update of the user is in
    progress anywhere and none older is waiting (False: another instance handled it). No
    process-local lock then, which could hold a turn the database gives to another update.
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        on_done: Callable[[object], Awaitable[None]] | None = None,
        turns: Callable[[object], Awaitable[bool]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._on_done = on_done
        self._turns = turns

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._turns is not None:
            if not await self._turns(update):
                if isinstance(coroutine, Coroutine):
                    coroutine.close()
                return
            try:
                await super().process_update(update, coroutine)
            finally:
                if self._on_done is not None:
                    await self._on_done(update)
            return
        key = ordering_key(update)
        try:
            if key is None:
                await super().process_update(update, coroutine)
                return
            lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
            self._locks[key] = (lock, users + 1)
            try:
                async with lock:
                    await super().process_update(update, coroutine)
            finally:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
        finally:
            if self._on_done is not None:
                await self._on_done(update)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def users_in_flight(self) -> int:
        return len(self._locks)

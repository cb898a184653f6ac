"""What every feature may need from storage: transactions a use case owns, and the ids of
the updates already applied (so that one Telegram delivers again is not applied twice)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol


class Transactions(Protocol):
    def atomic(self) -> AbstractAsyncContextManager[None]:
        """A block whose writes, through any store, are committed together or not at all;
        blocks nest (an inner one failing undoes only its own writes)."""
        ...


class ProcessedUpdates(Protocol):
    async def was_processed(self, update_id: int) -> bool: ...
    async def claim_update(self, update_id: int, at: datetime) -> bool:
        """Record the update as applied; False (and nothing changed) when it was already."""
        ...

"""What reminders need from storage (storage/reminders.py implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.invitations.ports import Settlement
from bot.reminders.model import Reminder
from bot.reminders.schedule import Candidate


class ReminderStore(Protocol):
    async def candidates(self, answered_before: datetime, limit: int) -> list[Candidate]:
        """Responses that may be due a reminder: consented, not finished, started before
        `answered_before`, fewer than `limit` reminders queued, the person not opted out."""
        ...

    async def queue(self, candidate: Candidate, answered: int, total: int, at: datetime) -> bool:
        """Store the candidate's next reminder, due now, unless it is queued already (by
        another instance), the response finished meanwhile or the person opted out."""
        ...

    async def claim(self, now: datetime) -> Reminder | None:
        """One due reminder of an unfinished response, marked `sending`."""
        ...

    async def settle(self, settled: Sequence[tuple[Reminder, Settlement]], at: datetime) -> None:
        """Write outcomes back; a person who blocked the bot is opted out."""
        ...

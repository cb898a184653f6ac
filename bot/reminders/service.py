"""The reminders' use case: find the reminders due now and queue them for the delivery engine.

Run by a periodic job on every instance; queuing is one insert per reminder that the
database refuses when another instance queued it first, so nobody gets one twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from bot.core.clock import Clock
from bot.invitations import clock as wall_clock
from bot.reminders.ports import ReminderStore
from bot.reminders.schedule import Schedule
from bot.survey.service import OfferResume

log = logging.getLogger(__name__)


def _now() -> datetime:
    """The delivery engine's clock (tests move it to make reminders due)."""
    return wall_clock.now()


class WhereStopped(Protocol):
    async def where_stopped(self, user_id: int, response_id: int) -> OfferResume | None:
        """How far the person's unfinished response got (None: it is finished or gone)."""
        ...


class ReminderService:
    def __init__(
        self,
        store: ReminderStore,
        survey: WhereStopped,
        schedule: Schedule,
        clock: Clock = _now,
    ) -> None:
        self.store = store
        """Also what the delivery engine claims reminders from and settles them in."""
        self._survey = survey
        self.schedule = schedule
        self._clock = clock

    async def queue_due(self) -> int:
        """Queue every reminder due now; returns how many this call queued."""
        if not self.schedule.enabled:
            return 0
        now = self._clock()
        queued = 0
        earliest = now - self.schedule.delays[0]
        for candidate in await self.store.candidates(earliest, len(self.schedule.delays)):
            due = self.schedule.due_at(candidate)
            if due is None or due > now:
                continue
            stopped = await self._survey.where_stopped(candidate.user_id, candidate.response_id)
            if stopped is None:
                continue
            queued += await self.store.queue(candidate, stopped.answered, stopped.total, now)
        if queued:
            log.info("reminders_queued count=%d", queued)
        return queued

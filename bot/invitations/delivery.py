"""The delivery engine: sends stored send lists and due reminders, within Telegram's limits.

Every message is a row in the database before it is sent. Rows are marked `sending` just
before their API calls (a tenth of a second's worth at a time) and settled (sent, blocked,
failed, or pending again) as soon as the answer arrives, so a restart resumes where the
engine stopped:

- A graceful stop (SIGTERM, the Application stopping) claims nothing new, puts claimed rows
  not yet sent back to `pending` and waits for the calls in flight: nothing is left
  `sending`, nobody gets two copies, nobody is skipped.
- After a crash (kill -9) of this process, or of another instance sharing a PostgreSQL
  database, the rows it left `sending` are sent again by the live instances (each row
  carries the instance sending it): nobody is skipped. Someone receives a second copy only
  if Telegram had accepted their message in the instant between its answer and the commit
  of `sent` (the answer's trip back, parsing it, and one transaction shared with the other
  answers arriving then: a few milliseconds), so at most the messages in flight at that
  instant (`Tuning.max_in_flight`, in practice rate x round trip). A call that times out
  after Telegram received it is retried too, the other (rarer) source of a second copy.

Limits: one leaky bucket (aiolimiter) keeps every second under the configured rate; a
`RetryAfter` pauses all sending for exactly the time Telegram asks; someone who blocked the
bot is marked and never messaged again; transient errors are retried with exponential
backoff and given up after `Tuning.max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from aiolimiter import AsyncLimiter

from bot.invitations import clock
from bot.invitations.model import Delivery, DeliveryFigures, Invitation, SendState
from bot.invitations.ports import BroadcastStore, Settlement

log = logging.getLogger(__name__)


class SendFailure(Exception):
    """An API call that did not deliver; the subclass says what to do about it."""


class RateLimited(SendFailure):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class RecipientBlocked(SendFailure):
    """The person blocked the bot (403): never message them again."""


class TemporaryFailure(SendFailure):
    """Network trouble, a timeout or a server error: worth another try later."""


class PermanentFailure(SendFailure):
    """Telegram refused this message for good (e.g. the chat does not exist)."""


class Claimed(Protocol):
    """A claimed row of any kind of message: all the engine reads of it."""

    @property
    def attempts(self) -> int: ...


R = TypeVar("R", bound=Claimed)


class Outbox(Protocol):
    """The Telegram side, as the engine needs it. Each returns the message id."""

    async def invitation(self, invitation: Invitation, to: Delivery) -> int: ...
    async def reminder(self, invitation: Invitation, to: Delivery) -> int: ...
    async def progress(self, invitation: Invitation, figures: DeliveryFigures, final: bool) -> int:
        """Show the admin how the broadcast is going (a new message or an edit of it)."""
        ...


SETTLE_PATIENCE = 30.0
"""Seconds between the last tries to save sent messages' outcomes; when stopping, saving is
given up only once the wait has grown past this (the rows then stay `sending`)."""


@dataclass(frozen=True, slots=True)
class Tuning:
    max_attempts: int = 4
    """Tries before a person counts as failed (RetryAfter answers do not count)."""
    backoff: float = 2.0
    """Seconds before the second try; doubled for each further try."""
    max_in_flight: int = 64
    """API calls at once: enough for the rate times Telegram's round trip."""
    progress_every: float = 3.0
    idle_poll: float = 0.5
    """How often to look for new work when there is none."""
    reminder_scan_every: float = 5.0
    """Seconds between looks for due reminders (each a single indexed query)."""
    survey_reminders_every: float = 60.0
    """Seconds between looks for reminders to finish the survey that have become due (a scan
    of the unfinished responses; those queued are sent at the next reminder scan)."""
    reminder_first_scan: float = 0.5
    """Seconds after start-up; not 0, which APScheduler would push to the next interval."""
    drain_timeout: float = 15.0
    """How long a graceful stop waits for the calls in flight."""


def rate_limiter(rate: int) -> AsyncLimiter:
    """At most `rate` messages in any one second, while staying close to it.

    A leaky bucket of capacity `c` draining `r` per second lets through at most `c - 1 + r`
    messages in any second. A capacity a little over one message (10 ms worth of extra
    sends) lets sends woken late by a busy event loop catch up; `r` then leaves 2% of the
    rate for jitter between our clock and the arrival at Telegram. Net: 97% of `rate`.
    """
    extra = rate * 0.01
    drain = (rate - extra) * 0.98
    return AsyncLimiter(1 + extra, (1 + extra) / drain)


def settle(attempts: int, result: int | SendFailure, now: datetime, tuning: Tuning) -> Settlement:
    """What a send attempt means for its row; `attempts` counts the tries before this one."""
    match result:
        case int(message_id):
            return Settlement(SendState.SENT, attempts + 1, message_id=message_id)
        case RateLimited(seconds=seconds):
            return Settlement(
                SendState.PENDING, attempts, now + timedelta(seconds=seconds), error=str(result)
            )
        case RecipientBlocked():
            return Settlement(SendState.BLOCKED, attempts + 1, error=str(result))
        case PermanentFailure():
            return Settlement(SendState.FAILED, attempts + 1, error=str(result))
    tried = attempts + 1
    if tried >= tuning.max_attempts:
        return Settlement(SendState.FAILED, tried, error=str(result))
    wait = timedelta(seconds=tuning.backoff * 2 ** (tried - 1))
    return Settlement(SendState.PENDING, tried, now + wait, error=str(result))


class Broadcaster:
    """Runs in the background between `start()` and `stop()`; all its state is in the store."""

    def __init__(
        self,
        store: BroadcastStore,
        outbox: Outbox,
        rate: int,
        tuning: Tuning | None = None,
        on_failure: Callable[[BaseException], None] = lambda _error: None,
    ) -> None:
        """`on_failure` sees every storage error (the fault policy decides whether the
        process must stop)."""
        self._store = store
        self._on_failure = on_failure
        self._outbox = outbox
        self._tuning = tuning or Tuning()
        self._limiter = rate_limiter(rate)
        self._resume_at = 0.0
        """Loop time until which Telegram asked us not to send (RetryAfter)."""
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(self._tuning.max_in_flight)
        self._batch = max(1, rate // 10)
        self._unsettled: list[tuple[Delivery, Settlement]] = []
        self._settling = asyncio.Lock()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._invitations: dict[int, Invitation] = {}
        self._reported: dict[int, DeliveryFigures] = {}

    async def start(self) -> None:
        """Resume unfinished broadcasts: rows left `sending` by a crash are sent again."""
        await self._adopt()
        self._stopping.clear()
        self._loops = [
            asyncio.create_task(self._dispatch(), name="invitations-dispatch"),
            asyncio.create_task(self._watch(), name="invitations-progress"),
        ]

    async def stop(self) -> None:
        """Claim nothing new, let the calls in flight finish and settle, then return."""
        self._stopping.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._in_flight:
            done, pending = await asyncio.wait(self._in_flight, timeout=self._tuning.drain_timeout)
            for task in pending:
                task.cancel()
            log.info("broadcast_stopped drained=%d cancelled=%d", len(done), len(pending))

    async def send_due_reminders(self) -> int:
        """Send every reminder due now (run by a JobQueue job at start and periodically)."""
        now = clock.now()
        expired = await self._store.expire_reminders(now)
        if expired:
            log.info("reminders_expired count=%d", expired)

        async def send(row: Delivery) -> int:
            return await self._outbox.reminder(await self._invitation(row.invitation_id), row)

        return await self.send_due(self._store.claim_reminder, send, self._store.settle_reminders)

    async def send_due(
        self,
        claim: Callable[[datetime], Awaitable[R | None]],
        send: Callable[[R], Awaitable[int]],
        settle: Callable[[Sequence[tuple[R, Settlement]], datetime], Awaitable[object]],
    ) -> int:
        """Claim, send and settle due rows of one kind, one at a time, within the rate limit
        shared with everything else this engine sends; returns how many were sent."""
        sent = 0
        while await self._turn():
            row = await claim(clock.now())
            if row is None:
                break
            settlement = await self._attempt(row, send(row))
            await settle([(row, settlement)], clock.now())
            sent += settlement.state == SendState.SENT
        return sent

    async def report_progress(self) -> None:
        """Update each running broadcast's progress message; finish those with nothing left."""
        for invitation in await self._store.active_broadcasts():
            figures = await self._store.figures(invitation.id)
            final = figures.remaining == 0
            if not final and self._reported.get(invitation.id) == figures:
                continue
            if not await self._turn():
                return
            try:
                message_id: int | None = await self._outbox.progress(invitation, figures, final)
            except RateLimited as failure:
                self._pause(failure.seconds)
                continue
            except TemporaryFailure:
                continue
            except SendFailure as failure:
                log.warning("progress_report_failed invitation=%d %s", invitation.id, failure)
                message_id = None
            self._reported[invitation.id] = figures
            if message_id is not None and message_id != invitation.progress_message_id:
                await self._store.set_progress_message(invitation.id, message_id)
            if final:
                await self._store.finish_broadcast(invitation.id, clock.now())
                log.info("broadcast_finished invitation=%d %s", invitation.id, figures)

    # -- internals ---------------------------------------------------------------------

    async def _dispatch(self) -> None:
        """Send due rows, each when the rate limit allows, several at a time.

        Rows are claimed a few at a time (one transaction for a tenth of a second's worth);
        claimed rows not sent when stopping go back to pending.
        """
        claimed: deque[Delivery] = deque()
        try:
            while not self._stopping.is_set():
                await self._slots.acquire()
                try:
                    row = await self._next_delivery(claimed)
                except Exception as error:
                    self._on_failure(error)
                    log.exception("broadcast_claim_failed")
                    row = None
                    await self._sleep(self._tuning.idle_poll)
                if row is None:
                    self._slots.release()
                    continue
                task = asyncio.create_task(self._deliver(row))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
        finally:
            if claimed:
                await self._store.release_deliveries(list(claimed))

    async def _next_delivery(self, claimed: deque[Delivery]) -> Delivery | None:
        while await self._turn():
            if not claimed:
                claimed.extend(await self._store.claim_deliveries(clock.now(), self._batch))
            if claimed:
                return claimed.popleft()
            if await self._sleep(self._tuning.idle_poll):
                break
        return None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slots.release()

    async def _deliver(self, row: Delivery) -> None:
        try:
            invitation = await self._invitation(row.invitation_id)
            settlement = await self._attempt(row, self._outbox.invitation(invitation, row))
            await self._settle(row, settlement)
        except Exception:
            log.exception("delivery_failed invitation=%d", row.invitation_id)

    async def _settle(self, row: Delivery, settlement: Settlement) -> None:
        """Write the outcome; outcomes arriving meanwhile share one transaction (group commit).

        Returns once this outcome is committed: either by this call, or by the call that held
        the lock while it waited and found it queued.
        """
        self._unsettled.append((row, settlement))
        async with self._settling:
            delay = self._tuning.backoff
            while self._unsettled:
                batch = list(self._unsettled)
                try:
                    await self._store.settle_deliveries(batch, clock.now())
                except Exception as error:
                    # The message went out: its row must say so, or a restart sends it again.
                    # The save is retried (never the send) until it succeeds or we stop.
                    self._on_failure(error)
                    log.warning("settle_failed_retrying count=%d", len(batch))
                    if self._stopping.is_set() and delay > SETTLE_PATIENCE:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, SETTLE_PATIENCE * 2)
                    continue
                del self._unsettled[: len(batch)]

    async def _attempt(self, row: Claimed, call: Awaitable[int]) -> Settlement:
        """Await one API call and turn its result into the row's new state."""
        result: int | SendFailure
        try:
            result = await call
        except SendFailure as failure:
            result = failure
        except Exception as error:
            log.exception("send_failed_unexpectedly %s", type(row).__name__)
            result = TemporaryFailure(type(error).__name__)
        if isinstance(result, RateLimited):
            self._pause(result.seconds)
        return settle(row.attempts, result, clock.now(), self._tuning)

    def _pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)
        log.warning("broadcast_paused retry_after=%s", seconds)

    async def _turn(self) -> bool:
        """Wait until a message may go out (no RetryAfter pause, rate limit); False: stopping."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            pause = self._resume_at - loop.time()
            if pause > 0:
                await self._sleep(pause)
                continue
            await self._limiter.acquire()
            if self._resume_at <= loop.time():
                return True
        return False

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early on stop; True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _adopt(self) -> None:
        """Take over messages left `sending` by an instance that is gone (a crash, or another
        instance sharing the database that was killed); they are sent again."""
        requeued = await self._store.requeue_interrupted()
        if requeued:
            log.warning("broadcast_resumed requeued_sending=%d (possible duplicates)", requeued)

    async def _watch(self) -> None:
        while True:
            try:
                await self._adopt()
                await self.report_progress()
            except Exception as error:
                self._on_failure(error)
                log.exception("progress_report_failed")
            if await self._sleep(self._tuning.progress_every):
                return

    async def _invitation(self, invitation_id: int) -> Invitation:
        found = self._invitations.get(invitation_id)
        if found is None:
            found = await self._store.get_invitation(invitation_id)
            assert found is not None, invitation_id
            self._invitations[invitation_id] = found
        return found

"""What the invitations feature needs from storage, as small protocols (storage/ implements them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.invitations.audience import Selection
from bot.invitations.model import (
    Audience,
    Delivery,
    DeliveryFigures,
    Event,
    Invitation,
    InvitationSummary,
    OptOut,
    Rsvp,
    SendState,
)
from bot.invitations.wizard import Draft


@dataclass(frozen=True, slots=True)
class Settlement:
    """The outcome of one send attempt, as it is written back to its row."""

    state: SendState
    attempts: int
    retry_at: datetime | None = None
    """When `state` is pending again: not before this time."""
    message_id: int | None = None
    error: str | None = None


class DraftStore(Protocol):
    async def get_draft(self, admin_id: int) -> Draft | None: ...
    async def save_draft(self, admin_id: int, draft: Draft, at: datetime) -> None: ...
    async def delete_draft(self, admin_id: int) -> bool: ...


class RecipientStore(Protocol):
    async def count_recipients(self, selection: Selection) -> Mapping[str, int]:
        """Recipients by language: opted in, matching, and not opted out since."""
        ...

    async def launch(
        self,
        admin_id: int,
        admin_language: str,
        event: Event,
        audience: Audience,
        selection: Selection,
        remind_before: timedelta,
        at: datetime,
    ) -> tuple[int, int] | None:
        """Atomically: consume the admin's draft (which must be at the preview step), store
        the invitation and its whole send list. Returns (invitation id, recipients), or None
        when there was no such draft (e.g. Send tapped twice)."""
        ...


class RsvpStore(Protocol):
    async def invitation_sent_to(self, invitation_id: int, user_id: int) -> Invitation | None:
        """The invitation, if it was delivered to this person (and they are still stored)."""
        ...

    async def save_rsvp(
        self,
        invitation_id: int,
        user_id: int,
        answer: Rsvp,
        remind_at: datetime | None,
        at: datetime,
    ) -> bool:
        """Store the answer; schedule the reminder at `remind_at` (unless one was sent
        already, or the person unsubscribed), or with None cancel a reminder not sent yet.
        One transaction; True when a reminder is now scheduled."""
        ...

    async def opt_out(self, user_id: int, reason: OptOut, at: datetime) -> None:
        """Never invite or remind this person again; cancels what is still queued for them."""
        ...

    async def opt_in(self, user_id: int) -> bool:
        """Invitations and reminders again (after an opt-out); False: was not opted out."""
        ...

    async def summaries(self, limit: int) -> list[InvitationSummary]: ...


class BroadcastStore(Protocol):
    async def requeue_interrupted(self) -> int:
        """Messages left `sending` by an instance no longer alive (after a crash) go back to
        `pending`. Returns how many."""
        ...

    async def claim_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Mark up to `limit` due pending invitation messages `sending` and return them."""
        ...

    async def release_deliveries(self, rows: Sequence[Delivery]) -> None:
        """Claimed rows that will not be sent now (stopping) go back to `pending`."""
        ...

    async def settle_deliveries(
        self, settled: Sequence[tuple[Delivery, Settlement]], at: datetime
    ) -> None:
        """Write outcomes back in one transaction; `blocked` ones also opt the person out."""
        ...

    async def claim_reminder(self, now: datetime) -> Delivery | None:
        """One due reminder whose event has not started, marked `sending`."""
        ...

    async def settle_reminders(
        self, settled: Sequence[tuple[Delivery, Settlement]], at: datetime
    ) -> None: ...
    async def expire_reminders(self, now: datetime) -> int:
        """Reminders still pending when their event has started will never go out."""
        ...

    async def get_invitation(self, invitation_id: int) -> Invitation | None: ...
    async def active_broadcasts(self) -> list[Invitation]: ...
    async def figures(self, invitation_id: int) -> DeliveryFigures: ...
    async def set_progress_message(self, invitation_id: int, message_id: int) -> None: ...
    async def finish_broadcast(self, invitation_id: int, at: datetime) -> None: ...


class InvitationStore(DraftStore, RecipientStore, RsvpStore, BroadcastStore, Protocol):
    """Everything the invitations feature needs."""

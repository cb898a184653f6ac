"""Invitations as the domain sees them: the event, its audience, deliveries, RSVPs, figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.survey.model import Text


class Rsvp(StrEnum):
    ATTENDING = "yes"
    MAYBE = "maybe"
    DECLINED = "no"


REMINDED = frozenset({Rsvp.ATTENDING, Rsvp.MAYBE})
"""Answers that get a reminder before the event."""


class SendState(StrEnum):
    """Where one message (an invitation or a reminder) to one person stands.

    pending → sending → sent; or → pending again (retry later), blocked (the person blocked
    the bot), failed (gave up). cancelled: the person unsubscribed first. expired: a reminder
    whose event started before it could go out.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BroadcastStatus(StrEnum):
    SENDING = "sending"
    DONE = "done"


class OptOut(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BLOCKED = "blocked"


class Dimension(StrEnum):
    """What an audience can be filtered by."""

    SECTOR = "sector"
    LEVEL = "level"
    COUNTRY = "country"
    LANGUAGE = "language"


@dataclass(frozen=True, slots=True)
class Event:
    """What is announced: the same workshop in both languages."""

    title: Text
    description: Text
    starts_at: datetime
    """Timezone-aware, in the event's own zone."""
    duration: timedelta
    place: str
    """An address or an online link."""

    @property
    def time_zone(self) -> str:
        assert isinstance(self.starts_at.tzinfo, ZoneInfo)
        return self.starts_at.tzinfo.key

    @property
    def ends_at(self) -> datetime:
        """In the event's zone; elapsed time, so a clock change during the event counts."""
        return (self.starts_at.astimezone(UTC) + self.duration).astimezone(self.starts_at.tzinfo)

    @property
    def is_online(self) -> bool:
        return self.place.startswith(("https://", "http://"))


@dataclass(frozen=True, slots=True)
class Audience:
    """Everyone who opted in (no filters), narrowed by one or more dimensions.

    Within a dimension any chosen value matches; across dimensions all must match.
    """

    filters: Mapping[Dimension, frozenset[str]] = field(default_factory=dict)

    @property
    def is_everyone(self) -> bool:
        return not self.filters

    def values(self, dimension: Dimension) -> frozenset[str]:
        return self.filters.get(dimension, frozenset())

    def toggled(self, dimension: Dimension, value: str) -> Audience:
        chosen = self.values(dimension) ^ {value}
        filters = {d: v for d, v in self.filters.items() if d != dimension}
        if chosen:
            filters[dimension] = chosen
        return Audience({d: filters[d] for d in Dimension if d in filters})


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    event: Event
    audience: Audience
    created_by: int
    """The admin's user id (and private chat id): progress and the final report go there."""
    admin_language: str
    remind_before: timedelta
    status: BroadcastStatus
    created_at: datetime
    progress_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed row of a send list (or of the reminders): a message to one person."""

    invitation_id: int
    user_id: int
    language: str
    attempts: int
    """Attempts that got an answer other than "retry after" so far."""


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def remaining(self) -> int:
        return self.pending + self.sending

    @property
    def total(self) -> int:
        return self.remaining + self.sent + self.blocked + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class InvitationSummary:
    """One line of /invitations: the invitation, its delivery figures and RSVP counts."""

    invitation: Invitation
    figures: DeliveryFigures
    answers: Mapping[Rsvp, int]

    @property
    def unanswered(self) -> int:
        return max(self.figures.sent - sum(self.answers.values()), 0)

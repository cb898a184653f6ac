"""When a reminder is due: the schedule, quiet hours in the survey's time zone, and who is
left alone.

Reminder n (1 or 2) is due `delays[n - 1]` after the person's last answer; the second also
not sooner after the first than the gap between the two delays. Someone who paused with
/cancel is left alone for a day after pausing. A reminder due during quiet hours waits
until they end, in the survey's time zone (its clock changes included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PAUSE_RESPECTED = timedelta(days=1)
"""How long someone who paused with /cancel gets no reminder."""
MAX_REMINDERS = 2


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times between which nobody is messaged; `start` after `end` spans midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at` if it is outside quiet hours, else the moment they end (UTC)."""
        local = at.astimezone(zone)
        if not self.contains(local.time()):
            return at
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)  # in the evening part: they end tomorrow morning
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    delays: tuple[timedelta, ...]
    """After the last answer, one per reminder, increasing; empty: no reminders."""
    zone: ZoneInfo
    quiet: QuietHours | None = None

    def __post_init__(self) -> None:
        if len(self.delays) > MAX_REMINDERS or list(self.delays) != sorted(set(self.delays)):
            raise ValueError(f"at most {MAX_REMINDERS} increasing delays: {self.delays}")

    @property
    def enabled(self) -> bool:
        return bool(self.delays)

    def due_at(self, candidate: Candidate) -> datetime | None:
        """When the candidate's next reminder is due (UTC); None: no more reminders."""
        number = candidate.reminded
        if number >= len(self.delays):
            return None
        due = candidate.last_answer_at + self.delays[number]
        if candidate.paused_at is not None:
            due = max(due, candidate.paused_at + PAUSE_RESPECTED)
        if number and candidate.last_reminded_at is not None:
            gap = self.delays[number] - self.delays[number - 1]
            due = max(due, candidate.last_reminded_at + gap)
        return self.quiet.ends_after(due, self.zone) if self.quiet else due


@dataclass(frozen=True, slots=True)
class Candidate:
    """A response that consented, is not finished, and whose person accepts messages."""

    response_id: int
    user_id: int
    last_answer_at: datetime
    """Of the last answer; the start of the response if none was given yet."""
    paused_at: datetime | None
    """When the person paused with /cancel, if the response is paused."""
    reminded: int
    """Reminders queued for this response so far."""
    last_reminded_at: datetime | None = None

    @property
    def number(self) -> int:
        """The number of its next reminder."""
        return self.reminded + 1

"""A respondent and the saved state of their response (what storage returns to the domain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.sent import SentMessage

AnswerValue = str | int | float | list[str] | None
"""Option id, list of option ids, scale value 1..5, text or number; None means skipped."""


class Status(StrEnum):
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Respondent:
    user_id: int
    language: str | None
    consented_at: datetime | None


@dataclass(slots=True)
class Progress:
    response_id: int
    user_id: int
    survey_id: str
    survey_version: int
    respondent_code: str
    status: Status
    current: str | None
    """The question being asked; None once completed."""
    draft: tuple[str, ...] | None = None
    """Options toggled so far on the current multiple-choice question (None: untouched)."""
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    paste: SentMessage | None = None
    """The last part of a paste refused as too long (Telegram splits long pastes)."""
    source: str | None = None
    """The source of the campaign link the response was started through, if any."""
    round_id: int = 0
    """The round it was started in (0: none was open)."""
    earlier: dict[str, AnswerValue] = field(default_factory=dict)
    """The answers of the earlier response it starts from: each is shown with its question,
    to be kept with one tap or changed (only what is confirmed goes into `answers`)."""


@dataclass(frozen=True, slots=True)
class Campaign:
    """The campaign link a person last came through, as it applies to one survey."""

    source: str
    round_id: int | None
    """The link's round (None: the round open when the response starts)."""

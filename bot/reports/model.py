"""Plain values of the reports domain: coordinators, what they may filter by, what storage
counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.survey.model import ReportRole


@dataclass(frozen=True, slots=True)
class Coordinator:
    user_id: int
    name: str
    granted_by: int
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Grant:
    """A one-time invitation code, as stored (only its hash is kept)."""

    code_hash: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    for_user: int | None = None
    """The only person who may use the link (the admin named them); None: anyone may open
    it, and the admin then confirms who did."""
    opened_by: int | None = None
    """Who opened an unbound link, waiting for the admin's confirmation."""
    opened_name: str = ""
    cancelled: bool = False
    opened_language: str = ""
    """The language the opener's Telegram app uses (to tell them the outcome)."""

    @property
    def key(self) -> str:
        """A short handle for buttons (the hash's first 20 hex digits: 80 bits)."""
        return self.code_hash[:20]


DIMENSIONS: tuple[ReportRole, ...] = (ReportRole.COUNTRY, ReportRole.SECTOR, ReportRole.LEVEL)
"""The profile questions a summary can be filtered by, in the order they are offered."""


@dataclass(frozen=True, slots=True, order=True)
class Filter:
    """Only the respondents who gave `option_id` to the survey's `dimension` question."""

    dimension: ReportRole
    option_id: str

    def __str__(self) -> str:
        return f"{self.dimension}={self.option_id}"


@dataclass(frozen=True, slots=True)
class Cell:
    """Completed responses sharing one profile: option ids, '' where not answered."""

    country: str
    sector: str
    level: str
    respondents: int

    def value(self, dimension: ReportRole) -> str:
        match dimension:
            case ReportRole.COUNTRY:
                return self.country
            case ReportRole.SECTOR:
                return self.sector
            case ReportRole.LEVEL:
                return self.level
        raise ValueError(f"{dimension} is not a profile dimension")


@dataclass(frozen=True, slots=True, order=True)
class Tally:
    """How many completed responses at one level gave `item` to a counted question."""

    question_id: str
    item: str
    level: str
    answers: int

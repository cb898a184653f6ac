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

"""Plain values of the reports domain: who acts, what they may filter by, what storage counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.survey.model import ReportRole


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone sending a coordinator or admin command (their Telegram id and display name)."""

    user_id: int
    name: str


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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor_id: int
    actor_name: str
    role: Role
    action: str
    detail: str = ""


class Action(StrEnum):
    """What the audit log records (handlers/coordinator.py names each in both languages)."""

    SUMMARY = "summary"
    FILTERS = "filters"
    CHART = "chart"
    COMMENTS = "comments"
    EXPORT = "export"
    GRANT = "grant"
    JOINED = "joined"
    REVOKE = "revoke"
    ROLES = "roles"
    AUDIT = "audit"
    HELP = "help"


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

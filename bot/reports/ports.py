"""What the reports domain needs from storage, as small protocols (storage/reports.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.core.access import AuditEntry
from bot.reports.model import (
    EVERY_ENTRY,
    Arrival,
    AuditFilter,
    CampaignLink,
    Cell,
    Coordinator,
    Counted,
    Filter,
    Grant,
    History,
    Inputs,
    ReleasedComment,
    ReportRound,
    Scope,
    Tally,
)
from bot.survey.state import AnswerValue


class RoleStore(Protocol):
    async def coordinator(self, user_id: int) -> Coordinator | None: ...
    async def coordinators(self) -> list[Coordinator]: ...
    async def remove_coordinator(self, user_id: int) -> bool: ...
    async def granted_scopes(self) -> list[Scope]:
        """Every scope a coordinator was ever given (revoked ones too), everyone's apart."""
        ...

    async def add_grant(self, grant: Grant) -> None: ...
    async def grant(self, code_hash: str) -> Grant | None: ...
    async def use_grant(self, code_hash: str, coordinator: Coordinator) -> bool:
        """Mark the grant used and add the coordinator, atomically; False if already used."""
        ...

    async def pending_grants(self, now: datetime) -> list[Grant]: ...
    async def grant_by_key(self, key: str) -> Grant | None: ...
    async def open_grant(self, code_hash: str, user_id: int, name: str, language: str) -> bool:
        """Note who opened an unbound link; False when someone else did first."""
        ...

    async def add_link(self, link: CampaignLink, created_by: int, at: datetime) -> bool:
        """Store a new open campaign link; False if its survey has an open one for its
        source already."""
        ...

    async def links(self, survey_id: str) -> list[CampaignLink]:
        """The survey's campaign links (and those for any survey), open ones first."""
        ...

    async def close_link(self, survey_id: str, which: str, at: datetime) -> str | None:
        """Close the survey's open links of source `which`, or the one whose key it is; the
        source, or None if none was open."""
        ...

    async def arrive(self, user_id: int, code_hash: str, at: datetime) -> Arrival:
        """Note the link as the person's latest arrival, using one of its uses (none if it
        is their latest already), unless it is unknown, closed or used up."""
        ...

    async def cancel_grant(self, code_hash: str, at: datetime) -> bool:
        """Cancel a link not used yet; False when it was used or cancelled already."""
        ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...
    async def recent(
        self, limit: int, offset: int = 0, only: AuditFilter = EVERY_ENTRY
    ) -> list[AuditEntry]:
        """Newest first, skipping the `offset` newest, of those `only` lets through."""
        ...

    async def audit_size(self, only: AuditFilter = EVERY_ENTRY) -> int: ...
    async def audit_chain(self) -> list[tuple[int, AuditEntry, str | None]]:
        """Every entry, oldest first, with its id and its link in the chain."""
        ...


class ReportReader(Protocol):
    async def sync_questions(self, survey_id: str, roles: Mapping[str, str]) -> bool:
        """Record which questions feed the tallies; recount everything if that changed."""
        ...

    async def cells(self, survey_id: str) -> list[Cell]: ...
    async def tallies(self, survey_id: str, only: Filter | None) -> list[Tally]:
        """Tallies summed over the profile cells that match `only`, per question, item, level."""
        ...

    async def in_progress(self, survey_id: str, only: Filter | None) -> int:
        """Responses not completed yet, whose answers so far match `only`."""
        ...

    async def completed_answers(
        self, survey_id: str
    ) -> list[tuple[str, int, dict[str, AnswerValue]]]:
        """(respondent code, round, answers) of every completed response, ordered by code."""
        ...


class SnapshotStore(Protocol):
    """The snapshots of bot/reports/snapshots.py (storage/reports.py); `counted` says whose
    completed responses count."""

    async def snapshot_history(self, survey_id: str, round_id: int) -> History: ...
    async def snapshot_changes(
        self, survey_id: str, round_id: int, counted: Counted
    ) -> tuple[int, int]:
        """(counted responses not in any snapshot yet, those already in one)."""
        ...

    async def snapshot_inputs(
        self, survey_id: str, round_id: int, counted: Counted, comment_questions: Sequence[str]
    ) -> Inputs: ...
    async def save_snapshot(
        self,
        survey_id: str,
        round_id: int,
        number: int,
        published_at: datetime,
        population: int,
        released: Sequence[str],
        atoms: Mapping[int, int],
        views: Mapping[str, str],
        arrivals: Sequence[int],
        comment_questions: Sequence[str],
        counted: Counted,
    ) -> bool:
        """False when another instance published that number first."""
        ...

    async def snapshot_views(
        self, survey_id: str, round_id: int
    ) -> tuple[int, dict[str, str]] | None: ...
    async def released_comments(
        self, survey_id: str, round_id: int, question_id: str
    ) -> list[str]: ...
    async def released_comments_by_cell(
        self, survey_id: str, round_id: int, question_id: str
    ) -> list[ReleasedComment]: ...
    async def noise_key(self, survey_id: str, fresh: str) -> str: ...


class AccessStore(RoleStore, AuditLog, Protocol):
    """Roles and the audit log."""

    async def survey_ids(self) -> list[str]:
        """Every survey published or answered (for `/grant survey=ID`)."""
        ...

    async def report_rounds(self, survey_id: str) -> list[ReportRound]:
        """The survey's rounds, the first opened first, and round 0 (responses started while
        none was open) if it has any."""
        ...


class ReportStore(AccessStore, ReportReader, SnapshotStore, Protocol):
    """Everything the reports service needs."""

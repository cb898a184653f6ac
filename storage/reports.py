"""SQL of coordinator reports: roles, grant codes, the audit log and the report tallies.

The tallies (`report_cells`, `report_tallies`, migration 0002 of each backend) are kept in
step with the responses by triggers, so a summary reads a few hundred pre-counted rows
instead of every answer. `raw_aggregates` runs the same aggregation straight from the
answers, for the benchmark and for the tests that check the two agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.access import AuditEntry, Role, audit_digest
from bot.reports.model import (
    EVERY_ENTRY,
    Arrival,
    AuditFilter,
    CampaignLink,
    Cell,
    CellTally,
    Cohort,
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
from bot.survey.model import ReportRole
from bot.survey.state import AnswerValue
from storage.database import AUDIT_LOCK, REPORT_QUESTIONS_LOCK, SNAPSHOT_LOCK, Database

_COLUMNS: dict[ReportRole, str] = {
    ReportRole.COUNTRY: "country",
    ReportRole.SECTOR: "sector",
    ReportRole.LEVEL: "level",
}
"""Filterable profile columns; the only names ever formatted into SQL."""


def _ts(at: datetime) -> str:
    return at.isoformat()


def _dt(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def _where(only: Filter | None) -> tuple[str, tuple[str, ...]]:
    if only is None:
        return "", ()
    return f" AND {_COLUMNS[only.dimension]} = ?", (only.option_id,)


MAX_LISTED_LINKS = 40
"""/campaign lists this many links at most (open ones first), each open one with a button."""
_AUDIT_COLUMNS = "at, actor_id, actor_name, role, action, detail"
_GRANT_COLUMNS = (
    "code_hash, created_by, created_at, expires_at, used_by, for_user, opened_by,"
    " opened_name, cancelled_at, opened_language, scope, survey_id"
)
_COORDINATOR_COLUMNS = "user_id, display_name, granted_by, granted_at, scope, survey_id"


def _grant(row: Sequence[Any]) -> Grant:
    return Grant(
        row[0], row[1], _dt(row[2]), _dt(row[3]), row[4], row[5], row[6], row[7] or "",
        row[8] is not None, row[9] or "", Scope.parse(row[10]), row[11],
    )  # fmt: skip


def _coordinator(row: Sequence[Any]) -> Coordinator:
    return Coordinator(row[0], row[1], row[2], _dt(row[3]), Scope.parse(row[4]), row[5])


def _counted(counted: Counted, round_id: int) -> tuple[str, tuple[int, ...]]:
    """Completed responses of one round whose answers count: never those of coordinators and
    admins, and if asked only those started through a campaign link."""
    marks = ", ".join("?" * len(counted.staff))
    admins = f" AND r.user_id NOT IN ({marks})" if counted.staff else ""
    invited = " AND r.source IS NOT NULL" if counted.invited_only else ""
    return (
        "r.round_id = ? AND r.status = 'completed'" + admins + invited + " AND NOT EXISTS"
        " (SELECT 1 FROM coordinators c WHERE c.user_id = r.user_id)",
        (round_id, *counted.staff),
    )


def _audit_where(only: AuditFilter) -> tuple[str, tuple[object, ...]]:
    conditions, params = [], []
    if only.actor_id is not None:
        conditions.append("actor_id = ?")
        params.append(only.actor_id)
    if only.action is not None:
        conditions.append("action = ?")
        params.append(only.action)
    return (" WHERE " + " AND ".join(conditions) if conditions else ""), tuple(params)


def _audit_entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(_dt(row[0]), row[1], row[2], Role(row[3]), row[4], row[5])


class Reports:
    """Implements bot.reports.ports.ReportStore (either backend)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- roles -------------------------------------------------------------------------

    async def coordinator(self, user_id: int) -> Coordinator | None:
        row = await self._db.fetchone(
            f"SELECT {_COORDINATOR_COLUMNS} FROM coordinators WHERE user_id = ?", (user_id,)
        )
        return _coordinator(row) if row else None

    async def coordinators(self) -> list[Coordinator]:
        rows = await self._db.fetchall(
            f"SELECT {_COORDINATOR_COLUMNS} FROM coordinators ORDER BY granted_at, user_id"
        )
        return [_coordinator(r) for r in rows]

    async def granted_scopes(self) -> list[Scope]:
        """Every scope a coordinator was ever given (revoked ones too), everyone's apart."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT scope FROM grant_codes WHERE used_by IS NOT NULL AND scope <> '*'"
            " ORDER BY scope"
        )
        return [Scope.parse(r[0]) for r in rows]

    async def remove_coordinator(self, user_id: int) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            return await db.execute("DELETE FROM coordinators WHERE user_id = ?", (user_id,)) > 0

    async def add_grant(self, grant: Grant) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO grant_codes (code_hash, created_by, created_at, expires_at,"
                " for_user, scope, survey_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.code_hash,
                    grant.created_by,
                    _ts(grant.created_at),
                    _ts(grant.expires_at),
                    grant.for_user,
                    str(grant.scope),
                    grant.survey_id,
                ),
            )

    async def grant(self, code_hash: str) -> Grant | None:
        row = await self._db.fetchone(
            f"SELECT {_GRANT_COLUMNS} FROM grant_codes WHERE code_hash = ?", (code_hash,)
        )
        return _grant(row) if row else None

    async def grant_by_key(self, key: str) -> Grant | None:
        """The grant whose hash starts with `key` (a button's handle)."""
        row = await self._db.fetchone(
            f"SELECT {_GRANT_COLUMNS} FROM grant_codes WHERE code_hash LIKE ?", (key + "%",)
        )
        return _grant(row) if row else None

    async def open_grant(self, code_hash: str, user_id: int, name: str, language: str) -> bool:
        """Note who opened an unbound link; False when someone else did first."""
        async with self._db.atomic(savepoint=False) as db:
            opened = await db.execute(
                "UPDATE grant_codes SET opened_by = ?, opened_name = ?, opened_language = ?"
                " WHERE code_hash = ? AND (opened_by IS NULL OR opened_by = ?)",
                (user_id, name, language, code_hash, user_id),
            )
        return opened == 1

    # -- campaign links ------------------------------------------------------------------

    async def add_link(self, link: CampaignLink, created_by: int, at: datetime) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            taken = await db.fetchone(
                "SELECT 1 FROM campaign_links WHERE survey_id = ? AND source = ?"
                " AND closed_at IS NULL",
                (link.survey_id, link.source),
            )
            if taken:
                return False
            await db.execute(
                "INSERT INTO campaign_links (code_hash, survey_id, round_id, source, created_by,"
                " created_at, uses_left) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    link.code_hash,
                    link.survey_id,
                    link.round_id,
                    link.source,
                    created_by,
                    _ts(at),
                    link.uses_left,
                ),
            )
        return True

    async def links(self, survey_id: str) -> list[CampaignLink]:
        rows = await self._db.fetchall(
            "SELECT l.code_hash, l.survey_id, l.source, l.round_id, l.uses_left, l.arrivals,"
            " (SELECT COUNT(*) FROM responses r WHERE r.source = l.source"
            " AND r.survey_id = COALESCE(l.survey_id, r.survey_id)"
            " AND r.status = 'completed'), l.closed_at FROM campaign_links l"
            " WHERE l.survey_id = ? OR l.survey_id IS NULL"
            " ORDER BY CASE WHEN l.closed_at IS NULL THEN 0 ELSE 1 END, l.created_at DESC,"
            f" l.code_hash LIMIT {MAX_LISTED_LINKS}",
            (survey_id,),
        )
        return [CampaignLink(*row[:7], closed=row[7] is not None) for row in rows]

    async def close_link(self, survey_id: str, which: str, at: datetime) -> str | None:
        async with self._db.atomic(savepoint=False) as db:
            row = await db.fetchone(
                "SELECT source FROM campaign_links WHERE closed_at IS NULL"
                " AND (survey_id = ? OR survey_id IS NULL)"
                " AND (source = ? OR substr(code_hash, 1, 20) = ?)",
                (survey_id, which, which),
            )
            if row is None:
                return None
            await db.execute(
                "UPDATE campaign_links SET closed_at = ? WHERE closed_at IS NULL"
                " AND (survey_id = ? OR survey_id IS NULL)"
                " AND (source = ? OR substr(code_hash, 1, 20) = ?)",
                (_ts(at), survey_id, which, which),
            )
        return str(row[0])

    async def arrive(self, user_id: int, code_hash: str, at: datetime) -> Arrival:
        async with self._db.atomic(savepoint=False) as db:
            link = await db.fetchone(
                "SELECT closed_at FROM campaign_links WHERE code_hash = ?", (code_hash,)
            )
            if link is None:
                return Arrival.UNKNOWN
            if link[0] is not None:
                return Arrival.CLOSED
            latest = await db.fetchone(
                "SELECT arrived_via FROM users WHERE user_id = ?", (user_id,)
            )
            if latest is not None and latest[0] == code_hash:
                return Arrival.ADMITTED  # back through the same link: nothing to use up
            used = await db.execute(
                "UPDATE campaign_links SET arrivals = arrivals + 1, uses_left = uses_left - 1"
                " WHERE code_hash = ? AND (uses_left IS NULL OR uses_left > 0)",
                (code_hash,),
            )
            if used != 1:
                return Arrival.USED_UP
            await db.execute(
                "INSERT INTO users (user_id, created_at, updated_at, arrived_via)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " arrived_via = excluded.arrived_via, updated_at = excluded.updated_at",
                (user_id, _ts(at), _ts(at), code_hash),
            )
            return Arrival.ADMITTED

    async def cancel_grant(self, code_hash: str, at: datetime) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            cancelled = await db.execute(
                "UPDATE grant_codes SET cancelled_at = ?"
                " WHERE code_hash = ? AND used_by IS NULL AND cancelled_at IS NULL",
                (_ts(at), code_hash),
            )
        return cancelled == 1

    async def use_grant(self, code_hash: str, coordinator: Coordinator) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            used = await db.execute(
                "UPDATE grant_codes SET used_by = ?, used_at = ?"
                " WHERE code_hash = ? AND used_by IS NULL",
                (coordinator.user_id, _ts(coordinator.granted_at), code_hash),
            )
            if used != 1:
                return False
            await db.execute(
                "INSERT INTO coordinators (user_id, display_name, granted_by, granted_at, scope,"
                " survey_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " display_name = excluded.display_name, granted_by = excluded.granted_by,"
                " granted_at = excluded.granted_at, scope = excluded.scope,"
                " survey_id = excluded.survey_id",
                (
                    coordinator.user_id,
                    coordinator.name,
                    coordinator.granted_by,
                    _ts(coordinator.granted_at),
                    str(coordinator.scope),
                    coordinator.survey_id,
                ),
            )
            return True

    async def pending_grants(self, now: datetime) -> list[Grant]:
        rows = await self._db.fetchall(
            f"SELECT {_GRANT_COLUMNS} FROM grant_codes WHERE used_by IS NULL"
            " AND cancelled_at IS NULL AND expires_at > ? ORDER BY expires_at",
            (_ts(now),),
        )
        return [_grant(r) for r in rows]

    # -- audit -------------------------------------------------------------------------

    async def record(self, entry: AuditEntry) -> None:
        """Appended to the chain: one writer at a time (a lock across instances), the
        digest taken from the entry before it."""
        async with self._db.atomic(savepoint=False) as db:
            await db.lock(*AUDIT_LOCK)
            last = await db.fetchone("SELECT digest FROM audit_log ORDER BY entry_id DESC LIMIT 1")
            digest = audit_digest((last[0] or "") if last else "", entry)
            await db.execute(
                "INSERT INTO audit_log (at, actor_id, actor_name, role, action, detail, digest)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _ts(entry.at),
                    entry.actor_id,
                    entry.actor_name,
                    entry.role.value,
                    entry.action,
                    entry.detail,
                    digest,
                ),
            )

    async def recent(
        self, limit: int, offset: int = 0, only: AuditFilter = EVERY_ENTRY
    ) -> list[AuditEntry]:
        where, params = _audit_where(only)
        rows = await self._db.fetchall(
            f"SELECT {_AUDIT_COLUMNS} FROM audit_log{where}"
            " ORDER BY entry_id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_audit_entry(r) for r in rows]

    async def audit_size(self, only: AuditFilter = EVERY_ENTRY) -> int:
        where, params = _audit_where(only)
        row = await self._db.fetchone(f"SELECT COUNT(*) FROM audit_log{where}", params)
        return int(row[0]) if row else 0

    async def audit_chain(self) -> list[tuple[int, AuditEntry, str | None]]:
        """Every entry, oldest first, with its id and digest (for `hiwar verify-audit`)."""
        rows = await self._db.fetchall(
            f"SELECT entry_id, digest, {_AUDIT_COLUMNS} FROM audit_log ORDER BY entry_id"
        )
        return [(r[0], _audit_entry(r[2:]), r[1]) for r in rows]

    # -- tallies -----------------------------------------------------------------------

    async def sync_questions(self, survey_id: str, roles: Mapping[str, str]) -> bool:
        stored = await self._db.fetchall(
            "SELECT question_id, role FROM report_questions WHERE survey_id = ?", (survey_id,)
        )
        if dict(stored) == dict(roles):
            return False
        async with self._db.atomic(savepoint=False) as db:
            await db.lock(*REPORT_QUESTIONS_LOCK)
            stored = await db.fetchall(
                "SELECT question_id, role FROM report_questions WHERE survey_id = ?", (survey_id,)
            )
            if dict(stored) == dict(roles):
                return False  # another instance recounted meanwhile
            await db.execute("DELETE FROM report_questions WHERE survey_id = ?", (survey_id,))
            await db.executemany(
                "INSERT INTO report_questions (survey_id, question_id, role) VALUES (?, ?, ?)",
                [(survey_id, question_id, role) for question_id, role in roles.items()],
            )
            await db.execute("DELETE FROM report_cells WHERE survey_id = ?", (survey_id,))
            await db.execute("DELETE FROM report_tallies WHERE survey_id = ?", (survey_id,))
            await db.execute(
                "INSERT INTO report_cells (survey_id, country, sector, level, respondents)"
                " SELECT survey_id, country, sector, level, COUNT(*) FROM report_profiles"
                " WHERE survey_id = ? AND status = 'completed'"
                " GROUP BY survey_id, country, sector, level",
                (survey_id,),
            )
            await db.execute(
                "INSERT INTO report_tallies"
                " (survey_id, question_id, item, country, sector, level, answers)"
                " SELECT p.survey_id, i.question_id, i.item, p.country, p.sector, p.level,"
                " COUNT(*) FROM report_profiles p"
                " JOIN report_items i ON i.response_id = p.response_id"
                " WHERE p.survey_id = ? AND p.status = 'completed'"
                " GROUP BY p.survey_id, i.question_id, i.item, p.country, p.sector, p.level",
                (survey_id,),
            )
        return True

    async def cells(self, survey_id: str) -> list[Cell]:
        rows = await self._db.fetchall(
            "SELECT country, sector, level, respondents FROM report_cells WHERE survey_id = ?"
            " ORDER BY country, sector, level",
            (survey_id,),
        )
        return [Cell(*row) for row in rows]

    async def tallies(self, survey_id: str, only: Filter | None) -> list[Tally]:
        where, params = _where(only)
        rows = await self._db.fetchall(
            "SELECT question_id, item, level, SUM(answers) FROM report_tallies"
            f" WHERE survey_id = ?{where} GROUP BY question_id, item, level",
            (survey_id, *params),
        )
        return [Tally(*row) for row in rows]

    async def in_progress(self, survey_id: str, only: Filter | None) -> int:
        match = ""
        params: tuple[str, ...] = (survey_id,)
        if only is not None:
            match = (
                " AND EXISTS (SELECT 1 FROM answers a JOIN report_questions q"
                " ON q.survey_id = r.survey_id AND q.question_id = a.question_id"
                " WHERE a.response_id = r.response_id AND q.role = ?"
                f" AND {self._db.dialect.json_text('a.value')} = ?)"
            )
            params += (_COLUMNS[only.dimension], only.option_id)
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM responses r WHERE r.survey_id = ?"
            f" AND r.status <> 'completed'{match}",
            params,
        )
        return row[0] if row else 0

    async def completed_answers(
        self, survey_id: str
    ) -> list[tuple[str, int, dict[str, AnswerValue]]]:
        rows = await self._db.fetchall(
            "SELECT r.respondent_code, r.round_id, a.question_id, a.value FROM responses r"
            " JOIN answers a ON a.response_id = r.response_id"
            " WHERE r.survey_id = ? AND r.status = 'completed' ORDER BY r.respondent_code",
            (survey_id,),
        )
        respondents: dict[str, tuple[str, int, dict[str, AnswerValue]]] = {}
        for code, round_id, question_id, value in rows:
            answers = respondents.setdefault(code, (code, round_id, {}))[2]
            answers[question_id] = None if value is None else json.loads(value)
        return list(respondents.values())

    async def raw_aggregates(self, survey_id: str, only: Filter | None) -> list[Tally]:
        """The tallies computed from the answers themselves (what the triggers spare us)."""
        where, params = _where(only)
        rows = await self._db.fetchall(
            "SELECT i.question_id, i.item, p.level, COUNT(*) FROM report_profiles p"
            " JOIN report_items i ON i.response_id = p.response_id"
            f" WHERE p.survey_id = ? AND p.status = 'completed'{where}"
            " GROUP BY i.question_id, i.item, p.level",
            (survey_id, *params),
        )
        return [Tally(*row) for row in rows]

    # -- snapshots ---------------------------------------------------------------------

    async def snapshot_history(self, survey_id: str, round_id: int) -> History:
        rows = await self._db.fetchall(
            "SELECT number, published_at, population, released, atoms FROM report_snapshots"
            " WHERE survey_id = ? AND round_id = ? ORDER BY number",
            (survey_id, round_id),
        )
        if not rows:
            return History()
        last = rows[-1]
        return History(
            released=tuple(tuple(json.loads(row[3])) for row in rows),
            atoms={int(bits, 16): n for bits, n in json.loads(last[4]).items()},
            population=last[2],
            published_at=_dt(last[1]),
        )

    async def snapshot_changes(
        self, survey_id: str, round_id: int, counted: Counted
    ) -> tuple[int, int]:
        """(counted responses no snapshot has counted yet, counted ones a snapshot has):
        the quick test of whether a new snapshot is due."""
        condition, params = _counted(counted, round_id)
        row = await self._db.fetchone(
            "SELECT COUNT(*) - COUNT(r.first_snapshot), COUNT(r.first_snapshot)"
            f" FROM responses r WHERE r.survey_id = ? AND {condition}",
            (survey_id, *params),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def snapshot_inputs(
        self, survey_id: str, round_id: int, counted: Counted, comment_questions: Sequence[str]
    ) -> Inputs:
        """What a new snapshot of one round is made of, read together (one transaction)."""
        condition, params = _counted(counted, round_id)
        async with self._db.atomic(savepoint=False) as db:
            cohorts = await db.fetchall(
                "SELECT p.country, p.sector, p.level, r.first_snapshot, COUNT(*),"
                " COALESCE(r.source, '')"
                " FROM responses r JOIN report_profiles p ON p.response_id = r.response_id"
                f" WHERE r.survey_id = ? AND {condition}"
                " GROUP BY p.country, p.sector, p.level, r.first_snapshot, r.source",
                (survey_id, *params),
            )
            tallies = await db.fetchall(
                "SELECT i.question_id, i.item, p.country, p.sector, p.level, COUNT(*)"
                " FROM responses r JOIN report_profiles p ON p.response_id = r.response_id"
                " JOIN report_items i ON i.response_id = r.response_id"
                f" WHERE r.survey_id = ? AND {condition}"
                " GROUP BY i.question_id, i.item, p.country, p.sector, p.level",
                (survey_id, *params),
            )
            waiting = await db.fetchall(
                "SELECT country, sector, level, COUNT(*) FROM report_profiles"
                " WHERE survey_id = ? AND round_id = ? AND status <> 'completed'"
                " GROUP BY country, sector, level",
                (survey_id, round_id),
            )
            arrivals = await db.fetchall(
                f"SELECT r.response_id FROM responses r WHERE r.survey_id = ? AND {condition}"
                " AND r.first_snapshot IS NULL ORDER BY r.response_id",
                (survey_id, *params),
            )
            reminded = await db.fetchone(
                f"SELECT COUNT(*) FROM responses r WHERE r.survey_id = ? AND {condition}"
                " AND EXISTS (SELECT 1 FROM survey_reminders m WHERE m.response_id ="
                " r.response_id AND m.state = 'sent' AND m.updated_at <= r.completed_at)",
                (survey_id, *params),
            )
            pending = await db.fetchall(
                "SELECT a.question_id, COUNT(*) FROM responses r"
                " JOIN answers a ON a.response_id = r.response_id"
                f" WHERE r.survey_id = ? AND {condition} AND a.value IS NOT NULL"
                f" AND a.question_id IN ({', '.join('?' * len(comment_questions)) or 'NULL'})"
                " AND NOT EXISTS (SELECT 1 FROM released_comments c"
                " WHERE c.response_id = a.response_id AND c.question_id = a.question_id)"
                " GROUP BY a.question_id",
                (survey_id, *params, *comment_questions),
            )
        return Inputs(
            cohorts=tuple(Cohort(*row) for row in cohorts),
            tallies=tuple(CellTally(*row) for row in tallies),
            in_progress=tuple(Cohort(c, s, lv, None, n) for c, s, lv, n in waiting),
            pending_comments=dict(pending),
            arrivals=tuple(row[0] for row in arrivals),
            after_reminder=int(reminded[0]) if reminded else 0,
        )

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
        """Store snapshot `number`, counting `arrivals` from now on and releasing the pending
        answers of `comment_questions`; False when another instance published it first."""
        async with self._db.atomic(savepoint=False) as db:
            await db.lock(*SNAPSHOT_LOCK)
            row = await db.fetchone(
                "SELECT COALESCE(MAX(number), 0) FROM report_snapshots"
                " WHERE survey_id = ? AND round_id = ?",
                (survey_id, round_id),
            )
            if (row[0] if row else 0) != number - 1:
                return False
            await db.executemany(
                "UPDATE responses SET first_snapshot = ? WHERE response_id = ?",
                [(number, response_id) for response_id in arrivals],
            )
            condition, params = _counted(counted, round_id)
            await db.execute(
                "UPDATE responses SET first_snapshot = NULL WHERE response_id IN"
                " (SELECT r.response_id FROM responses r WHERE r.survey_id = ?"
                f" AND r.round_id = ? AND r.first_snapshot IS NOT NULL AND NOT ({condition}))",
                (survey_id, round_id, *params),
            )
            if comment_questions:
                await db.execute(
                    "INSERT INTO released_comments (response_id, question_id, snapshot)"
                    " SELECT a.response_id, a.question_id, ? FROM responses r"
                    " JOIN answers a ON a.response_id = r.response_id"
                    " WHERE r.survey_id = ? AND r.round_id = ? AND r.first_snapshot IS NOT NULL"
                    " AND a.value IS NOT NULL"
                    f" AND a.question_id IN ({', '.join('?' * len(comment_questions))})"
                    " AND NOT EXISTS (SELECT 1 FROM released_comments c"
                    " WHERE c.response_id = a.response_id AND c.question_id = a.question_id)",
                    (number, survey_id, round_id, *comment_questions),
                )
            await db.execute(
                "INSERT INTO report_snapshots"
                " (survey_id, round_id, number, published_at, population, released, atoms, views)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    survey_id,
                    round_id,
                    number,
                    _ts(published_at),
                    population,
                    json.dumps(list(released)),
                    json.dumps({f"{bits:x}": n for bits, n in atoms.items()}),
                    json.dumps(dict(views), ensure_ascii=False),
                ),
            )
        return True

    async def snapshot_views(
        self, survey_id: str, round_id: int
    ) -> tuple[int, dict[str, str]] | None:
        """A round's latest snapshot: its number and stored views (None: none yet)."""
        row = await self._db.fetchone(
            "SELECT number, views FROM report_snapshots"
            " WHERE survey_id = ? AND round_id = ? ORDER BY number DESC LIMIT 1",
            (survey_id, round_id),
        )
        return (row[0], json.loads(row[1])) if row else None

    async def released_comments(self, survey_id: str, round_id: int, question_id: str) -> list[str]:
        """The free-text answers of one round released so far to one question (those
        deleted are gone)."""
        rows = await self._db.fetchall(
            f"SELECT {self._db.dialect.json_text('a.value')} FROM released_comments c"
            " JOIN answers a ON a.response_id = c.response_id AND a.question_id = c.question_id"
            " JOIN responses r ON r.response_id = c.response_id"
            " WHERE r.survey_id = ? AND r.round_id = ? AND c.question_id = ?",
            (survey_id, round_id, question_id),
        )
        return [str(row[0]) for row in rows]

    async def survey_ids(self) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT survey_id FROM survey_versions WHERE status = 'published'"
            " UNION SELECT DISTINCT survey_id FROM responses ORDER BY 1"
        )
        return [row[0] for row in rows]

    async def report_rounds(self, survey_id: str) -> list[ReportRound]:
        rows = await self._db.fetchall(
            "SELECT round_id, title, opened_at, closed_at FROM rounds WHERE survey_id = ?"
            " ORDER BY round_id",
            (survey_id,),
        )
        outside = await self._db.fetchone(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM responses WHERE survey_id = ? AND round_id = 0)"
            " OR EXISTS (SELECT 1 FROM report_snapshots WHERE survey_id = ? AND round_id = 0)",
            (survey_id, survey_id),
        )
        rounds = [ReportRound(r[0], r[1], _dt(r[2]), _dt(r[3]) if r[3] else None) for r in rows]
        return ([ReportRound(0)] if outside else []) + rounds

    async def released_comments_by_cell(
        self, survey_id: str, round_id: int, question_id: str
    ) -> list[ReleasedComment]:
        """The free-text answers of one round released so far to one question, each with
        the snapshot that released it and its respondent's profile cell (for scoped
        coordinators)."""
        rows = await self._db.fetchall(
            f"SELECT c.snapshot, p.country, p.sector, p.level,"
            f" {self._db.dialect.json_text('a.value')} FROM released_comments c"
            " JOIN answers a ON a.response_id = c.response_id AND a.question_id = c.question_id"
            " JOIN report_profiles p ON p.response_id = c.response_id"
            " WHERE p.survey_id = ? AND p.round_id = ? AND c.question_id = ?",
            (survey_id, round_id, question_id),
        )
        return [ReleasedComment(r[0], (r[1], r[2], r[3]), str(r[4])) for r in rows]

    async def noise_key(self, survey_id: str, fresh: str) -> str:
        """The survey's noise key, stored as `fresh` if it has none yet."""
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO report_keys (survey_id, secret) VALUES (?, ?)"
                " ON CONFLICT (survey_id) DO NOTHING",
                (survey_id, fresh),
            )
            row = await db.fetchone(
                "SELECT secret FROM report_keys WHERE survey_id = ?", (survey_id,)
            )
        return str(row[0]) if row else fresh

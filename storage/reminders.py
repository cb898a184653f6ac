"""All SQL of the survey reminders (bot/reminders/ports.py describes each method).

Rows are claimed and settled like the invitations' (storage/invitations.py), whose
`requeue_interrupted` also takes back what a crashed instance left `sending` here, and
whose opt-out (unsubscribed, or blocked the bot) also cancels reminders still queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.invitations.ports import Settlement
from bot.reminders.model import Reminder
from bot.reminders.schedule import Candidate
from storage.database import Database
from storage.instances import Instances
from storage.invitations import _ts, opt_out_blocked, settled_rows


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


class Reminders:
    """Implements bot.reminders.ports.ReminderStore (either backend)."""

    def __init__(self, database: Database, instances: Instances, default_language: str) -> None:
        self._db = database
        self._instances = instances
        self._default_language = default_language

    async def candidates(self, answered_before: datetime, limit: int) -> list[Candidate]:
        rows = await self._db.fetchall(
            "SELECT r.response_id, r.user_id, r.status, r.updated_at,"
            " COALESCE((SELECT MAX(a.answered_at) FROM answers a"
            " WHERE a.response_id = r.response_id), r.started_at),"
            " (SELECT COUNT(*) FROM survey_reminders m WHERE m.response_id = r.response_id),"
            " (SELECT MAX(m.due_at) FROM survey_reminders m WHERE m.response_id = r.response_id)"
            " FROM responses r JOIN users u ON u.user_id = r.user_id"
            " WHERE r.status IN ('in_progress', 'paused') AND u.consented_at IS NOT NULL"
            " AND r.started_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM invitation_optouts o WHERE o.user_id = r.user_id)"
            " AND (SELECT COUNT(*) FROM survey_reminders m"
            " WHERE m.response_id = r.response_id) < ?",
            (_ts(answered_before), limit),
        )
        return [
            Candidate(
                response_id=row[0],
                user_id=row[1],
                last_answer_at=datetime.fromisoformat(row[4]),
                paused_at=_dt(row[3]) if row[2] == "paused" else None,
                reminded=row[5],
                last_reminded_at=_dt(row[6]),
            )
            for row in rows
        ]

    async def queue(self, candidate: Candidate, answered: int, total: int, at: datetime) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            queued = await db.execute(
                "INSERT INTO survey_reminders (response_id, number, user_id, answered, total,"
                " due_at, state, updated_at)"
                " SELECT r.response_id, CAST(? AS INTEGER), r.user_id, CAST(? AS INTEGER),"
                " CAST(? AS INTEGER), ?, 'pending', ? FROM responses r"
                " WHERE r.response_id = ? AND r.status != 'completed' AND NOT EXISTS"
                " (SELECT 1 FROM invitation_optouts o WHERE o.user_id = r.user_id)"
                " ON CONFLICT (response_id, number) DO NOTHING",
                (
                    candidate.number,
                    answered,
                    total,
                    _ts(at),
                    _ts(at),
                    candidate.response_id,
                ),
            )
        return queued == 1

    async def claim(self, now: datetime) -> Reminder | None:
        instance = await self._instances.current()
        lock = self._db.dialect.lock_rows("m")
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE survey_reminders SET state = 'cancelled', updated_at = ?"
                " WHERE state = 'pending' AND response_id IN"
                " (SELECT response_id FROM responses WHERE status = 'completed')",
                (_ts(now),),
            )
            row = await db.fetchone(
                "UPDATE survey_reminders SET state = 'sending', claimed_by = ?, updated_at = ?"
                " WHERE (response_id, number) IN (SELECT m.response_id, m.number"
                " FROM survey_reminders m WHERE m.state = 'pending' AND m.due_at <= ?"
                f" ORDER BY m.due_at LIMIT 1{lock}) RETURNING response_id, number, user_id,"
                " (SELECT COALESCE(language, ?) FROM users u"
                " WHERE u.user_id = survey_reminders.user_id), answered, total, attempts",
                (instance, _ts(now), _ts(now), self._default_language),
            )
        return Reminder(*row) if row else None

    async def settle(self, settled: Sequence[tuple[Reminder, Settlement]], at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.executemany(
                "UPDATE survey_reminders SET state = ?, attempts = ?,"
                " due_at = COALESCE(?, due_at), message_id = ?, error = ?, updated_at = ?"
                " WHERE response_id = ? AND number = ? AND state = 'sending'",
                settled_rows(settled, at, lambda row: (row.response_id, row.number)),
            )
            await opt_out_blocked(db, settled, at)

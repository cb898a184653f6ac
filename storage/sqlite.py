"""SQLite (WAL) storage: the embedded default. All SQL of the application lives in storage/."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.survey.state import AnswerValue, Progress, Respondent, Status
from storage.migrations import apply_migrations


def _ts(at: datetime) -> str:
    return at.isoformat()


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def new_respondent_code() -> str:
    """A pseudonymous id for exports: random, never derived from the Telegram id."""
    return "R-" + secrets.token_hex(5).upper()


class SqliteStore:
    """One aiosqlite connection; a lock keeps each transaction whole under concurrency."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        await apply_migrations(db)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def fetchall(self, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
        async with self._lock, self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: tuple = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @staticmethod
    async def claim_update(db: aiosqlite.Connection, update_id: int | None, at: datetime) -> bool:
        if update_id is None:
            return True
        cursor = await db.execute(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            (update_id, _ts(at)),
        )
        return cursor.rowcount == 1

    # -- respondents -------------------------------------------------------------------

    async def get_respondent(self, user_id: int) -> Respondent | None:
        row = await self.fetchone(
            "SELECT user_id, language, consented_at FROM users WHERE user_id = ?", (user_id,)
        )
        return Respondent(row[0], row[1], _dt(row[2])) if row else None

    async def save_language(self, user_id: int, language: str, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (user_id, language, _ts(at), _ts(at)),
            )

    async def save_consent(self, user_id: int, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_id, consented_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " consented_at = excluded.consented_at, updated_at = excluded.updated_at",
                (user_id, _ts(at), _ts(at), _ts(at)),
            )

    async def delete_respondent(self, user_id: int) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            return cursor.rowcount > 0

    # -- progress ----------------------------------------------------------------------

    async def was_processed(self, update_id: int) -> bool:
        row = await self.fetchone(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def get_progress(self, user_id: int, survey_id: str) -> Progress | None:
        row = await self.fetchone(
            "SELECT response_id, survey_version, respondent_code, status, current_question,"
            " draft, started_at, completed_at FROM responses WHERE user_id = ? AND survey_id = ?",
            (user_id, survey_id),
        )
        if row is None:
            return None
        answers = await self.fetchall(
            "SELECT question_id, value FROM answers WHERE response_id = ?", (row[0],)
        )
        return Progress(
            response_id=row[0],
            user_id=user_id,
            survey_id=survey_id,
            survey_version=row[1],
            respondent_code=row[2],
            status=Status(row[3]),
            current=row[4],
            draft=None if row[5] is None else tuple(json.loads(row[5])),
            answers={q: None if v is None else json.loads(v) for q, v in answers},
            started_at=_dt(row[6]),
            completed_at=_dt(row[7]),
        )

    async def start_progress(
        self,
        user_id: int,
        survey_id: str,
        survey_version: int,
        first_question: str,
        at: datetime,
    ) -> Progress:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM responses WHERE user_id = ? AND survey_id = ?", (user_id, survey_id)
            )
            await db.execute(
                "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code,"
                " status, current_question, started_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'in_progress', ?, ?, ?)",
                (
                    user_id,
                    survey_id,
                    survey_version,
                    new_respondent_code(),
                    first_question,
                    _ts(at),
                    _ts(at),
                ),
            )
        progress = await self.get_progress(user_id, survey_id)
        assert progress is not None
        return progress

    async def save_answer(
        self,
        response_id: int,
        question_id: str,
        value: AnswerValue,
        next_question: str | None,
        at: datetime,
        update_id: int | None,
    ) -> bool:
        async with self.transaction() as db:
            if not await self.claim_update(db, update_id, at):
                return False
            await db.execute(
                "INSERT INTO answers (response_id, question_id, value, answered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE SET"
                " value = excluded.value, answered_at = excluded.answered_at",
                (
                    response_id,
                    question_id,
                    None if value is None else json.dumps(value, ensure_ascii=False),
                    _ts(at),
                ),
            )
            await db.execute(
                "UPDATE responses SET current_question = ?, draft = NULL, status = 'in_progress',"
                " updated_at = ? WHERE response_id = ?",
                (next_question, _ts(at), response_id),
            )
            return True

    async def save_draft(
        self, response_id: int, draft: tuple[str, ...], at: datetime, update_id: int | None
    ) -> bool:
        async with self.transaction() as db:
            if not await self.claim_update(db, update_id, at):
                return False
            await db.execute(
                "UPDATE responses SET draft = ?, updated_at = ? WHERE response_id = ?",
                (json.dumps(list(draft)), _ts(at), response_id),
            )
            return True

    async def move_to(self, response_id: int, question_id: str, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE responses SET current_question = ?, draft = NULL, status = 'in_progress',"
                " updated_at = ? WHERE response_id = ?",
                (question_id, _ts(at), response_id),
            )

    async def set_status(self, response_id: int, status: Status, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE responses SET status = ?, updated_at = ? WHERE response_id = ?",
                (status.value, _ts(at), response_id),
            )

    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        async with self.transaction() as db:
            kept = list(keep)
            marks = ",".join("?" * len(kept))
            await db.execute(
                f"DELETE FROM answers WHERE response_id = ? AND question_id NOT IN ({marks})",
                (response_id, *kept),
            )
            await db.execute(
                "UPDATE responses SET status = 'completed', current_question = NULL,"
                " draft = NULL, completed_at = ?, updated_at = ? WHERE response_id = ?",
                (_ts(at), _ts(at), response_id),
            )

    # -- inbox of updates --------------------------------------------------------------

    async def inbox_add(self, update_id: int, payload: str, at: datetime) -> bool:
        """Record an arriving update; False when it was seen before (a re-delivery)."""
        async with self.transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                (update_id, payload, _ts(at)),
            )
            return cursor.rowcount == 1

    async def inbox_done(self, update_id: int, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE inbox SET done_at = ? WHERE update_id = ?", (_ts(at), update_id)
            )

    async def inbox_pending(self) -> list[str]:
        """Payloads of updates received but not handled (a crash came between), oldest first."""
        rows = await self.fetchall(
            "SELECT payload FROM inbox WHERE done_at IS NULL ORDER BY update_id"
        )
        return [row[0] for row in rows]

    async def inbox_prune(self, before: datetime) -> int:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (_ts(before),)
            )
            return cursor.rowcount

"""Respondents and their progress through a survey (bot/survey/ports.py), on either backend."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from datetime import datetime

from bot.core.sent import SentMessage
from bot.survey.state import AnswerValue, Campaign, Progress, Respondent, Status
from storage.database import Database, Row

_MOVE = (
    "UPDATE responses SET current_question = ?, draft = NULL, status = 'in_progress',"
    " updated_at = ? WHERE response_id = ?"
)
"""Go to a question (None: past the last one), dropping the draft."""


def _ts(at: datetime) -> str:
    return at.isoformat()


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def new_respondent_code() -> str:
    """A pseudonymous id for exports: random, never derived from the Telegram id."""
    return "R-" + secrets.token_hex(5).upper()


_ERASE_ALSO = (
    "DELETE FROM inbox WHERE user_key = ?",
    "DELETE FROM unparsable_updates WHERE user_key = ?",
    "DELETE FROM live_cards WHERE chat_id = ?",
    "DELETE FROM coordinators WHERE user_id = ?",
    "DELETE FROM invitation_drafts WHERE admin_id = ?",
    "DELETE FROM survey_versions WHERE status != 'published' AND uploaded_by = ?",
    "UPDATE grant_codes SET used_by = NULL WHERE used_by = ?",
    "DELETE FROM grant_codes WHERE used_by IS NULL AND for_user = ?",
    "DELETE FROM grant_codes WHERE used_by IS NULL AND opened_by = ?",
)
"""What is about a person without hanging from their `users` row."""


_PROGRESS = (
    "response_id, survey_version, respondent_code, status, current_question, draft,"
    " started_at, completed_at, paste_message_id, paste_sent_at, survey_id, round_id,"
    " previous_response, source"
)


def _json(value: AnswerValue) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class Respondents:
    """Implements bot.survey.ports.SurveyStore."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- respondents -------------------------------------------------------------------

    async def get_respondent(self, user_id: int) -> Respondent | None:
        row = await self._db.fetchone(
            "SELECT user_id, language, consented_at FROM users WHERE user_id = ?", (user_id,)
        )
        return Respondent(row[0], row[1], _dt(row[2])) if row else None

    async def save_language(self, user_id: int, language: str, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (user_id, language, _ts(at), _ts(at)),
            )

    async def save_consent(self, user_id: int, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO users (user_id, consented_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " consented_at = excluded.consented_at, updated_at = excluded.updated_at",
                (user_id, _ts(at), _ts(at), _ts(at)),
            )

    async def delete_respondent(self, user_id: int) -> bool:
        """Every row about the person, in every table: the user row and through it (foreign
        keys) responses, answers, drafts, invitation deliveries, answers, reminders and
        opt-outs; then the updates still in the inbox, the live cards of their chat and a
        coordinator's role. The audit log keeps staff actions (see README, Privacy)."""
        async with self._db.atomic(savepoint=False) as db:
            erased = await db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            for sql in _ERASE_ALSO:
                erased += await db.execute(sql, (user_id,))
        return erased > 0

    async def purge_erased(self) -> None:
        await self._db.purge_erased()

    # -- progress ----------------------------------------------------------------------

    async def get_progress(
        self, user_id: int, survey_id: str, round_id: int | None = None
    ) -> Progress | None:
        in_round, params = ("", ()) if round_id is None else (" AND round_id = ?", (round_id,))
        row = await self._db.fetchone(
            f"SELECT {_PROGRESS} FROM responses WHERE user_id = ? AND survey_id = ?{in_round}"
            " ORDER BY round_id DESC LIMIT 1",
            (user_id, survey_id, *params),
        )
        return None if row is None else await self._progress(user_id, row)

    async def get_last_completed(self, user_id: int, survey_id: str) -> Progress | None:
        row = await self._db.fetchone(
            f"SELECT {_PROGRESS} FROM responses WHERE user_id = ? AND survey_id = ?"
            " AND status = 'completed' ORDER BY completed_at DESC, response_id DESC LIMIT 1",
            (user_id, survey_id),
        )
        return None if row is None else await self._progress(user_id, row)

    async def get_responses(self, user_id: int) -> list[Progress]:
        rows = await self._db.fetchall(
            f"SELECT {_PROGRESS} FROM responses WHERE user_id = ? ORDER BY response_id",
            (user_id,),
        )
        return [await self._progress(user_id, row) for row in rows]

    async def get_open_progress(self, user_id: int) -> Progress | None:
        row = await self._db.fetchone(
            f"SELECT {_PROGRESS} FROM responses WHERE user_id = ? AND status != 'completed'"
            " ORDER BY updated_at DESC, response_id DESC LIMIT 1",
            (user_id,),
        )
        return None if row is None else await self._progress(user_id, row)

    async def _answers(self, response_id: int | None) -> dict[str, AnswerValue]:
        rows = await self._db.fetchall(
            "SELECT question_id, value FROM answers WHERE response_id = ?", (response_id,)
        )
        return {q: None if v is None else json.loads(v) for q, v in rows}

    async def _progress(self, user_id: int, row: Row) -> Progress:
        return Progress(
            response_id=row[0],
            user_id=user_id,
            survey_id=row[10],
            survey_version=row[1],
            respondent_code=row[2],
            status=Status(row[3]),
            current=row[4],
            draft=None if row[5] is None else tuple(json.loads(row[5])),
            answers=await self._answers(row[0]),
            started_at=_dt(row[6]),
            completed_at=_dt(row[7]),
            paste=None if row[8] is None else SentMessage(row[8], datetime.fromisoformat(row[9])),
            round_id=row[11],
            earlier=await self._answers(row[12]) if row[12] is not None else {},
            source=row[13],
        )

    async def start_progress(
        self,
        user_id: int,
        survey_id: str,
        survey_version: int,
        first_question: str,
        at: datetime,
        round_id: int = 0,
        answers_from: int | None = None,
        source: str | None = None,
    ) -> Progress:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "DELETE FROM responses WHERE user_id = ? AND survey_id = ? AND round_id = ?",
                (user_id, survey_id, round_id),
            )
            # Only an earlier response of the same person.
            await db.execute(
                "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code,"
                " status, current_question, started_at, updated_at, round_id, previous_response,"
                " source)"
                " VALUES (?, ?, ?, ?, 'in_progress', ?, ?, ?, ?,"
                " (SELECT response_id FROM responses WHERE response_id = ? AND user_id = ?), ?)",
                (
                    user_id,
                    survey_id,
                    survey_version,
                    new_respondent_code(),
                    first_question,
                    _ts(at),
                    _ts(at),
                    round_id,
                    answers_from,
                    user_id,
                    source,
                ),
            )
            progress = await self.get_progress(user_id, survey_id, round_id)
        assert progress is not None
        return progress

    async def get_campaign(self, user_id: int, survey_id: str) -> Campaign | None:
        row = await self._db.fetchone(
            "SELECT l.source, l.round_id FROM users u"
            " JOIN campaign_links l ON l.code_hash = u.arrived_via"
            " WHERE u.user_id = ? AND (l.survey_id = ? OR l.survey_id IS NULL)",
            (user_id, survey_id),
        )
        return Campaign(row[0], row[1]) if row else None

    async def save_answer(
        self,
        response_id: int,
        question_id: str,
        value: AnswerValue,
        next_question: str | None,
        at: datetime,
        message_id: int | None = None,
    ) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO answers (response_id, question_id, value, answered_at, message_id)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE SET"
                " value = excluded.value, answered_at = excluded.answered_at,"
                " message_id = excluded.message_id",
                (response_id, question_id, _json(value), _ts(at), message_id),
            )
            await db.execute(_MOVE, (next_question, _ts(at), response_id))

    async def replace_answer(
        self, response_id: int, question_id: str, value: AnswerValue, at: datetime
    ) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE answers SET value = ?, answered_at = ?"
                " WHERE response_id = ? AND question_id = ?",
                (_json(value), _ts(at), response_id, question_id),
            )

    async def question_of_message(self, response_id: int, message_id: int) -> str | None:
        row = await self._db.fetchone(
            "SELECT question_id FROM answers WHERE response_id = ? AND message_id = ?",
            (response_id, message_id),
        )
        return row[0] if row is not None else None

    async def note_paste(self, response_id: int, paste: SentMessage) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE responses SET paste_message_id = ?, paste_sent_at = ?"
                " WHERE response_id = ?",
                (paste.message_id, _ts(paste.sent_at), response_id),
            )

    async def save_draft(self, response_id: int, draft: tuple[str, ...], at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE responses SET draft = ?, updated_at = ? WHERE response_id = ?",
                (json.dumps(list(draft)), _ts(at), response_id),
            )

    async def move_to(self, response_id: int, question_id: str, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(_MOVE, (question_id, _ts(at), response_id))

    async def set_status(self, response_id: int, status: Status, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE responses SET status = ?, updated_at = ? WHERE response_id = ?",
                (status.value, _ts(at), response_id),
            )

    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            kept = list(keep)
            # `IN ()` is SQLite only: with nothing to keep, say so without a list.
            others = f" AND question_id NOT IN ({','.join('?' * len(kept))})" if kept else ""
            await db.execute(
                f"DELETE FROM answers WHERE response_id = ?{others}", (response_id, *kept)
            )
            await db.execute(
                "UPDATE responses SET status = 'completed', current_question = NULL,"
                " draft = NULL, completed_at = ?, updated_at = ? WHERE response_id = ?",
                (_ts(at), _ts(at), response_id),
            )

"""The rounds of each survey (bot/survey/ports.py, RoundStore), on either backend."""

from __future__ import annotations

from datetime import datetime

from bot.survey.ports import Round, RoundCount
from storage.database import Database, Row

_ROUND = "round_id, survey_id, title, opened_by, opened_at, closed_at"


def _round(row: Row) -> Round:
    closed = datetime.fromisoformat(row[5]) if row[5] else None
    return Round(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), closed)


class Rounds:
    """Implements bot.survey.ports.RoundStore."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def open_round(self, survey_id: str) -> Round | None:
        row = await self._db.fetchone(
            f"SELECT {_ROUND} FROM rounds WHERE survey_id = ? AND closed_at IS NULL",
            (survey_id,),
        )
        return None if row is None else _round(row)

    async def get_round(self, round_id: int) -> Round | None:
        row = await self._db.fetchone(
            f"SELECT {_ROUND} FROM rounds WHERE round_id = ?", (round_id,)
        )
        return None if row is None else _round(row)

    async def rounds(self, survey_id: str) -> list[Round]:
        rows = await self._db.fetchall(
            f"SELECT {_ROUND} FROM rounds WHERE survey_id = ? ORDER BY round_id", (survey_id,)
        )
        return [_round(row) for row in rows]

    async def round_counts(self, survey_id: str) -> list[RoundCount]:
        rows = await self._db.fetchall(
            "SELECT round_id, COUNT(*), COUNT(completed_at) FROM responses"
            " WHERE survey_id = ? GROUP BY round_id ORDER BY round_id",
            (survey_id,),
        )
        return [RoundCount(row[0], row[1], row[2]) for row in rows]

    async def add_round(self, survey_id: str, title: str, by: int, at: datetime) -> Round:
        async with self._db.atomic(savepoint=False) as db:
            row = await db.fetchone(
                "INSERT INTO rounds (survey_id, title, opened_by, opened_at)"
                f" VALUES (?, ?, ?, ?) RETURNING {_ROUND}",
                (survey_id, title, by, at.isoformat()),
            )
        assert row is not None
        return _round(row)

    async def close_round(self, round_id: int, at: datetime) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            closed = await db.execute(
                "UPDATE rounds SET closed_at = ? WHERE round_id = ? AND closed_at IS NULL",
                (at.isoformat(), round_id),
            )
        return closed > 0

"""The surveys published (bot/survey/ports.py: SurveyCatalog), on either backend."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.survey.ports import PublishedVersion, Upload
from storage.database import Database

OPERATOR = 0
"""`uploaded_by` of the survey file the bot was started with (no Telegram user)."""


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


class Surveys:
    """Implements bot.survey.ports.SurveyCatalog."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def active_document(self) -> dict[str, Any] | None:
        row = await self._db.fetchone(
            "SELECT document FROM survey_versions WHERE status = 'published'"
            " ORDER BY published_at DESC, upload_id DESC LIMIT 1"
        )
        return None if row is None else json.loads(row[0])

    async def document(self, survey_id: str, version: int) -> dict[str, Any] | None:
        row = await self._db.fetchone(
            "SELECT document FROM survey_versions"
            " WHERE status = 'published' AND survey_id = ? AND version = ?",
            (survey_id, version),
        )
        return None if row is None else json.loads(row[0])

    async def publish_directly(
        self, document: dict[str, Any], file_name: str, at: datetime
    ) -> bool:
        # Instances starting together on one database all try: the first one inserts.
        async with self._db.atomic() as db:
            row = await db.fetchone(
                "INSERT INTO survey_versions (survey_id, version, document, file_name, status,"
                " uploaded_by, uploaded_at, published_at) VALUES (?, ?, ?, ?, 'published', ?, ?, ?)"
                " ON CONFLICT (survey_id, version) WHERE status = 'published' DO NOTHING"
                " RETURNING upload_id",
                (
                    document["id"],
                    document["version"],
                    _json(document),
                    file_name,
                    OPERATOR,
                    at.isoformat(),
                    at.isoformat(),
                ),
            )
        return row is not None

    async def add_upload(
        self, document: dict[str, Any], file_name: str, by: int, at: datetime
    ) -> int:
        async with self._db.atomic() as db:
            row = await db.fetchone(
                "INSERT INTO survey_versions (survey_id, version, document, file_name, status,"
                " uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)"
                " RETURNING upload_id",
                (
                    document["id"],
                    document["version"],
                    _json(document),
                    file_name,
                    by,
                    at.isoformat(),
                ),
            )
        assert row is not None
        return int(row[0])

    async def pending_upload(self, upload_id: int) -> Upload | None:
        row = await self._db.fetchone(
            "SELECT document, file_name, uploaded_by FROM survey_versions"
            " WHERE upload_id = ? AND status = 'pending'",
            (upload_id,),
        )
        return None if row is None else Upload(upload_id, json.loads(row[0]), row[1], row[2])

    async def publish(self, upload_id: int, at: datetime) -> None:
        async with self._db.atomic() as db:
            await db.execute(
                "UPDATE survey_versions SET status = 'published', published_at = ?"
                " WHERE upload_id = ? AND status = 'pending'",
                (at.isoformat(), upload_id),
            )

    async def cancel(self, upload_id: int) -> None:
        async with self._db.atomic() as db:
            await db.execute(
                "UPDATE survey_versions SET status = 'cancelled', document = '{}'"
                " WHERE upload_id = ? AND status = 'pending'",
                (upload_id,),
            )

    async def versions(self) -> list[PublishedVersion]:
        rows = await self._db.fetchall(
            "SELECT v.survey_id, v.version, v.file_name, v.published_at,"
            " COUNT(r.response_id),"
            " COALESCE(SUM(CASE WHEN r.status = 'completed' THEN 1 ELSE 0 END), 0)"
            " FROM survey_versions v LEFT JOIN responses r"
            " ON r.survey_id = v.survey_id AND r.survey_version = v.version"
            " WHERE v.status = 'published'"
            " GROUP BY v.upload_id, v.survey_id, v.version, v.file_name, v.published_at"
            " ORDER BY v.published_at DESC, v.upload_id DESC"
        )
        return [
            PublishedVersion(row[0], row[1], row[2], datetime.fromisoformat(row[3]), row[4], row[5])
            for row in rows
        ]

"""Shared fixtures: a fresh database per test, and the survey service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.survey.service import SurveyService
from storage.sqlite import SqliteStore
from tests.factories import mini_survey


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hiwar.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(db_path)
    yield opened
    await opened.close()


@pytest.fixture
def service(store: SqliteStore) -> SurveyService:
    return SurveyService(
        store, mini_survey(), clock=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    )

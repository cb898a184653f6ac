"""Shared fixtures: a fresh database per test, and the survey service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.simulator import FakeBotApi
from bot.survey.service import SurveyService
from storage.sqlite import SqliteStore
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
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


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        api.quiet = 0.05
        yield api


@pytest.fixture
async def hiwar(fake_api: FakeBotApi, db_path: Path) -> AsyncIterator[Harness]:
    """The real bot, over HTTP, against the fake Bot API, on a fresh database."""
    harness = Harness(fake_api, make_settings(fake_api, db_path), SHIPPED_SURVEY)
    await harness.start()
    yield harness
    await harness.stop()

"""Storage and the survey service, wired as bot/app.py wires them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.core.i18n import DEFAULT_LANGUAGE
from bot.survey.model import Survey
from bot.survey.service import SurveyService
from storage import Storage, open_storage


async def open_test_storage(url: str | Path) -> Storage:
    return await open_storage(url, default_language=DEFAULT_LANGUAGE)


def survey_service(
    storage: Storage, survey: Survey, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> SurveyService:
    return SurveyService(
        storage.respondents, storage.inbox, storage, survey, clock, rounds=storage.rounds
    )

"""The survey's use cases against in-memory fakes of its storage ports: no database, no
Telegram (tests/memory.py). The same rules run on both databases in tests/test_service.py."""

from __future__ import annotations

import pytest

from bot.core.errors import DuplicateUpdate
from bot.survey.errors import AlreadyAnswered, StaleQuestion
from bot.survey.service import Completed, SurveyService
from tests.factories import mini_survey
from tests.memory import MemoryStorage
from tests.test_service import EXPECTED, crash_at_every_write, journey


def service_on(storage: MemoryStorage) -> SurveyService:
    return SurveyService(storage.respondents, storage.inbox, storage, mini_survey())


async def test_a_whole_survey():
    storage = MemoryStorage()
    service = service_on(storage)
    results = [await step(service) for step in journey(7)]
    assert isinstance(results[-1].then, Completed)
    assert (await storage.respondents.get_progress(7, "mini")).answers == EXPECTED


async def test_a_crash_at_any_write_loses_and_doubles_nothing():
    assert len(await crash_at_every_write(MemoryStorage())) > 12


async def test_a_redelivered_or_repeated_tap_changes_nothing():
    storage = MemoryStorage()
    service = service_on(storage)
    steps = journey(8)
    for step in steps[:3]:
        await step(service)
    with pytest.raises(DuplicateUpdate):
        await steps[2](service)  # the same update again
    with pytest.raises(AlreadyAnswered):
        await service.answer_button(8, "level", "local", 999)  # the same tap, a new update
    with pytest.raises(StaleQuestion):
        await service.answer_button(8, "level", "national", 1000)
    assert (await storage.respondents.get_progress(8, "mini")).answers == {"level": "local"}

"""Reminders to finish the survey over real HTTP, in both languages: on time with a working
Continue button, never to someone who blocked the bot, held back by quiet hours, stopped by
STOP / إيقاف and resumed by /subscribe, none after /delete, and exactly once across a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.invitations import clock as wall_clock
from bot.invitations.delivery import Tuning
from bot.reminders.schedule import QuietHours, Schedule
from bot.reminders.service import ReminderService
from bot.simulator import BotAction, FakeBotApi, SimulatedUser
from bot.survey import views as survey_views
from handlers import outbox
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
from tests.factories import Clock
from tests.test_invitations_e2e import plain
from tests.wiring import open_test_storage, survey_service

AMAL, KARIM, SAMI = 1001, 1002, 1004  # Amman youth worker; Baghdad official; Beirut teacher
AMMAN = ZoneInfo("Asia/Amman")
CONTINUE = survey_views.Resume(False).pack()
SCANS = 0.6
"""Long enough for several reminder scans (every 0.1 s here)."""


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The delivery engine's clock (the survey's own stays real: answers are stamped now)."""
    moved = Clock(datetime.now(UTC))
    monkeypatch.setattr(wall_clock, "now", moved)
    return moved


@pytest.fixture
async def bot(fake_api: FakeBotApi, database: str, monkeypatch) -> AsyncIterator[Harness]:
    """Hiwar with reminder scans every 0.1 s and no quiet hours (tests set them), not started."""
    monkeypatch.setattr(
        outbox,
        "TUNING",
        Tuning(
            reminder_scan_every=0.1,
            survey_reminders_every=0.1,
            reminder_first_scan=0.1,
            idle_poll=0.05,
        ),
    )
    settings = make_settings(fake_api, database, broadcast_rate=200, quiet_hours=None)
    harness = Harness(fake_api, settings, SHIPPED_SURVEY)
    yield harness
    await harness.stop()


async def answering(harness: Harness, user_id: int, language: str) -> SimulatedUser:
    """Someone who consented and answered the first two questions (sector, level)."""
    user = harness.user(user_id, f"R{user_id}", language)
    await user.send_command("/start")
    await user.tap(survey_views.PickLanguage(language).pack())
    await user.tap(survey_views.Consent(True).pack())
    await user.tap(survey_views.Answer("sector", "civil_society").pack())
    await user.tap(survey_views.Answer("level", "local").pack())
    return user


def reminders(user: SimulatedUser) -> list[BotAction]:
    return [
        a
        for a in user.messages
        if a.method == "sendMessage" and any(d == CONTINUE for row in a.buttons for _, d in row)
    ]


async def test_reminded_on_time_in_each_language_and_continue_asks_the_current_question(
    bot: Harness, clock: Clock
):
    await bot.start()
    amal, karim = await answering(bot, AMAL, "ar"), await answering(bot, KARIM, "en")
    sami = await answering(bot, SAMI, "en")
    bot.api.block(SAMI)
    clock.now += timedelta(hours=23, minutes=58)
    await asyncio.sleep(SCANS)
    assert reminders(amal) == reminders(karim) == []
    clock.now += timedelta(minutes=3)
    await bot.api.wait_for(lambda: bool(reminders(amal) and reminders(karim)), timeout=10)
    [for_amal], [for_karim] = reminders(amal), reminders(karim)
    assert plain(for_amal.text).startswith("تذكير: أجبت حتى الآن عن سؤالين من أصل ")
    assert "«إيقاف»" in for_amal.text
    assert [label for label, _ in for_amal.buttons[0]] == ["متابعة الاستبيان"]
    assert plain(for_karim.text).startswith("A reminder: you have answered 2 of ")
    assert "send STOP" in for_karim.text

    replies = await karim.tap("Continue the survey")
    asked = next(r for r in replies if r.method == "sendMessage")
    assert any(data.startswith("A:country:") for row in asked.buttons for _, data in row)
    await karim.tap(survey_views.Answer("country", "iraq").pack())

    await bot.api.wait_for(lambda: len(sami.chat.errors) == 1, timeout=10)
    clock.now += timedelta(hours=72)
    await bot.api.wait_for(lambda: len(reminders(amal)) == len(reminders(karim)) == 2, 10)
    assert plain(reminders(karim)[1].text).startswith("A reminder: you have answered 3 of ")
    await asyncio.sleep(SCANS)
    assert len(reminders(amal)) == len(reminders(karim)) == 2  # two at most
    assert len(sami.chat.errors) == 1  # blocked: marked, and never tried again
    [[reason]] = await bot.query(f"SELECT reason FROM invitation_optouts WHERE user_id = {SAMI}")
    assert reason == "blocked"


async def test_quiet_hours_hold_a_reminder_until_morning(bot: Harness, clock: Clock):
    due = clock.now + timedelta(hours=24, minutes=1)
    hour = due.astimezone(AMMAN).hour
    quiet = QuietHours(time((hour - 1) % 24), time((hour + 2) % 24))
    bot.settings = replace(bot.settings, quiet_hours=(quiet.start, quiet.end))
    await bot.start()
    amal = await answering(bot, AMAL, "ar")
    clock.now = due
    await asyncio.sleep(SCANS)
    assert reminders(amal) == []
    clock.now = quiet.ends_after(due, AMMAN) + timedelta(seconds=1)
    await bot.api.wait_for(lambda: bool(reminders(amal)), timeout=10)


async def test_stop_in_each_language_then_subscribe_and_delete(bot: Harness, clock: Clock):
    await bot.start()
    amal, karim = await answering(bot, AMAL, "ar"), await answering(bot, KARIM, "en")
    sami = await answering(bot, SAMI, "en")
    replies = await amal.send_text("  إيقاف ")
    assert plain(replies[0].text).startswith("تم: لن تصلك بعد الآن أي دعوات أو تذكيرات")
    replies = await karim.send_text("stop")
    assert replies[0].text.startswith("Done: you will not receive any more invitations")
    assert [label for label, _ in replies[0].buttons[0]] == ["Receive them again"]
    await sami.send_command("/delete")
    await sami.tap("Yes, erase everything")
    clock.now += timedelta(hours=25)
    await asyncio.sleep(SCANS)
    assert reminders(amal) == reminders(karim) == reminders(sami) == []
    assert await bot.query(f"SELECT 1 FROM survey_reminders WHERE user_id = {SAMI}") == []

    replies = await karim.tap("Receive them again")
    assert any("Welcome back: you will receive" in (r.text or "") for r in replies)
    replies = await amal.send_command("/subscribe")
    assert plain(replies[0].text).startswith("أهلًا بعودتك: ستصلك الدعوات والتذكيرات")
    await bot.api.wait_for(lambda: bool(reminders(amal) and reminders(karim)), timeout=10)
    await asyncio.sleep(SCANS)
    assert reminders(sami) == []
    replies = await karim.send_command("/subscribe")
    assert replies[0].text == "You already receive invitations and reminders."


async def test_sent_exactly_once_across_a_crash_and_restarts(
    bot: Harness, clock: Clock, database: str
):
    """A kill -9 after an instance claimed the reminder and before it was sent (as in the
    invitations' tests: that instance's database handle closes, it is no longer live), then
    restarts: the reminder goes out once."""
    await bot.start()
    amal = await answering(bot, AMAL, "ar")
    await bot.stop()
    clock.now += timedelta(hours=25)
    crashed = await open_test_storage(database)
    schedule = Schedule((timedelta(hours=24),), AMMAN)
    respondents = survey_service(crashed, SHIPPED_SURVEY)
    assert await ReminderService(crashed.reminders, respondents, schedule, clock).queue_due() == 1
    assert await crashed.reminders.claim(clock.now) is not None
    await crashed.close()
    await bot.start()
    await bot.api.wait_for(lambda: bool(reminders(amal)), timeout=10)
    await bot.restart()
    await asyncio.sleep(SCANS)
    assert len(reminders(amal)) == 1
    [[state]] = await bot.query("SELECT state FROM survey_reminders")
    assert state == "sent"

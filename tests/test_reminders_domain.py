"""Reminders to finish the survey: the schedule (pure), then the use case over a real database
on each backend (who is reminded, once, and who never is)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.core.i18n import use_language
from bot.invitations.model import OptOut, SendState
from bot.invitations.ports import Settlement
from bot.reminders.schedule import Candidate, QuietHours, Schedule
from bot.reminders.service import ReminderService
from bot.reports.model import Cohort, Counted, History, Inputs
from bot.reports.snapshots import EVERYONE, Noise, dump_view, load_view, publish
from bot.reports.text import summary_lines
from bot.survey.service import SurveyService
from storage import Storage
from tests.e2e import SHIPPED_SURVEY
from tests.factories import Clock, mini_survey
from tests.wiring import open_test_storage, survey_service

AMMAN = ZoneInfo("Asia/Amman")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(hours=24)
DEFAULT = (DAY, timedelta(hours=72))
NIGHT = QuietHours(time(21), time(8))
AMAL, KARIM = 1001, 1002  # a youth worker in Amman; a national official in Baghdad
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # noon in Amman


def candidate(last: datetime, **changes: object) -> Candidate:
    values: dict[str, object] = dict(
        response_id=1, user_id=AMAL, last_answer_at=last, paused_at=None, reminded=0
    )
    return Candidate(**{**values, **changes})  # type: ignore[arg-type]


# -- the schedule ---------------------------------------------------------------------------


def test_two_reminders_24_and_72_hours_after_the_last_answer_then_none():
    schedule = Schedule(DEFAULT, AMMAN)
    assert schedule.due_at(candidate(START)) == START + DAY
    second = candidate(START, reminded=1, last_reminded_at=START + DAY)
    assert schedule.due_at(second) == START + timedelta(hours=72)
    assert schedule.due_at(candidate(START, reminded=2)) is None
    assert Schedule((), AMMAN).due_at(candidate(START)) is None


def test_the_second_reminder_keeps_its_distance_from_a_late_first():
    schedule = Schedule(DEFAULT, AMMAN)
    late_first = START + timedelta(hours=70)  # held back (quiet hours, an opt-out…)
    second = candidate(START, reminded=1, last_reminded_at=late_first)
    assert schedule.due_at(second) == late_first + timedelta(hours=48)


def test_someone_who_paused_is_left_alone_for_a_day():
    schedule = Schedule(DEFAULT, AMMAN)
    paused = START + timedelta(hours=20)
    assert schedule.due_at(candidate(START, paused_at=paused)) == paused + DAY
    long_ago = START - timedelta(days=3)
    assert schedule.due_at(candidate(long_ago, paused_at=long_ago)) == long_ago + DAY


@pytest.mark.parametrize(
    ("due_local", "sent_local"),
    [
        ("2026-11-28 12:00", "2026-11-28 12:00"),  # daytime: on time
        ("2026-11-28 20:59", "2026-11-28 20:59"),
        ("2026-11-28 21:00", "2026-11-29 08:00"),  # evening: the next morning
        ("2026-11-28 23:30", "2026-11-29 08:00"),
        ("2026-11-29 03:00", "2026-11-29 08:00"),  # after midnight: the same morning
        ("2026-11-29 08:00", "2026-11-29 08:00"),
    ],
)
def test_quiet_hours_across_midnight_in_the_survey_time_zone(due_local, sent_local):
    schedule = Schedule((DAY,), AMMAN, NIGHT)
    due = datetime.fromisoformat(due_local).replace(tzinfo=AMMAN)
    sent = schedule.due_at(candidate(due - DAY))
    assert sent is not None and sent.astimezone(AMMAN).strftime("%Y-%m-%d %H:%M") == sent_local


def test_quiet_hours_within_one_day():
    siesta = QuietHours(time(13), time(15, 30))
    assert siesta.ends_after(START, AMMAN) == START  # noon in Amman
    at_two = START + timedelta(hours=2)
    assert siesta.ends_after(at_two, AMMAN) == START + timedelta(hours=3, minutes=30)


@pytest.mark.parametrize(
    ("due_utc", "sent_utc"),
    [
        # Clocks go forward at 02:00 on 29 March 2026: 08:00 is then 06:00 UTC, not 07:00.
        ("2026-03-29T00:30:00+00:00", "2026-03-29T06:00:00+00:00"),
        # Clocks go back at 03:00 on 25 October 2026: 08:00 is then 07:00 UTC.
        ("2026-10-25T00:30:00+00:00", "2026-10-25T07:00:00+00:00"),
    ],
)
def test_quiet_hours_end_at_local_time_across_a_clock_change(due_utc, sent_utc):
    due = datetime.fromisoformat(due_utc)
    assert NIGHT.ends_after(due, BERLIN) == datetime.fromisoformat(sent_utc)


def test_a_schedule_allows_at_most_two_increasing_delays():
    with pytest.raises(ValueError):
        Schedule((DAY, DAY, DAY * 3), AMMAN)
    with pytest.raises(ValueError):
        Schedule((DAY * 3, DAY), AMMAN)


# -- the use case over a real database --------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def respondents(storage: Storage, clock: Clock) -> SurveyService:
    return survey_service(storage, mini_survey(), clock)


@pytest.fixture
def reminders(storage: Storage, respondents: SurveyService, clock: Clock) -> ReminderService:
    return ReminderService(storage.reminders, respondents, Schedule(DEFAULT, AMMAN), clock)


async def started(respondents: SurveyService, user: int = AMAL, answers: int = 1) -> None:
    """Consent, and answer the first `answers` questions (level: local; the scale: 4)."""
    await respondents.choose_language(user, "ar")
    await respondents.consent(user, agreed=True)
    if answers:
        await respondents.answer_button(user, "level", "local", None)
    if answers > 1:
        await respondents.answer_button(user, "no_trust", "2", None)


async def finish(respondents: SurveyService, user: int = AMAL) -> None:
    """Answer the rest of the mini survey after `started(…, answers=2)`."""
    await respondents.toggle_choice(user, "priorities", "inclusion", None)
    await respondents.finish_choices(user, "priorities", None)
    for optional in ("years", "step"):
        await respondents.skip(user, optional, None)
    await respondents.answer_button(user, "invite", "yes", None)


async def send_all(storage: Storage, clock: Clock, state: SendState = SendState.SENT) -> list:
    """Claim every due reminder and settle it with `state`; the claimed rows."""
    claimed = []
    while (row := await storage.reminders.claim(clock.now)) is not None:
        claimed.append(row)
        await storage.reminders.settle([(row, Settlement(state, 1, message_id=7))], clock.now)
    return claimed


async def test_reminded_on_time_with_where_they_stopped_twice_at_most(
    storage, respondents, reminders, clock
):
    await started(respondents, answers=2)
    clock.now += timedelta(hours=23, minutes=59)
    assert await reminders.queue_due() == 0
    clock.now += timedelta(minutes=1)
    assert await reminders.queue_due() == 1
    assert await reminders.queue_due() == 0  # queued once
    [first] = await send_all(storage, clock)
    assert (first.number, first.user_id, first.language) == (1, AMAL, "ar")
    assert (first.answered, first.total) == (2, 6)
    clock.now = START + timedelta(hours=72)
    assert await reminders.queue_due() == 1
    [second] = await send_all(storage, clock)
    assert second.number == 2
    clock.now += timedelta(days=30)
    assert await reminders.queue_due() == 0


async def test_no_reminder_once_finished_or_while_recently_paused(
    storage, respondents, reminders, clock
):
    await started(respondents, AMAL)
    await started(respondents, KARIM)
    clock.now += timedelta(hours=20)
    await respondents.pause(KARIM)
    clock.now += timedelta(hours=5)
    assert await reminders.queue_due() == 1  # Amal; Karim paused 5 hours ago
    [row] = await send_all(storage, clock)
    assert row.user_id == AMAL
    clock.now = START + timedelta(hours=44, minutes=1)  # a day after Karim paused
    assert await reminders.queue_due() == 1
    assert [r.user_id for r in await send_all(storage, clock)] == [KARIM]


async def test_a_reminder_queued_before_the_person_finished_is_not_sent(
    storage, respondents, reminders, clock
):
    await started(respondents, answers=2)
    clock.now += DAY
    assert await reminders.queue_due() == 1
    await finish(respondents)
    assert await storage.reminders.claim(clock.now) is None
    clock.now += timedelta(days=5)
    assert await reminders.queue_due() == 0


async def test_unsubscribed_and_blocked_people_are_never_reminded(
    storage, respondents, reminders, clock
):
    await started(respondents, AMAL)
    await started(respondents, KARIM)
    clock.now += DAY
    assert await reminders.queue_due() == 2
    await storage.invitations.opt_out(AMAL, OptOut.UNSUBSCRIBED, clock.now)
    [to_karim] = await send_all(storage, clock, SendState.BLOCKED)  # Amal's was cancelled
    assert to_karim.user_id == KARIM
    optouts = await storage.database.fetchall(
        "SELECT user_id, reason FROM invitation_optouts ORDER BY user_id"
    )
    assert [tuple(r) for r in optouts] == [(AMAL, "unsubscribed"), (KARIM, "blocked")]
    clock.now += timedelta(days=5)
    assert await reminders.queue_due() == 0
    assert await storage.invitations.opt_in(AMAL)  # /subscribe
    assert not await storage.invitations.opt_in(AMAL)
    assert await reminders.queue_due() == 1  # her second (the first was cancelled)


async def test_delete_erases_every_reminder_row(storage, respondents, reminders, clock):
    await started(respondents, AMAL)
    await started(respondents, KARIM)
    clock.now += DAY
    await reminders.queue_due()
    await send_all(storage, clock)
    await storage.invitations.opt_out(AMAL, OptOut.UNSUBSCRIBED, clock.now)
    await respondents.delete_everything(AMAL)
    rows = await storage.database.fetchall("SELECT user_id FROM survey_reminders")
    assert [r[0] for r in rows] == [KARIM]
    assert await storage.database.fetchall("SELECT 1 FROM invitation_optouts") == []
    clock.now += timedelta(days=5)
    await reminders.queue_due()
    assert {r.user_id for r in await send_all(storage, clock)} == {KARIM}


async def test_instances_sharing_a_database_queue_each_reminder_once(
    storage, database, respondents, clock
):
    await started(respondents, AMAL)
    clock.now += DAY
    others = [await open_test_storage(database) for _ in range(2)]
    try:
        services = [
            ReminderService(
                s.reminders,
                survey_service(s, mini_survey(), clock),
                Schedule(DEFAULT, AMMAN),
                clock,
            )
            for s in (storage, *others)
        ]
        queued = await asyncio.gather(*(s.queue_due() for s in services))
    finally:
        for other in others:
            await other.close()
    assert sum(queued) == 1
    assert len(await send_all(storage, clock)) == 1


async def test_a_reminder_left_sending_by_a_crash_is_sent_again(
    storage, database, respondents, reminders, clock
):
    """Regression: a kill -9 between claiming a reminder and settling it must not lose it."""
    await started(respondents)
    clock.now += DAY
    await reminders.queue_due()
    crashed = await open_test_storage(database)
    assert await crashed.reminders.claim(clock.now) is not None
    await crashed.close()  # it died before sending: its instance is not live any more
    assert await storage.reminders.claim(clock.now) is None  # still `sending`
    assert await storage.invitations.requeue_interrupted() == 1
    assert len(await send_all(storage, clock)) == 1
    assert await storage.invitations.requeue_interrupted() == 0


# -- /summary: finished after a reminder -----------------------------------------------------


def test_the_summary_shows_finished_after_a_reminder_only_from_k_and_noised():
    cohorts = (Cohort("jordan", "civil_society", "local", None, 12),)
    views = {}
    for reminded in (4, 9):
        inputs = Inputs(cohorts, (), (), {}, after_reminder=reminded)
        snapshot = publish(SHIPPED_SURVEY, History(), inputs, 5, Noise(b"k"), START)
        views[reminded] = snapshot.views[EVERYONE]
    assert views[4].after_reminder is None
    assert views[9].after_reminder is not None and abs(views[9].after_reminder - 9) <= 2
    stored = load_view(SHIPPED_SURVEY, dump_view(views[9]))
    assert stored.after_reminder == views[9].after_reminder
    with use_language("en"):
        shown = f"Finished after a reminder: \u2068{views[9].after_reminder}\u2069"
        assert shown in summary_lines(stored)
        assert not any("reminder" in line for line in summary_lines(views[4]))


async def test_responses_finished_after_a_sent_reminder_are_counted(
    storage, respondents, reminders, clock
):
    await started(respondents, AMAL, answers=2)
    await started(respondents, KARIM, answers=2)
    clock.now += DAY
    await reminders.queue_due()
    await send_all(storage, clock)
    await started(respondents, 1003, answers=2)  # never reminded
    clock.now += timedelta(hours=1)
    for user in (AMAL, 1003):
        await finish(respondents, user)
    inputs = await storage.reports.snapshot_inputs("mini", 0, Counted(()), ())
    assert inputs.after_reminder == 1  # Amal; Karim has not finished, 1003 was not reminded


# -- settings ---------------------------------------------------------------------------------


def test_reminder_settings_are_read_and_bad_ones_named():
    settings = load_settings(
        {
            "HIWAR_REMINDERS": "90m, 2d",
            "HIWAR_QUIET_HOURS": "22:30-07",
            "HIWAR_TIMEZONE": "Asia/Baghdad",
        },
        env_file=None,
    )
    assert settings.survey_reminders == (timedelta(minutes=90), timedelta(days=2))
    assert settings.quiet_hours == (time(22, 30), time(7))
    assert settings.time_zone == "Asia/Baghdad"
    off = load_settings({"HIWAR_REMINDERS": "off", "HIWAR_QUIET_HOURS": "OFF"}, env_file=None)
    assert (off.survey_reminders, off.quiet_hours) == ((), None)
    defaults = load_settings({}, env_file=None)
    assert defaults.survey_reminders == DEFAULT and defaults.time_zone == "Asia/Amman"
    for name, bad in (
        ("HIWAR_REMINDERS", "72h,24h"),
        ("HIWAR_REMINDERS", "24h,48h,72h"),
        ("HIWAR_REMINDERS", "tomorrow"),
        ("HIWAR_QUIET_HOURS", "21-25"),
        ("HIWAR_QUIET_HOURS", "8-8"),
        ("HIWAR_TIMEZONE", "Amman"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: bad}, env_file=None)

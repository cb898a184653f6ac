"""Invitations over real HTTP: the PTB Application polling the fake Bot API, the admin's /invite
wizard, recipients in both languages, 429s and 403s, a broadcast interrupted and resumed by a
new Application on the same database, RSVPs, reminders after a restart, /unsubscribe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.core.i18n import _, use_language
from bot.invitations import clock
from bot.invitations.delivery import Tuning
from bot.simulator import BotAction, FakeBotApi, SimulatedUser
from handlers import outbox as invitations_telegram
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
from tests.test_invitations_domain import AMAL, KARIM, LEILA, PEOPLE, SAMI, respond
from tests.wiring import open_test_storage

AMMAN = ZoneInfo("Asia/Amman")
NAMES = {AMAL: "Amal", KARIM: "Karim", LEILA: "Leila", SAMI: "Sami"}


def plain(text: str | None) -> str:
    """What the reader sees, without the Unicode isolates around inserted values."""
    return (text or "").replace("\u2068", "").replace("\u2069", "")


def label(language: str, message: str) -> str:
    with use_language(language):
        return _(message)


@pytest.fixture
async def bot(fake_api: FakeBotApi, database: str, monkeypatch) -> AsyncIterator[Harness]:
    """Hiwar with fast engine timings and a high rate limit, not started yet: seed first."""
    monkeypatch.setattr(
        invitations_telegram,
        "TUNING",
        Tuning(backoff=0.3, progress_every=0.2, idle_poll=0.05, drain_timeout=5.0),
    )
    harness = Harness(
        fake_api, make_settings(fake_api, database, broadcast_rate=200), SHIPPED_SURVEY
    )
    yield harness
    await harness.stop()


async def seed(harness: Harness, extra: int = 0) -> list[SimulatedUser]:
    """The four personas, plus `extra` opted-in respondents; their private chats exist."""
    storage = await open_test_storage(harness.settings.database)
    people = dict(PEOPLE)
    for index in range(extra):
        people[2000 + index] = ("ar" if index % 2 else "en", PEOPLE[AMAL][1], "yes")
    try:
        for user_id, (language, *_rest) in people.items():
            await respond(storage.respondents, user_id, people=people)
            harness.user(user_id, NAMES.get(user_id, f"R{user_id}"), language)
    finally:
        await storage.close()
    return [
        harness.user(user_id, NAMES.get(user_id, "R"), people[user_id][0]) for user_id in people
    ]


def start_text(days: int = 3) -> str:
    moment = clock.now().astimezone(AMMAN) + timedelta(days=days)
    return moment.strftime("%Y-%m-%d") + " 10:00"


async def create_invitation(
    admin: SimulatedUser, taps: tuple[str, ...] = (), place: str = "Amman City Hall"
) -> list[BotAction]:
    """Walk the wizard with valid answers; `taps` narrow the audience; returns the preview."""
    await admin.send_command("/invite")
    for text in (
        "ورشة التعاون المحلي",
        "Local cooperation workshop",
        "لقاء عملي بين الجهات الوطنية والمحلية.",
        "A working meeting of national and local actors.",
        "Asia/Amman",
        start_text(),
        "2:30",
        place,
    ):
        await admin.send_text(text)
    for tap in taps:
        await admin.tap(tap)
    return await admin.tap("Preview", until=lambda actions: len(actions) >= 4)


def documents(user: SimulatedUser) -> list[BotAction]:
    return [a for a in user.messages if a.method == "sendDocument"]


def reminders(user: SimulatedUser) -> list[BotAction]:
    return [
        a
        for a in user.messages
        if a.method == "sendMessage"
        and "/mydata" not in (a.text or "")
        and a.buttons
        and a.buttons[0][0][1].startswith("rsvp:")
    ]


def last_message(actions: list[BotAction]) -> str:
    """The text of the last message the bot sent among `actions` (the tap's answer comes
    after it)."""
    return plain(next(a for a in reversed(actions) if a.method == "sendMessage").text)


def final_reports(admin: SimulatedUser) -> list[str]:
    return [a.text for a in admin.messages if a.text and "Invitation sent" in a.text]


async def broadcast(api: FakeBotApi, admin: SimulatedUser, timeout: float = 15.0) -> str:
    """Press Send and wait for the final report; returns it."""
    before = len(final_reports(admin))
    await admin.tap("Send now")
    await api.wait_for(lambda: len(final_reports(admin)) > before, timeout=timeout)
    return final_reports(admin)[-1]


async def test_invite_preview_send_in_each_language(bot: Harness):
    amal, karim, leila, sami = await seed(bot)
    await bot.start()
    admin = bot.admin("en")

    replies = await admin.send_text("not a command, no draft")
    assert "Invitation" not in "".join(r.text or "" for r in replies)  # the survey answered

    await admin.send_command("/invite")
    replies = await admin.send_text("Local cooperation workshop")
    assert label("en", "This should be in Arabic, but it has no Arabic letters.")[:20] in (
        replies[0].text
    )
    await admin.send_text("ورشة التعاون المحلي")
    await admin.send_text("Local cooperation workshop")
    await admin.send_text("لقاء عملي.")
    await admin.send_text("A working meeting.")
    replies = await admin.send_text("Amman/Atlantis")
    assert "Amman/Atlantis" in plain(replies[0].text) and "step 5 of 10" in plain(replies[0].text)
    await admin.send_text("asia/amman")
    replies = await admin.send_text("2020-01-01 10:00")
    assert "already passed" in plain(replies[0].text)
    replies = await admin.send_text("next tuesday")
    assert "could not read that date" in plain(replies[0].text)
    await admin.send_text(start_text())
    await admin.send_text("150")
    await admin.send_text("https://meet.example.org/hiwar")

    await admin.tap("Country")
    await admin.tap("Jordan")
    await admin.tap("Iraq")
    replies = await admin.tap("Done")
    assert "2 people would receive it" in plain(replies[0].text)
    preview = await admin.tap("Preview", until=lambda actions: len(actions) >= 4)
    arabic_card, english_card = (a for a in preview if a.method == "sendDocument")
    assert arabic_card.text.startswith("يسعدنا")
    assert "https://meet.example.org/hiwar" in english_card.text
    assert "(in Arabic: 1, in English: 1)" in last_message(preview)
    replies = await admin.tap("سأحضر", message_id=arabic_card.message_id)
    assert "preview" in replies[0].callback_text

    report = await broadcast(bot.api, admin)
    assert "Sent: 2" in plain(report)
    assert [len(documents(u)) for u in (amal, karim, leila, sami)] == [1, 1, 0, 0]
    [for_amal], [for_karim] = documents(amal), documents(karim)
    assert for_amal.text.startswith("يسعدنا أن ندعوك")
    assert "توقيت الأردن" in for_amal.text and "Jordan Time" in for_karim.text
    assert [label for label, _data in for_amal.buttons[0]] == ["لن أحضر", "ربما", "سأحضر"]
    assert [label for label, _data in for_karim.buttons[0]] == [
        "Attending",
        "Maybe",
        "Not attending",
    ]
    calendar = Calendar.from_ical(bytes(for_amal.document))
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart").tzinfo.key == "Asia/Amman"
    assert event.decoded("dtstart").hour == 10
    assert str(event["summary"]) == "ورشة التعاون المحلي"
    assert for_amal.document_name.endswith(".ics")

    listing = await admin.send_command("/invitations")
    assert "Sent: 2" in plain(listing[0].text) and "no answer: 2" in plain(listing[0].text)


async def test_only_admins_invite_and_the_wizard_can_be_cancelled(bot: Harness):
    amal, *_others = await seed(bot)
    await bot.start()
    replies = await amal.send_command("/invite")
    assert replies[0].text == label("ar", "This command is for administrators.")
    admin = bot.admin("en")
    await admin.send_command("/invite")
    await admin.send_text("ورشة")
    await bot.restart()  # the draft is in the database
    replies = await admin.send_command("/invite")
    assert "step 2 of 10" in plain(replies[0].text)
    replies = await admin.send_command("/cancel")
    assert replies[0].text == label("en", "The invitation was discarded; nothing was sent.")
    replies = await admin.send_text("hello")
    assert "step" not in (replies[0].text or "")  # back to the survey


async def test_429_and_403_during_a_broadcast(bot: Harness):
    amal, karim, _leila, sami, *more = await seed(bot, extra=4)
    await bot.start()
    api, admin = bot.api, bot.admin("en")
    api.fail_next("sendDocument", chat_id=KARIM, status=429, retry_after=1)
    api.fail_next("sendDocument", chat_id=more[0].id, status=502)
    api.block(SAMI)
    await create_invitation(admin)
    report = await broadcast(api, admin)
    assert "Sent: 6" in plain(report) and "Blocked the bot: 1" in plain(report)

    everyone = [amal, karim, sami, *more]
    assert [len(documents(u)) for u in everyone] == [1, 1, 0, 1, 1, 1, 1]
    rate_limited = next(e for e in karim.chat.errors if e.error_code == 429)
    paused = [
        a
        for a in api.actions
        if a.method == "sendDocument"
        and rate_limited.timestamp + 0.1 < a.timestamp < rate_limited.timestamp + 0.99
    ]
    assert paused == [], "something was sent while Telegram asked to wait"

    blocked_attempts = len(sami.chat.errors)
    await create_invitation(admin)
    await broadcast(api, admin)
    assert len(sami.chat.errors) == blocked_attempts  # never messaged again
    assert [len(documents(u)) for u in everyone] == [2, 2, 0, 2, 2, 2, 2]


async def test_an_interrupted_broadcast_resumes_without_duplicates(
    fake_api: FakeBotApi, database: str, monkeypatch
):
    monkeypatch.setattr(invitations_telegram, "TUNING", Tuning(progress_every=0.2, idle_poll=0.05))
    harness = Harness(fake_api, make_settings(fake_api, database, broadcast_rate=5), SHIPPED_SURVEY)
    try:
        recipients = [u for u in await seed(harness, extra=8) if u.id != LEILA]
        await harness.start()
        admin = harness.admin("en")
        await create_invitation(admin)
        await admin.tap("Send now")
        await fake_api.wait_for(lambda: sum(map(len, map(documents, recipients))) >= 3)
        await harness.restart()  # a new Application on the same database
        await fake_api.wait_for(lambda: bool(final_reports(admin)), timeout=15)
    finally:
        await harness.stop()
    assert [len(documents(u)) for u in recipients] == [1] * len(recipients)


async def test_rsvp_changes_and_reminders_after_a_restart(bot: Harness, monkeypatch):
    amal, karim, _leila, sami = await seed(bot)
    await bot.start()
    admin = bot.admin("en")
    await create_invitation(admin)
    await broadcast(bot.api, admin)

    card = documents(amal)[0]
    replies = await amal.tap("سأحضر", message_id=card.message_id)
    toast = next(r for r in replies if r.method == "answerCallbackQuery")
    assert toast.callback_text.startswith("شكرًا لك")
    assert "سنرسل إليك تذكيرًا" in toast.callback_text
    await amal.tap("ربما", message_id=card.message_id)
    assert [label for label, _ in amal.buttons(card.message_id)[0]] == [
        "لن أحضر",
        "✅ ربما",
        "سأحضر",
    ]
    await karim.tap("Attending", message_id=documents(karim)[0].message_id)
    await karim.tap("Not attending", message_id=documents(karim)[0].message_id)
    listing = await admin.send_command("/invitations")
    assert "attending: 0, maybe: 1, not attending: 1" in plain(listing[0].text)

    await bot.stop()
    starts = datetime.fromisoformat(start_text().replace(" ", "T")).replace(tzinfo=AMMAN)
    the_day_before = starts - timedelta(hours=23)
    monkeypatch.setattr(clock, "now", lambda: the_day_before.astimezone(UTC))
    await bot.start()  # the reminder job scans the database on start
    await bot.api.wait_for(lambda: bool(reminders(amal)))
    [reminder] = reminders(amal)
    assert reminder.text.startswith("تذكير")
    assert [label for label, _ in reminder.buttons[0]] == ["لن أحضر", "ربما", "سأحضر"]
    await bot.restart()
    await amal.send_command("/mydata")  # by now the job has run again
    assert len(reminders(amal)) == 1  # sent once, even across restarts
    assert reminders(karim) == reminders(sami) == []


async def test_unsubscribe_stops_all_invitations(bot: Harness):
    amal, karim, _leila, sami = await seed(bot)
    await bot.start()
    replies = await sami.send_command("/unsubscribe")
    assert replies[0].text.startswith("Done: you will not receive")
    admin = bot.admin("en")
    preview = await create_invitation(admin)
    assert "2 people would receive it" in last_message(preview)
    await broadcast(bot.api, admin)
    assert [len(documents(u)) for u in (amal, karim, sami)] == [1, 1, 0]
    assert not sami.chat.errors


async def test_a_replayed_rsvp_tap_is_applied_without_an_apology(bot: Harness):
    """A tap replayed after a crash can no longer be answered: the answer is still stored and
    ticked, and nobody is told that something went wrong."""
    amal, *_others = await seed(bot)
    await bot.start()
    admin = bot.admin("en")
    await create_invitation(admin)
    await broadcast(bot.api, admin)
    card = documents(amal)[0]
    replies = await amal.tap("سأحضر", message_id=card.message_id, answerable=False)
    assert [a.method for a in replies] == ["editMessageReplyMarkup"]
    assert amal.buttons(card.message_id)[0][-1][0] == "✅ سأحضر"
    listing = await admin.send_command("/invitations")
    assert "attending: 1" in plain(listing[0].text)

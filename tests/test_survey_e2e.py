"""Respondents over real HTTP: the PTB Application polling the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import random

import pytest

from bot.core.i18n import _, use_language
from bot.demo import Persona, current_question, take_part
from bot.simulator import SimulatedUser
from bot.survey.errors import PasteTooLong
from bot.survey.messages import ERRORS
from bot.survey.views import LANGUAGE_NAMES
from tests.e2e import Harness
from tests.respondents import BARRIERS, RATINGS
from tests.wiring import open_test_storage

SURVEY_ID = "pcve-cooperation"


def local_youth_worker(language: str = "ar", user_id: int = 1001) -> Persona:
    return Persona(user_id, "Amal", language, "frontline", "local", "jordan", barrier_lean=1)


def label(language: str, message: str, **values: object) -> str:
    with use_language(language):
        return _(message, **values)


async def consent(user: SimulatedUser, language: str) -> None:
    await user.send_command("/start")
    await user.tap("العربية" if language == "ar" else "English")
    await user.tap(label(language, "I agree"))


def texts(replies) -> str:
    return "\n".join(r.text for r in replies if r.text)


async def press_stale(user: SimulatedUser, message_id: int, data: str):
    """Tap a button as it was on an old message (a client can show keyboards that are gone)."""
    user.chat.messages[message_id]["reply_markup"] = {
        "inline_keyboard": [[{"text": "old", "callback_data": data}]]
    }
    return await user.tap(data, message_id=message_id)


async def asked(hiwar: Harness, user_id: int) -> str | None:
    storage = await open_test_storage(hiwar.settings.database)
    try:
        progress = await storage.respondents.get_progress(user_id, SURVEY_ID)
        return None if progress is None else progress.current
    finally:
        await storage.close()


async def stored_answers(hiwar: Harness, user_id: int) -> dict:
    storage = await open_test_storage(hiwar.settings.database)
    try:
        progress = await storage.respondents.get_progress(user_id, SURVEY_ID)
        return {} if progress is None else dict(progress.answers)
    finally:
        await storage.close()


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_complete_conversation(hiwar: Harness, language: str):
    amal = hiwar.user(1001, "Amal", language)
    answered = await take_part(
        hiwar.api, hiwar.survey, local_youth_worker(language), random.Random(3)
    )
    assert answered >= 14
    summary = amal.last_text
    assert summary is not None
    assert label(language, "Thank you! Your answers are saved.") in summary
    answers = await stored_answers(hiwar, 1001)
    assert answers["level"] == "local" and answers["sector"] == "frontline"
    if language == "ar":
        first_question = next(a for a in amal.messages if a.text and "السؤال" in a.text)
        assert first_question.text.startswith("<b>")  # Arabic title first, then the question
        assert "السؤال \u20681\u2069 من" in first_question.text


async def test_arabic_keyboard_rows_are_mirrored(hiwar: Harness):
    amal = hiwar.user(1002, "Amal", "ar")
    await consent(amal, "ar")
    await amal.tap("A:sector:frontline")
    navigation = amal.buttons()[-1]
    # Telegram lays rows out left to right; for Arabic "Back" must sit on the right.
    assert [lbl for lbl, _d in navigation] == ["رجوع"] or navigation[-1][0] == "رجوع"


async def test_progress_counts_skip_logic(hiwar: Harness):
    officer = hiwar.user(1003, "Omar", "en")
    await consent(officer, "en")
    # Until the sector is known, the police follow-up counts as on the path.
    every = len(hiwar.survey.questions)
    assert f"Question \u20681\u2069 of \u2068{every}\u2069" in officer.last_text
    await officer.tap("A:sector:law_enforcement")
    assert f"of \u2068{every}\u2069" in officer.last_text
    await officer.send_command("/back")
    await officer.tap("A:sector:civil_society")
    assert f"Question \u20682\u2069 of \u2068{every - 1}\u2069" in officer.last_text


async def test_bad_inputs_get_clear_replies_and_change_nothing(hiwar: Harness):
    sara = hiwar.user(1004, "Sara", "en")
    await consent(sara, "en")
    replies = await sara.send_text("civil society")
    assert "buttons" in replies[0].text
    assert current_question(sara, hiwar.survey).id == "sector"
    replies = await sara.send_sticker()
    assert "Nothing was changed" in replies[0].text
    await sara.send_photo()
    await sara.send_voice()
    await sara.tap("A:sector:civil_society")
    stale_keyboard = next(iter(sara.chat.bot_message_ids))  # an old message, kept by the client
    await sara.tap("A:level:local")
    # The same button tapped twice, then a different one from an already answered question.
    replies = await press_stale(sara, stale_keyboard, "A:level:local")
    assert replies[-1].callback_text == label(
        "en", "Your answer to that question is already saved."
    )
    replies = await press_stale(sara, stale_keyboard, "A:sector:academia")
    assert "earlier question" in replies[-1].callback_text
    await sara.tap("A:country:jordan")
    for text, expected in [("seventy", "whole number"), ("99", "from"), ("2.5", "whole number")]:
        replies = await sara.send_text(text)
        assert expected in replies[0].text, text
    await sara.send_text("٧")  # Arabic-Indic digits are fine
    answers = await stored_answers(hiwar, 1004)
    assert answers == {"sector": "civil_society", "level": "local", "country": "jordan", "years": 7}


async def test_over_long_free_text_is_refused_and_nothing_lost(hiwar: Harness):
    nadia = hiwar.user(1005, "Nadia", "ar")
    await reach_missing_channel(nadia, "ar")
    assert current_question(nadia, hiwar.survey).id == "missing_channel"
    replies = await nadia.send_text("س" * 501)
    # Issue #15: a unit, and no Latin thousands comma beside the Arabic one.
    assert replies[0].text.startswith("عدد أحرف إجابتك \u2068501\u2069، والحد الأقصى \u2068500\u2069 حرف.")
    assert await asked(hiwar, 1005) == "missing_channel"
    await nadia.send_text("قناة رسمية مع الوزارة")
    assert (await stored_answers(hiwar, 1005))["missing_channel"] == "قناة رسمية مع الوزارة"


async def test_multiple_choice_toggles_with_marks_and_a_maximum(hiwar: Harness):
    rami = hiwar.user(1006, "Rami", "en")
    await consent(rami, "en")
    for data in ["A:sector:academia", "A:level:national", "S:country", "S:years"]:
        await rami.tap(data)
    await through_context_and_statements(rami, 2)
    assert current_question(rami, hiwar.survey).id == "priorities"
    await rami.tap("T:priorities:inclusion")
    assert any(lbl.startswith("✅") for lbl in rami.button_labels())
    await rami.tap("T:priorities:funding")
    replies = await rami.tap("T:priorities:analysis")
    assert "at most" in replies[-1].callback_text
    await rami.tap("T:priorities:inclusion")  # untick
    await rami.tap("D:priorities")
    assert (await stored_answers(hiwar, 1006))["priorities"] == ["funding"]


async def test_back_skip_language_switch_and_cancel(hiwar: Harness):
    layla = hiwar.user(1007, "Layla", "en")
    await consent(layla, "en")
    replies = await layla.send_command("/back")
    assert "first question" in replies[0].text
    replies = await layla.send_command("/skip")
    assert "cannot be skipped" in replies[0].text
    await layla.tap("A:sector:local_gov")
    await layla.send_command("/back")
    assert "Your earlier answer" in layla.last_text
    await layla.tap("A:sector:civil_society")
    assert current_question(layla, hiwar.survey).id == "level"
    await layla.send_command("/language")
    await layla.tap("العربية")
    assert layla.last_text.startswith("<b>السؤال")  # the current question, now in Arabic
    await layla.tap("A:level:community")
    replies = await layla.send_command("/cancel")
    assert replies[0].text.startswith("تم الإيقاف المؤقت")
    replies = await layla.send_text("مرحبا")
    assert "أجبت حتى الآن عن سؤالين من أصل" in replies[0].text  # 2 of …, in words
    await layla.tap(label("ar", "Continue"))
    assert current_question(layla, hiwar.survey).id == "country"
    assert await stored_answers(hiwar, 1007) == {"sector": "civil_society", "level": "community"}


async def test_consent_declined_stores_no_answers(hiwar: Harness):
    yusuf = hiwar.user(1008, "Yusuf", "en")
    await yusuf.send_command("/start")
    await yusuf.tap("English")
    replies = await yusuf.tap(label("en", "No, thank you"))
    assert "none of your answers" in texts(replies)
    assert await stored_answers(hiwar, 1008) == {}


async def test_mydata_and_delete(hiwar: Harness):
    huda = hiwar.user(1009, "Huda", "en")
    await consent(huda, "en")
    await huda.tap("A:sector:faith_based")
    replies = await huda.send_command("/mydata")
    # Issue #15: answers are named by the question's short label, not its whole text.
    assert "• Sector: Religious leader / faith-based group" in replies[0].text
    assert "Which sector" not in replies[0].text
    await huda.send_command("/delete")
    replies = await huda.tap(label("en", "No, keep it"))
    assert await stored_answers(hiwar, 1009) != {}
    await huda.send_command("/delete")
    await huda.tap(label("en", "Yes, erase everything"))
    assert await stored_answers(hiwar, 1009) == {}
    replies = await huda.send_command("/mydata")
    assert "nothing" in replies[0].text


async def test_commands_in_a_group_point_to_the_private_chat(hiwar: Harness):
    group = hiwar.user(1010, "Ali", "ar").in_group(-5001)
    replies = await group.send_command("/start")
    assert replies[0].text.startswith("حفاظًا على خصوصية")
    assert "t.me/hiwar_test_bot" in replies[0].text


async def test_a_group_gets_nothing_but_the_pointer_even_when_it_fails(hiwar: Harness):
    """Regression: when the pointer could not be sent (the command already deleted), the
    guard raised before stopping the update, and /mydata posted the answers in the group."""
    amal = hiwar.user(1013, "Amal", "en")
    await consent(amal, "en")
    await amal.tap("A:sector:frontline")
    group = amal.in_group(-5002)
    for command in ("/mydata", "/start", "/delete"):
        hiwar.api.fail_next("sendMessage", chat_id=-5002, status=400)
        await group.send_command(command, expect_reply=False)
        replies = await group.send_command(command)
        assert [a.method for a in replies] == ["sendMessage"]
        assert "private chat" in replies[0].text and "frontline" not in replies[0].text.lower()
    assert [a.chat_id for a in hiwar.api.actions if a.chat_id == -5002 and a.ok] == [-5002] * 3
    assert await stored_answers(hiwar, 1013) == {"sector": "frontline"}


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_typed_numbers_are_read_strictly_and_confirmed(hiwar: Harness, language: str):
    sara = hiwar.user(1014, "Sara", language)
    await reach_years(sara, language)
    for text in ("2,5", "1 5", "1_0", "1e1", "٢٬٥"):
        replies = await sara.send_text(text)
        assert replies[0].text == label(language, "Please type a whole number, for example 7.")
    assert "years" not in await stored_answers(hiwar, 1014)
    replies = await sara.send_text("١٥")
    assert replies[0].text.startswith("✔️ " + label(language, "Saved: {answer}", answer="15"))
    assert (await stored_answers(hiwar, 1014))["years"] == 15


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_stale_screens_neither_destroy_nor_misreport(hiwar: Harness, language: str):
    """Regressions: "No, thank you" on the old consent card said nothing was stored while
    answers were; "Start over" erased everything at once, also from an old welcome-back
    card; a second tap on Done raised an alarm about an earlier question."""
    layla = hiwar.user(1015, "Layla", language)
    await layla.send_command("/start")
    await layla.tap(LANGUAGE_NAMES[language])
    consent_card = layla.chat.messages[max(layla.chat.messages)]["message_id"]
    await layla.tap(label(language, "I agree"))
    await layla.tap("A:sector:academia")
    replies = await press_stale(layla, consent_card, "C:0")
    assert texts(replies) == label(
        language,
        "You are already taking part, so nothing was changed: your answers are kept. "
        "To erase them, send /delete.",
    )
    assert await stored_answers(hiwar, 1015) == {"sector": "academia"}

    await layla.send_command("/cancel")
    await layla.send_command("/start")
    welcome_back = max(layla.chat.messages)
    await layla.tap(label(language, "Start over"))
    shown = [label(language, "Yes, start over"), label(language, "No, continue")]
    assert layla.button_labels() == (shown[::-1] if language == "ar" else shown)  # RTL row
    await layla.tap(label(language, "No, continue"))
    assert await stored_answers(hiwar, 1015) == {"sector": "academia"}
    await press_stale(layla, welcome_back, "R:1")  # the old welcome-back card asks again
    assert await stored_answers(hiwar, 1015) == {"sector": "academia"}
    await layla.tap(label(language, "Yes, start over"))
    assert await stored_answers(hiwar, 1015) == {}

    for data in ["A:sector:academia", "A:level:local", "S:country", "S:years"]:
        await layla.tap(data)
    await through_context_and_statements(layla, 2)
    card = max(layla.chat.messages)
    await layla.tap("T:priorities:realism")
    await layla.tap("D:priorities")
    replies = await press_stale(layla, card, "D:priorities")
    toast = next(a for a in replies if a.method == "answerCallbackQuery")
    assert toast.callback_text == label(language, "Your answer to that question is already saved.")
    assert not toast.show_alert


async def test_restart_mid_question_and_mid_multiple_choice_loses_nothing(hiwar: Harness):
    amal, omar = hiwar.user(1011, "Amal", "ar"), hiwar.user(1012, "Omar", "en")
    for user, language in [(amal, "ar"), (omar, "en")]:
        await consent(user, language)
        for data in ["A:sector:frontline", "A:level:local", "S:country", "S:years"]:
            await user.tap(data)
        await through_context(user)
    await through_context_and_statements(omar, 3, context=False)
    await omar.tap("T:priorities:realism")
    await hiwar.restart()
    await amal.tap("A:barrier_consensus:4")
    assert current_question(amal, hiwar.survey).id == "barrier_prevention"
    await omar.tap("T:priorities:funding")
    await omar.tap("D:priorities")
    answers = await stored_answers(hiwar, 1012)
    assert answers["priorities"] == ["realism", "funding"]
    assert (await stored_answers(hiwar, 1011))["barrier_consensus"] == 4


async def reach_missing_channel(user: SimulatedUser, language: str) -> None:
    """Through the profile, years skipped and the barriers, to the free-text follow-up
    that agreeing on missing channels brings."""
    await reach_years(user, language)
    await user.tap("S:years")
    await through_context(user)
    for barrier in BARRIERS[: BARRIERS.index("barrier_channels")]:
        await user.tap(f"A:{barrier}:2")
    await user.tap("A:barrier_channels:5")


async def through_context(user: SimulatedUser) -> None:
    """From the city (skipped) through the strategy and the contact questions."""
    for data in ["S:city", "A:strategy:national", "A:contact:monthly"]:
        await user.tap(data)


async def through_context_and_statements(
    user: SimulatedUser, value: int, context: bool = True
) -> None:
    """Every statement and every rating answered `value`, up to the priorities."""
    if context:
        await through_context(user)
    for question in (*BARRIERS, *RATINGS):
        await user.tap(f"A:{question}:{value}")


async def reach_years(user: SimulatedUser, language: str = "en") -> None:
    await consent(user, language)
    for data in ["A:sector:civil_society", "A:level:local", "A:country:jordan"]:
        await user.tap(data)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_an_edited_message_changes_only_the_answer_it_gave(hiwar: Harness, language: str):
    """Regression: the edited text was saved as the answer to the current question and the
    survey jumped ahead; on a button question the edit got a message that made no sense."""
    sara = hiwar.user(1016, "Sara", language)
    await reach_years(sara, language)
    await sara.send_text("seventy")  # refused: not an answer to anything
    refused = max(m for m, body in sara.chat.messages.items() if body.get("text") == "seventy")
    await sara.send_text("12")
    answer = max(m for m, body in sara.chat.messages.items() if body.get("text") == "12")
    assert current_question(sara, hiwar.survey).id == "city"

    replies = await sara.edit_text(answer, "15")
    assert texts(replies).endswith(": \u206815\u2069")  # "…was updated: 15"
    assert texts(replies).startswith(
        label(language, "Your answer to “{question}” was updated: {answer}")[:8]
    )
    assert (await stored_answers(hiwar, 1016))["years"] == 15
    assert await asked(hiwar, 1016) == "city"  # nothing moved
    replies = await sara.edit_text(answer, "fifteen")
    assert texts(replies) == label(language, "Please type a whole number, for example 7.")
    replies = await sara.edit_text(refused, "14")
    assert texts(replies) == label(
        language,
        "Editing a message does not change your answers. To change an answer, send /back "
        "until you reach its question.",
    )
    assert await stored_answers(hiwar, 1016) == {
        "sector": "civil_society",
        "level": "local",
        "country": "jordan",
        "years": 15,
    }


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_paste_split_by_telegram_is_refused_as_a_whole(hiwar: Harness, language: str):
    """Regression: the first part was refused as too long, the second, starting mid-word,
    was saved as the answer and the survey moved on."""
    omar = hiwar.user(1017, "Omar", language)
    await reach_missing_channel(omar, language)
    assert await asked(hiwar, 1017) == "missing_channel"
    reactions = await omar.paste("A channel that works. " * 500)  # 11,000 characters
    assert len(reactions) == 3
    told = [a for part in reactions for a in part if a.method == "sendMessage"]
    with use_language(language):
        expected = ERRORS[PasteTooLong].text(PasteTooLong(500))
    assert [a.text for a in told] == [expected]
    assert await asked(hiwar, 1017) == "missing_channel"
    assert "missing_channel" not in await stored_answers(hiwar, 1017)
    await omar.send_text("A monthly call with the ministry")
    assert (await stored_answers(hiwar, 1017))["missing_channel"].startswith("A monthly call")


async def test_a_channel_post_gets_nothing(hiwar: Harness):
    """Regression: "I do not know that command" was posted in a channel."""
    channel = {"id": -1009001, "type": "channel", "title": "Local news"}
    for text in ("/mydata", "/start", "hello"):
        post = {"message_id": 1, "date": 0, "chat": channel, "text": text}
        if text.startswith("/"):
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        update_id = hiwar.api.push_update({"channel_post": post})
        await hiwar.api.wait_consumed(update_id)
    await hiwar.user(1018, "Huda", "en").send_command("/help")  # the bot is still serving
    assert not [a for a in hiwar.api.actions if a.chat_id == channel["id"]]

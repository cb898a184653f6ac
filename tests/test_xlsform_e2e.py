"""Forms written in XLSForm, imported and run by the real bot over HTTP, on both databases:
a respondent goes through every kind of question, the skip logic, the constraints and the
pages of a long list, in Arabic and in English."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.simulator import FakeBotApi, SimulatedUser
from bot.survey.model import Survey
from bot.survey.xlsform import import_xlsform
from tests import forms
from tests.e2e import Harness, make_settings
from tests.test_survey_e2e import label, press_stale, texts
from tests.wiring import open_test_storage


@asynccontextmanager
async def running(api: FakeBotApi, database: str, form: bytes) -> AsyncIterator[Harness]:
    """The bot running the survey a workbook describes."""
    survey = import_xlsform(form, "form.xlsx").survey
    harness = Harness(api, make_settings(api, database), survey)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def answers_of(hiwar: Harness, user_id: int) -> dict:
    storage = await open_test_storage(hiwar.settings.database)
    try:
        progress = await storage.respondents.get_progress(user_id, hiwar.survey.id)
        return {} if progress is None else dict(progress.answers)
    finally:
        await storage.close()


def asking(user: SimulatedUser, survey: Survey) -> str:
    """The question on the newest card (its buttons name it), or the typed one it shows."""
    for row in user.buttons():
        for _label, data in row:
            parts = data.split(":")
            if len(parts) >= 2 and survey.has_question(parts[1]):
                return parts[1]
    text = user.last_text or ""
    found = [q.id for q in survey.questions if q.text.en in text or q.text.ar in text]
    return found[-1] if found else ""


async def start(user: SimulatedUser, language: str | None) -> None:
    await user.send_command("/start")
    if language is not None:
        await user.tap("العربية" if language == "ar" else "English")
    await user.tap(label(language or user.user_json.get("language_code", "en"), "I agree"))


async def test_an_adult_answers_the_youth_form_in_english(fake_api: FakeBotApi, database: str):
    async with running(fake_api, database, forms.youth_voices()) as hiwar:
        omar = hiwar.user(2001, "Omar", "en")
        await start(omar, "en")
        assert "I agree to take part in this consultation." in omar.last_text
        assert "Please answer the questions below." in omar.last_text
        await omar.tap(label("en", "OK"))
        assert "How old are you?" in omar.last_text and "In years." in omar.last_text
        replies = await omar.send_text("12")
        assert texts(replies) == "Please give an age from 15 to 35."
        await omar.send_text("22")
        await omar.tap("A:gov:amman")
        # 13 districts of Amman: ten on the first page, three on the second
        first_page = [data for row in omar.buttons() for _l, data in row if data.startswith("A:")]
        assert len(first_page) == 10 and "Page \u20681\u2069 of \u20682\u2069" in omar.last_text
        await omar.tap(label("en", "More options"))
        assert [d for row in omar.buttons() for _l, d in row if d.startswith("A:")] == [
            "A:district:ras_al_ain", "A:district:sweileh", "A:district:tla_al_ali",
        ]  # fmt: skip
        await omar.tap("A:district:tla_al_ali")
        await omar.tap("A:role:other")
        assert "Please specify:" in omar.last_text
        await omar.send_text("Community organiser")
        assert asking(omar, hiwar.survey) == "activities"  # 22 ≥ 18: the group is shown
        for activity in ("volunteering", "arts", "sports", "online"):
            await omar.tap(f"T:activities:{activity}")
        replies = await omar.tap("D:activities")
        assert "Please choose at most three." in texts(replies) + replies[-1].callback_text
        await omar.tap("T:activities:online")
        await omar.tap("D:activities")
        assert "Where do you volunteer?" in omar.last_text  # relevant on the selection
        await omar.send_text("The food bank")
        await omar.send_text("7.5")
        await omar.tap(label("en", "Agree"))
        await omar.tap(label("en", "Disagree"))
        assert "Almost done: two more questions." in omar.last_text
        await omar.tap(label("en", "Continue"))
        replies = await omar.send_text("11")
        assert texts(replies) == "Please type a number from \u20680\u2069 to \u206810\u2069."
        await omar.send_text("8")
        replies = await omar.send_text("2999-01-01")
        assert texts(replies) == "That date is in the future."
        replies = await omar.send_text("31/02/2025")
        assert texts(replies) == "Please type a date, for example 2025-03-31 or 31/03/2025."
        await omar.send_text("01/02/2025")
        await omar.send_text("More youth centres, please")
        summary = omar.last_text
        assert label("en", "Thank you! Your answers are saved.") in summary
        assert "Almost done" not in summary  # a note is not an answer
        assert await answers_of(hiwar, 2001) == {
            "consent": "OK",
            "age": 22,
            "gov": "amman",
            "district": "tla_al_ali",
            "role": "other",
            "role_other": "Community organiser",
            "activities": ["sports", "arts", "volunteering"],
            "volunteering": "The food bank",
            "hours": 7.5,
            "trust_local": 4,
            "trust_national": 2,
            "almost": None,
            "hope": 8,
            "last_event": "2025-02-01",
            "comment": "More youth centres, please",
        }


async def test_a_minor_answers_the_youth_form_in_arabic(fake_api: FakeBotApi, database: str):
    async with running(fake_api, database, forms.youth_voices()) as hiwar:
        huda = hiwar.user(2002, "Huda", "ar")
        await start(huda, "ar")
        assert huda.last_text.startswith("<b>")
        assert "أوافق على المشاركة في هذه المشاورة." in huda.last_text
        await huda.tap(label("ar", "OK"))
        replies = await huda.send_text("١٢")
        assert texts(replies) == "يُرجى إدخال عمر بين 15 و35."
        await huda.send_text("١٦")
        await huda.tap("A:gov:irbid")
        districts = [d for row in huda.buttons() for _l, d in row if d.startswith("A:")]
        assert sorted(districts) == [
            "A:district:bani_kinana",
            "A:district:koura",
            "A:district:ramtha",
        ]
        stale = (
            "That button belongs to an earlier question, so nothing was changed. "
            "Please answer the current question."
        )
        card = max(huda.chat.messages)
        replies = await press_stale(huda, card, "A:district:abdali")  # Amman's: not offered
        toast = next(a for a in replies if a.method == "answerCallbackQuery")
        assert toast.callback_text == label("ar", stale)
        assert "district" not in await answers_of(hiwar, 2002)
        await huda.tap("A:district:ramtha")
        await huda.tap("A:role:student")
        # 16: is_adult is 'no', so the whole activities group is skipped
        assert asking(huda, hiwar.survey) == "trust_local"
        assert [lbl for lbl, _d in huda.buttons()[0]] == [label("ar", "Strongly disagree")]
        await huda.tap("A:trust_local:5")
        await huda.tap("A:trust_national:3")
        await huda.tap(label("ar", "Continue"))
        await huda.send_text("٧")
        await huda.send_command("/skip")  # the date is optional
        await huda.send_text("مراكز شبابية أكثر")
        assert label("ar", "Thank you! Your answers are saved.") in huda.last_text
        answers = await answers_of(hiwar, 2002)
        assert answers["age"] == 16 and answers["district"] == "ramtha"
        assert answers["last_event"] is None and answers["hope"] == 7
        assert not {"activities", "volunteering", "hours"} & answers.keys()


async def test_an_arabic_only_form_asks_no_language(fake_api: FakeBotApi, database: str):
    async with running(fake_api, database, forms.arabic_only()) as hiwar:
        sami = hiwar.user(2003, "Sami", "en")  # an English Telegram client
        replies = await sami.send_command("/start")
        assert label("ar", "I agree") in sami.button_labels()  # straight to consent, in Arabic
        assert "English" not in sami.button_labels() and "العربية" not in sami.button_labels()
        assert texts(replies).startswith("<b>")
        await sami.tap(label("ar", "I agree"))
        assert "اختر كل ما ينطبق." in sami.last_text  # the form's hint
        replies = await sami.send_command("/skip")
        assert texts(replies) == "يُرجى اختيار إجابة واحدة على الأقل."  # its required message
        await sami.tap("T:needs:jobs")
        await sami.tap("T:needs:transport")
        await sami.tap("D:needs")
        await sami.send_text("حافلات مسائية للشباب")  # asked: more than one need
        assert "شكرًا لوقتك." in sami.last_text
        await sami.tap(label("ar", "Continue"))
        await sami.tap("A:contact:yes")
        assert label("ar", "Thank you! Your answers are saved.") in sami.last_text
        assert await answers_of(hiwar, 2003) == {
            "needs": ["jobs", "transport"],
            "needs_detail": "حافلات مسائية للشباب",
            "bye": None,
            "contact": "yes",
        }


async def test_an_english_only_form_offers_its_default(fake_api: FakeBotApi, database: str):
    async with running(fake_api, database, forms.english_only()) as hiwar:
        amal = hiwar.user(2004, "Amal", "ar")  # an Arabic Telegram client
        await amal.send_command("/start")
        await amal.tap(label("en", "I agree"))
        assert "How many people live in your household?" in amal.last_text
        await amal.tap(label("en", "Use: {answer}", answer="4"))
        await amal.tap("A:school:no")
        assert label("en", "Thank you! Your answers are saved.") in amal.last_text
        assert await answers_of(hiwar, 2004) == {"household": 4, "school": "no"}

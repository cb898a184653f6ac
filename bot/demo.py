"""`hiwar demo`: the real bot against the local Bot API simulator, answered by simulated people.

No token and no network: the fake Bot API listens on 127.0.0.1, the bot polls it exactly as it
would poll Telegram, and a few dozen simulated respondents of mixed sectors, levels and
languages go through the shipped survey by tapping buttons and typing answers.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.app import running_bot
from bot.config import Settings
from bot.core.i18n import _, use_language
from bot.reports.text import plain
from bot.simulator import BotAction, FakeBotApi, SimulatedUser, keyboard_rows
from bot.simulator.pace import human_pace
from bot.survey.engine import DONT_KNOW
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import Question, QuestionType, ReportRole, Side, Survey
from bot.survey.views import LANGUAGE_NAMES

QUESTION_BUTTONS = frozenset("ATDSB")
"""Callback-data kinds that belong to a survey question (see bot/survey/views.py)."""

SAMPLE_PLACES = {
    "en": ["Zarqa", "Tripoli", "Mosul", "Irbid"],
    "ar": ["الزرقاء", "طرابلس", "الموصل", "إربد"],
}
"""Answers to the short free-text questions (a city, a country's name)."""
SAMPLE_TEXTS = {
    "en": [
        "Youth unemployment and no safe places to meet.",
        "Monthly meetings between the municipality and community groups.",
        "A shared channel to raise concerns with the national level.",
    ],
    "ar": [
        "البطالة بين الشباب وغياب أماكن آمنة للقاء.",
        "لقاءات شهرية بين البلدية ومجموعات المجتمع المحلي.",
        "قناة مشتركة لإيصال المخاوف إلى المستوى الوطني.",
    ],
}


@dataclass(frozen=True, slots=True)
class Persona:
    """Who a simulated respondent is, and how strongly they see the barriers."""

    user_id: int
    name: str
    language: str
    sector: str
    level: str
    country: str
    barrier_lean: int
    """Added to a neutral 3 on every barrier: local actors tend to see them more."""


def make_personas(survey: Survey, count: int, rng: random.Random) -> list[Persona]:
    sectors = [o.id for o in survey.question("sector").options]
    levels = survey.question("level").options
    countries = [o.id for o in survey.question("country").options]
    people = []
    for index in range(count):
        level = levels[index % len(levels)]
        people.append(
            Persona(
                user_id=700_000 + index,
                name=f"Respondent {index + 1}",
                language="ar" if index % 3 else "en",
                sector=rng.choice(sectors),
                level=level.id,
                country=rng.choice(countries[:4]),
                barrier_lean=1
                if level.side == Side.LOCAL
                else -1
                if level.side == Side.NATIONAL
                else 0,
            )
        )
    return people


def question_on(markup: dict[str, Any] | None) -> str | None:
    """The id of the survey question whose buttons a message carries, if any."""
    for row in keyboard_rows(markup):
        for _label, data in row:
            kind, _sep, rest = data.partition(":")
            if kind in QUESTION_BUTTONS:
                return rest.partition(":")[0]
    return None


def current_view(user: SimulatedUser, survey: Survey) -> tuple[Question, int] | None:
    """The question on the view the bot changed last, and that message's id (None: finished).

    Like a person, look at what just changed: the newest message, or the card just edited.
    """
    looked_at: set[int | None] = set()
    for action in reversed(user.messages):
        if action.method not in ("sendMessage", "editMessageText") or (
            action.message_id in looked_at  # an older state of a message seen already
        ):
            continue
        looked_at.add(action.message_id)
        question_id = question_on(action.reply_markup)
        if question_id is not None and survey.has_question(question_id):
            assert action.message_id is not None
            return survey.question(question_id), action.message_id
        if action.method == "sendMessage":
            return None  # the summary (or a note) came after every question
    return None


def current_question(user: SimulatedUser, survey: Survey) -> Question | None:
    view = current_view(user, survey)
    return view[0] if view else None


def _new_message(actions: list[BotAction]) -> bool:
    return any(action.method == "sendMessage" for action in actions)


def _refused(actions: list[BotAction]) -> bool:
    """The bot answered a tap with an alert (e.g. the person tapped an outdated view)."""
    return any(a.method == "answerCallbackQuery" and a.show_alert for a in actions)


def moved_past(question_id: str) -> Callable[[list[BotAction]], bool]:
    """Wait until the bot shows something other than this question (the next question, as a
    new message or the tapped card edited into it, or the summary), or refuses the tap.

    After a crash the bot may show the current question once more; that is not an answer.
    """

    def moved(actions: list[BotAction]) -> bool:
        for action in actions:
            shown = question_on(action.reply_markup)
            if action.method == "sendMessage" and shown != question_id:
                return True
            if action.method == "editMessageText" and shown not in (None, question_id):
                return True
        return _refused(actions)

    return moved


def _answered(actions: list[BotAction]) -> bool:
    return any(action.method == "answerCallbackQuery" for action in actions)


DONT_KNOW_RATE = 0.1
"""How often a simulated respondent answers "don't know" where a statement offers it."""


def scale_answer(question: Question, persona: Persona, rng: random.Random) -> int:
    """The button a persona taps on a scale: sometimes "don't know"; otherwise near a neutral
    3, moved by how strongly they see the barriers (turned round on a reversed statement)."""
    if question.dont_know and rng.random() < DONT_KNOW_RATE:
        return DONT_KNOW
    lean = persona.barrier_lean if question.report == ReportRole.BARRIER else 0
    view = min(5, max(1, 3 + lean + rng.choice((-1, 0, 0, 1, 2))))
    return 6 - view if question.reversed else view


async def answer(
    user: SimulatedUser,
    question: Question,
    persona: Persona,
    rng: random.Random,
    message_id: int | None = None,
) -> bool:
    """Answer one question as this persona would, through the bot's own buttons.

    Returns False when the bot refused the answer; like a person, the caller then looks at
    the chat again and answers what it shows.
    """
    moved = moved_past(question.id)
    if question.optional and rng.random() < 0.15:
        return not _refused(await user.tap(f"S:{question.id}", until=moved, message_id=message_id))
    match question.type:
        case QuestionType.SINGLE_CHOICE:
            wanted = {
                "sector": persona.sector,
                "level": persona.level,
                "country": persona.country,
            }.get(question.id)
            option = wanted or rng.choice(question.options).id
            reactions = await user.tap(
                f"A:{question.id}:{option}", until=moved, message_id=message_id
            )
        case QuestionType.AGREEMENT_SCALE:
            reactions = await user.tap(
                f"A:{question.id}:{scale_answer(question, persona, rng)}",
                until=moved,
                message_id=message_id,
            )
        case QuestionType.MULTIPLE_CHOICE:
            limit = question.max_choices or len(question.options)
            for option in rng.sample(question.options, rng.randint(1, min(2, limit))):
                await user.tap(
                    f"T:{question.id}:{option.id}", until=_answered, message_id=message_id
                )
            reactions = await user.tap(f"D:{question.id}", until=moved, message_id=message_id)
        case QuestionType.FREE_TEXT:
            short = (question.max_length or 4000) <= 100
            samples = (SAMPLE_PLACES if short else SAMPLE_TEXTS)[persona.language]
            reactions = await user.send_text(rng.choice(samples), until=moved)
        case _:
            reactions = await user.send_text(str(rng.randint(1, 25)), until=moved)
    return not _refused(reactions)


async def take_part(
    api: FakeBotApi,
    survey: Survey,
    persona: Persona,
    rng: random.Random,
    think: Callable[[], float] | None = None,
) -> int:
    """One respondent from /start to the summary; returns how many questions they answered.

    `think` gives the seconds to pause before each answer (none: answer at once).
    """
    user = api.make_user(persona.user_id, persona.name, language_code=persona.language)
    await user.send_command("/start", until=_new_message)
    await user.tap(LANGUAGE_NAMES[persona.language], until=_new_message)
    with use_language(persona.language):
        await user.tap(_("I agree"), until=_new_message)
    return await answer_all(user, survey, persona, rng, think)


async def take_part_again(
    api: FakeBotApi, survey: Survey, persona: Persona, rng: random.Random
) -> int:
    """A respondent of an earlier round back for the open one, starting afresh."""
    user = api.make_user(persona.user_id, persona.name, language_code=persona.language)
    await user.send_command("/start", until=_new_message)
    with use_language(persona.language):
        await user.tap(_("Start afresh"), until=moved_past(""))
    return await answer_all(user, survey, persona, rng)


async def answer_all(
    user: SimulatedUser,
    survey: Survey,
    persona: Persona,
    rng: random.Random,
    think: Callable[[], float] | None = None,
) -> int:
    """Answer what the bot asks until it stops asking; returns how many answers it took."""
    answered, refused_in_a_row = 0, 0
    while (view := current_view(user, survey)) is not None:
        question, message_id = view
        if refused_in_a_row > 3:
            raise RuntimeError(f"{user!r} is stuck: the bot keeps refusing {question.id!r}")
        if think is not None:
            await asyncio.sleep(think())
        accepted = await answer(user, question, persona, rng, message_id)
        answered += accepted
        refused_in_a_row = 0 if accepted else refused_in_a_row + 1
    return answered


async def run_demo(respondents: int, seed: int, output: Path) -> int:
    survey = load_survey(DEFAULT_SURVEY_PATH)
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    rng = random.Random(seed)
    personas = make_personas(survey, respondents, rng)
    async with FakeBotApi(token="424242:HIWAR-DEMO", bot_username="hiwar_demo_bot") as api:
        settings = Settings(
            bot_token=api.token,
            api_base_url=api.base_url,
            db_path=output / "demo.sqlite3",
            admin_ids=frozenset({DEMO_COORDINATOR}),
            survey_path=DEFAULT_SURVEY_PATH,
        )
        print(f"Local Bot API simulator on {api.base_url}…  database: {settings.db_path}")
        started = time.perf_counter()
        async with running_bot(settings, survey, api.token, poll_timeout=1):
            gate = asyncio.Semaphore(12)
            admin = api.make_user(DEMO_COORDINATOR, "Coordinator", language_code="en")
            await admin.send_command(f"/rounds open {ROUNDS[0]}", until=_new_message)

            async def one(persona: Persona) -> int:
                async with gate:
                    return await take_part(api, survey, persona, random.Random(persona.user_id))

            answered = await asyncio.gather(*(one(p) for p in personas))
            elapsed = time.perf_counter() - started
            print(
                f"Round 1, “{ROUNDS[0]}”: {len(personas)} simulated respondents "
                f"({_languages(personas)}) answered {sum(answered)} questions in {elapsed:.1f} s "
                "through the real handlers."
            )
            print(duration_line(api, survey, personas) + "\n")
            await show_coordinator_view(api, output)

            await admin.send_command("/rounds close", until=_new_message)
            await admin.send_command(f"/rounds open {ROUNDS[1]}", until=_new_message)
            later = [shifted(p, rng) for p in personas]

            async def again(persona: Persona) -> int:
                async with gate:
                    answers = random.Random(-persona.user_id)
                    return await take_part_again(api, survey, persona, answers)

            answered = await asyncio.gather(*(again(p) for p in later))
            print(
                f"Round 2, “{ROUNDS[1]}”: the same {len(later)} people answered again "
                f"({sum(answered)} answers); most of them now see the barriers a little less.\n"
            )
            await show_change(api)
    return 0


ROUNDS = ("Before the Amman workshop", "Six months later")
SHIFT_RATE = 0.6
"""How many of the simulated respondents see the barriers a point less in the second round."""


def shifted(persona: Persona, rng: random.Random) -> Persona:
    """The same person months later: their views moved a little, or not."""
    if rng.random() >= SHIFT_RATE:
        return persona
    return replace(persona, barrier_lean=persona.barrier_lean - 1)


async def coordinator_in(api: FakeBotApi, language: str) -> SimulatedUser:
    """The demo's coordinator, reading the bot in `language`."""
    coordinator = api.make_user(DEMO_COORDINATOR, "Coordinator", language_code=language)
    await coordinator.send_command("/language", until=_new_message)
    await coordinator.tap(LANGUAGE_NAMES[language], until=_new_message)
    return coordinator


async def show_change(api: FakeBotApi) -> None:
    """Ask the running bot, as a coordinator would, for /change between the two rounds."""
    coordinator = await coordinator_in(api, "en")
    change = await coordinator.send_command("/change")
    print("What a coordinator sees with /change:\n")
    for action in change:
        if action.text:
            print(plain([action.text]), end="\n\n")


def duration_line(api: FakeBotApi, survey: Survey, personas: list[Persona]) -> str:
    """How long taking part would have taken people (bot/simulator/pace.py), against the
    duration the consent screen promises."""
    minutes = sorted(
        human_pace(api.make_user(p.user_id, p.name, language_code=p.language), p.language).seconds
        / 60
        for p in personas
    )
    return (
        f"At a human pace taking part takes a median of {statistics.median(minutes):.1f} minutes "
        f"(from {minutes[0]:.1f} to {minutes[-1]:.1f}); the consent screen says about "
        f"{survey.minutes}."
    )


DEMO_COORDINATOR = 1
"""The demo's admin, who asks the bot for the coordinator's summary and charts at the end."""


def _languages(personas: list[Persona]) -> str:
    arabic = sum(p.language == "ar" for p in personas)
    return f"{arabic} in Arabic, {len(personas) - arabic} in English"


async def show_coordinator_view(api: FakeBotApi, output: Path) -> None:
    """Ask the running bot, as a coordinator would, for /summary and /chart; print and save."""
    for language in ("en", "ar"):
        coordinator = await coordinator_in(api, language)
        summary = await coordinator.send_command("/summary")
        if language == "en":
            print("What a coordinator sees with /summary:\n")
            for action in summary:
                if action.text:
                    print(plain([action.text]), end="\n\n")
        charts = await coordinator.send_command("/chart", until=_photos)
        for number, action in enumerate((a for a in charts if a.photo), start=1):
            path = output / f"chart-{number}-{language}.png"
            path.write_bytes(action.photo or b"")
            print(f"Chart saved: {path}")


def _photos(actions: list[BotAction]) -> bool:
    return sum(action.method == "sendPhoto" for action in actions) >= 2

"""What the consent screen promises, checked against the database files, through the bot.

An auditor's reading: after /delete and a clean stop, the raw bytes of the SQLite files
(or every text column of every table, on PostgreSQL) hold nothing of what the person typed,
their name, or their Telegram id inside stored JSON, while another respondent's answers are
still found by the same search (so the search can find things).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.i18n import _, use_language
from bot.demo import current_question, moved_past
from bot.simulator import SimulatedUser
from bot.survey.model import QuestionType, Survey
from bot.survey.views import CONSENT_PROMISES, LANGUAGE_NAMES, consent
from tests.e2e import SHIPPED_SURVEY, Harness
from tests.test_coordinator_e2e import make_coordinator

AMAL, NADIA = 4001, 4002


async def answer_everything(user: SimulatedUser, survey: Survey, words: str) -> None:
    """Answer every question the bot asks, typing `words` wherever text is asked for."""
    while (question := current_question(user, survey)) is not None:
        moved = moved_past(question.id)
        match question.type:
            case QuestionType.FREE_TEXT:
                await user.send_text(f"{words} ({question.id})", until=moved)
            case QuestionType.NUMBER:
                await user.send_text("12", until=moved)
            case QuestionType.AGREEMENT_SCALE:
                await user.tap(f"A:{question.id}:2", until=moved)
            case QuestionType.MULTIPLE_CHOICE:
                await user.tap(f"T:{question.id}:{question.options[0].id}")
                await user.tap(f"D:{question.id}", until=moved)
            case _:
                await user.tap(f"A:{question.id}:{question.options[0].id}", until=moved)


def said(language: str, message: str) -> str:
    with use_language(language):
        return _(message)


async def take_part(
    hiwar: Harness, user: SimulatedUser, words: str, language: str = "en"
) -> None:
    await user.send_command("/start")
    await user.tap(LANGUAGE_NAMES[language])
    await user.tap(said(language, "I agree"))
    await answer_everything(user, hiwar.survey, words)


def sqlite_bytes(database: str) -> bytes:
    path = Path(database.removeprefix("sqlite:///"))
    files = [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def postgres_text(hiwar: Harness) -> str:
    """Every text column of every table, as one text to search."""
    columns = await hiwar.query(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json',"
        " 'jsonb')"
    )
    found = []
    for table, column in columns:
        for (value,) in await hiwar.query(f'SELECT "{column}"::text FROM "{table}"'):
            found.append(value or "")
    return "\n".join(found)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_delete_leaves_nothing_of_the_person_in_the_database_files(
    hiwar: Harness, language: str
):
    amal = hiwar.user(AMAL, "Amalqwerty", language)
    nadia = hiwar.user(NADIA, "Nadia", "en")
    await take_part(hiwar, amal, "As imam of the only mosque in Qwertyville", language)
    await take_part(hiwar, nadia, "Zebrafield youth centre")
    await amal.send_command("/mydata")
    await amal.send_command("/delete")
    await amal.tap(said(language, "Yes, erase everything"))
    replies = await amal.send_command("/mydata")
    assert replies[0].text == said(language, "We store nothing about you.")
    database = hiwar.settings.database
    if database.startswith("sqlite"):
        await hiwar.stop()  # a clean stop, as an operator would before copying the file
        stored = sqlite_bytes(database)
        assert b"Zebrafield" in stored  # the search finds what is there
        for secret in ("Qwertyville", "Amalqwerty", f'"id": {AMAL}', f'"id":{AMAL}'):
            assert secret.encode() not in stored, secret
    else:
        stored_text = await postgres_text(hiwar)
        assert "Zebrafield" in stored_text
        for secret in ("Qwertyville", "Amalqwerty", f'"id": {AMAL}', f'"id":{AMAL}'):
            assert secret not in stored_text, secret
        for table, column in (("users", "user_id"), ("responses", "user_id")):
            assert await hiwar.query(f"SELECT 1 FROM {table} WHERE {column} = {AMAL}") == []


async def test_the_inbox_keeps_no_content_once_an_update_is_handled(hiwar: Harness):
    nadia = hiwar.user(NADIA, "Nadiaqwerty", "en")
    await take_part(hiwar, nadia, "Zebrafield youth centre")
    rows = await hiwar.query("SELECT payload, user_key, done_at FROM inbox")
    assert rows and all(payload == "" and user is None for payload, user, done in rows if done)
    pending = [json.loads(payload) for payload, _user, done in rows if not done]
    assert all("Nadiaqwerty" not in json.dumps(p) for p in pending)


async def stored_everywhere(hiwar: Harness) -> str:
    """What the database holds, as text to search: the SQLite files' bytes, or every text
    column of every table on PostgreSQL."""
    database = hiwar.settings.database
    if database.startswith("sqlite"):
        return sqlite_bytes(database).decode("utf-8", errors="replace")
    return await postgres_text(hiwar)


def test_the_survey_takes_the_time_the_consent_screen_says():
    """The first promise ends with the survey's `minutes:`, the duration measured at a human
    pace on the simulated respondents (tests/test_demo.py checks that the two agree); nobody
    has to type anything."""
    typed = [q for q in SHIPPED_SURVEY.questions if q.type == QuestionType.FREE_TEXT]
    assert all(q.optional for q in typed)
    minutes = SHIPPED_SURVEY.minutes
    assert minutes is not None
    for language, promised in (("en", f"It takes about \u2068{minutes}\u2069 minutes."),
                               ("ar", f"ويستغرق ذلك نحو \u2068{minutes}\u2069 دقيقةً.")):  # fmt: skip
        with use_language(language):
            first = consent(SHIPPED_SURVEY.title.get(language), minutes).text.split("\n\n")[2]
        assert first == _in(language, CONSENT_PROMISES[0]) + " " + promised


async def test_answers_language_and_times_are_stored_never_a_name(hiwar: Harness):
    amal = hiwar.user(AMAL, "Amalqwerty", "en")
    await take_part(hiwar, amal, "Zebrafield youth centre")
    [(language, consented)] = await hiwar.query(
        f"SELECT language, consented_at FROM users WHERE user_id = {AMAL}"
    )
    assert language == "en" and consented
    answered = await hiwar.query("SELECT answered_at FROM answers")
    assert answered and all(at for (at,) in answered)
    stored = await stored_everywhere(hiwar)
    assert "Zebrafield" in stored and "Amalqwerty" not in stored


async def test_coordinators_see_aggregates_and_anonymous_comments(hiwar: Harness):
    people = [hiwar.user(AMAL + i, f"Personqwerty{i}", "en") for i in range(5)]
    for index, person in enumerate(people):
        await take_part(hiwar, person, f"Comment number {index}")
    nour = await make_coordinator(hiwar)
    await nour.send_command("/summary")
    await nour.send_command("/comments grievances")
    seen = "\n".join(a.text or "" for a in nour.messages)
    assert "Comment number 3 (grievances)" in seen  # word for word…
    codes = [code for (code,) in await hiwar.query("SELECT respondent_code FROM responses")]
    for person in people:  # …with nothing about who wrote it
        assert str(person.id) not in seen and person.first_name not in seen
    assert not any(code in seen for code in codes)
    assert "This command is for administrators." in (await nour.send_command("/export"))[0].text


async def test_only_admins_download_rows_under_random_codes(hiwar: Harness):
    people = [hiwar.user(AMAL + i, f"Personqwerty{i}", "en") for i in range(5)]
    for person in people:
        await take_part(hiwar, person, "A shared early-warning channel")
    admin = hiwar.admin()
    await admin.send_command("/export")
    await hiwar.api.wait_for(lambda: len([a for a in admin.messages if a.document]) >= 2)
    csv_file = next(a for a in admin.messages if a.document_name == "hiwar-answers.csv")
    content = csv_file.document.decode("utf-8-sig")
    stored = [code for (code,) in await hiwar.query("SELECT respondent_code FROM responses")]
    assert not any(code in content for code in stored)  # a new random code in every export
    assert len(re.findall(r"^X-[0-9A-F]{8},", content, re.MULTILINE)) == len(people)
    for person in people:
        assert str(person.id) not in content and person.first_name not in content


BACKED_BY = {
    CONSENT_PROMISES[0]: test_the_survey_takes_the_time_the_consent_screen_says,
    CONSENT_PROMISES[1]: test_answers_language_and_times_are_stored_never_a_name,
    CONSENT_PROMISES[2]: test_coordinators_see_aggregates_and_anonymous_comments,
    CONSENT_PROMISES[3]: test_only_admins_download_rows_under_random_codes,
    CONSENT_PROMISES[4]: test_delete_leaves_nothing_of_the_person_in_the_database_files,
}
"""Each sentence of the consent screen and the test that checks it against the database."""


def test_every_consent_promise_is_backed_by_a_test():
    assert set(BACKED_BY) == set(CONSENT_PROMISES)
    for language in ("ar", "en"):
        with use_language(language):
            assert all(_(promise) != promise or language == "en" for promise in BACKED_BY)


def _in(language: str, message: str) -> str:
    with use_language(language):
        return _(message)

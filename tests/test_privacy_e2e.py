"""What the consent screen promises, checked against the database files, through the bot.

An auditor's reading: after /delete and a clean stop, the raw bytes of the SQLite files
(or every text column of every table, on PostgreSQL) hold nothing of what the person typed,
their name, or their Telegram id inside stored JSON, while another respondent's answers are
still found by the same search (so the search can find things).
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.demo import current_question, moved_past
from bot.simulator import SimulatedUser
from bot.survey.model import QuestionType, Survey
from tests.e2e import Harness

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


async def take_part(hiwar: Harness, user: SimulatedUser, words: str) -> None:
    await user.send_command("/start")
    await user.tap("English")
    await user.tap("I agree")
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


async def test_delete_leaves_nothing_of_the_person_in_the_database_files(hiwar: Harness):
    amal = hiwar.user(AMAL, "Amalqwerty", "en")
    nadia = hiwar.user(NADIA, "Nadia", "en")
    await take_part(hiwar, amal, "As imam of the only mosque in Qwertyville")
    await take_part(hiwar, nadia, "Zebrafield youth centre")
    await amal.send_command("/mydata")
    await amal.send_command("/delete")
    await amal.tap("Yes, erase everything")
    replies = await amal.send_command("/mydata")
    assert replies[0].text == "We store nothing about you."
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

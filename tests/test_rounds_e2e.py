"""Rounds through the real bot over HTTP, on both databases and in both languages: an admin
opens round 1, a respondent completes it, the admin opens round 2, the same respondent starts
from their previous answers, keeps all but one, changes that one, and completes; /rounds
counts both rounds."""

from __future__ import annotations

import random

import pytest

from bot.demo import answer, current_view, moved_past, take_part
from bot.survey.model import QuestionType
from tests.e2e import Harness
from tests.test_survey_e2e import label, local_youth_worker, texts

TITLES = {
    "en": ("Before the Amman workshop", "Six months later"),
    "ar": ("قبل ورشة عمّان", "بعد ستة أشهر"),
}
CHANGED = "barrier_trust"


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_respondent_answers_two_rounds_keeping_all_but_one_answer(
    hiwar: Harness, language: str
):
    admin = hiwar.admin(language)
    first, second = TITLES[language]
    assert first in texts(await admin.send_command(f"/rounds open {first}"))
    persona = local_youth_worker(language)
    await take_part(hiwar.api, hiwar.survey, persona, random.Random(5))
    amal = hiwar.user(persona.user_id, persona.name, language)
    assert label(language, "Thank you! Your answers are saved.") in (amal.last_text or "")

    refused = texts(await admin.send_command(f"/rounds open {second}"))
    assert first in refused  # one round at a time: the open one must be closed first
    closed = texts(await admin.tap(label(language, "Close “{title}”", title=first)))
    assert first in closed
    await admin.send_command(f"/rounds open {second}")

    before = dict(
        await hiwar.query(
            "SELECT a.question_id, a.value FROM answers a JOIN responses r"
            f" ON r.response_id = a.response_id WHERE r.user_id = {persona.user_id}"
        )
    )
    offer = texts(await amal.send_command("/start"))
    assert second in offer
    await amal.tap(label(language, "Start from my previous answers"))
    keep = label(language, "Keep my earlier answer")
    kept, rng = 0, random.Random(7)
    while (view := current_view(amal, hiwar.survey)) is not None:
        question, message_id = view
        moved = moved_past(question.id)
        if question.id == CHANGED:
            assert label(language, "Your earlier answer: {answer}", answer="")[:8] in (
                amal.last_text or ""
            )
            changed = int(before[CHANGED]) % 5 + 1
            await amal.tap(f"A:{CHANGED}:{changed}", until=moved, message_id=message_id)
        elif question.type == QuestionType.MULTIPLE_CHOICE and question.id in before:
            await amal.tap(f"D:{question.id}", until=moved, message_id=message_id)  # as ticked
            kept += 1
        elif keep in amal.button_labels(message_id):
            await amal.tap(keep, until=moved, message_id=message_id)
            kept += 1
        else:
            await answer(amal, question, persona, rng, message_id)
    assert kept >= 10
    assert label(language, "Thank you! Your answers are saved.") in (amal.last_text or "")

    rows = await hiwar.query(
        "SELECT r.response_id, r.status, o.title FROM responses r"
        f" JOIN rounds o ON o.round_id = r.round_id WHERE r.user_id = {persona.user_id}"
        " ORDER BY r.response_id"
    )
    assert [(status, title) for _id, status, title in rows] == [
        ("completed", first),
        ("completed", second),
    ]
    after = dict(
        await hiwar.query(
            f"SELECT question_id, value FROM answers WHERE response_id = {rows[1][0]}"
        )
    )
    assert int(after[CHANGED]) == int(before[CHANGED]) % 5 + 1
    same = [q for q in after if q != CHANGED and after[q] == before.get(q)]
    assert len(same) >= kept
    assert int(before[CHANGED]) == int(
        dict(
            await hiwar.query(
                f"SELECT question_id, value FROM answers WHERE response_id = {rows[0][0]}"
            )
        )[CHANGED]
    )  # the first round's answer is untouched

    listing = texts(await admin.send_command("/rounds"))
    counts = label(language, "{started} started, {completed} completed", started=1, completed=1)
    assert listing.count(counts) == 2
    assert first in listing and second in listing
    assert admin.button_labels() == [label(language, "Close “{title}”", title=second)]
    mine = texts(await amal.send_command("/mydata"))
    assert first in mine and second in mine

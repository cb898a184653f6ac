"""Rounds without Telegram, on both backends: migration 0015 on a database holding data from
before it, the rounds store, opening and closing rounds (audited), and a respondent who
answers two rounds, starting the second from their previous answers."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.access import Access, Actor
from bot.core.errors import NotAnAdmin
from bot.core.i18n import _, use_language
from bot.reports import export
from bot.survey.errors import NoOpenRound, RoundClosed, RoundTitleMissing
from bot.survey.rounds import Rounds, StillOpen
from bot.survey.service import (
    AlreadyCompleted,
    AskQuestion,
    Completed,
    OfferResume,
    OfferRound,
    StillTakingPart,
    SurveyService,
)
from storage import Storage
from storage.backends import connect
from storage.database import StorageError
from storage.migrations import apply_migrations, migration_files
from tests.factories import Clock, mini_survey
from tests.wiring import survey_service

ADMIN = Actor(1, "Hala (admin)")
AMAL, KARIM, LINA = 7, 8, 9
"""A youth worker in Amman who answers both rounds; a police officer mid-survey when a round
closes; a teacher who starts while no round is open."""


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def service(storage: Storage, clock: Clock) -> SurveyService:
    return survey_service(storage, mini_survey(), clock)


@pytest.fixture
def rounds(storage: Storage, service: SurveyService, clock: Clock) -> Rounds:
    access = Access(storage.reports, storage.reports, {ADMIN.user_id}, clock)
    return Rounds(storage.rounds, access, service, storage, clock)


async def _complete_first_time(service: SurveyService, user_id: int) -> None:
    """Local level, no trust 4 (so the channel question is asked, and skipped), inclusion."""
    await service.choose_language(user_id, "en")
    await service.consent(user_id, agreed=True)
    await service.answer_button(user_id, "level", "local", None)
    await service.answer_button(user_id, "no_trust", "4", None)
    await service.skip(user_id, "channel", None)
    await service.toggle_choice(user_id, "priorities", "inclusion", None)
    await service.finish_choices(user_id, "priorities", None)
    await service.skip(user_id, "years", None)
    await service.skip(user_id, "step", None)
    done = await service.answer_button(user_id, "invite", "no", None)
    assert isinstance(done.then, Completed)


async def _responses(storage: Storage, user_id: int) -> list[tuple[int, str]]:
    rows = await storage.database.fetchall(
        "SELECT round_id, status FROM responses WHERE user_id = ? ORDER BY response_id",
        (user_id,),
    )
    return [(row[0], row[1]) for row in rows]


# -- the migration ---------------------------------------------------------------------------


async def test_migration_0015_keeps_answers_comments_cards_and_counts_attached(
    database: str, tmp_path: Path
):
    """The SQLite rebuild drops and remakes `responses`: with foreign keys acted on, that
    drop would have cascaded to every answer and released comment."""
    before = tmp_path / "before"
    for dialect in ("sqlite", "postgres"):
        (before / dialect).mkdir(parents=True)
        for path in migration_files(dialect):
            if path.name < "0015":
                shutil.copy(path, before / dialect / path.name)
    db = await connect(database)
    try:
        await apply_migrations(db, before)
        async with db.atomic() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, language, consented_at, created_at, updated_at)"
                " VALUES (7, 'ar', 'x', 'x', 'x')"
            )
            await tx.execute("INSERT INTO report_questions VALUES ('mini', 'level', 'level')")
            row = await tx.fetchone(
                "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code,"
                " status, started_at, updated_at) VALUES (7, 'mini', 1, 'R-1', 'in_progress',"
                " 'x', 'x') RETURNING response_id"
            )
            assert row is not None
            response_id = row[0]
            await tx.executemany(
                "INSERT INTO answers (response_id, question_id, value, answered_at)"
                " VALUES (?, ?, ?, 'x')",
                [(response_id, "level", '"local"'), (response_id, "step", '"ثقة أكبر"')],
            )
            await tx.execute(
                "UPDATE responses SET status = 'completed' WHERE response_id = ?", (response_id,)
            )
            await tx.execute("INSERT INTO released_comments VALUES (?, 'step', 1)", (response_id,))
            await tx.execute("INSERT INTO live_cards VALUES (7, 'survey', 99)")

        assert (await apply_migrations(db))[0] == "0015_rounds"

        assert await db.fetchall(
            "SELECT question_id FROM answers WHERE response_id = ? ORDER BY question_id",
            (response_id,),
        ) == [("level",), ("step",)]
        assert await db.fetchall("SELECT response_id FROM released_comments") == [(response_id,)]
        assert await db.fetchall("SELECT message_id FROM live_cards") == [(99,)]
        assert await db.fetchall("SELECT round_id, status FROM responses") == [(0, "completed")]
        assert await db.fetchall("SELECT level, respondents FROM report_cells") == [("local", 1)]
        profile = "SELECT level, round_id FROM report_profiles"
        assert await db.fetchall(profile) == [("local", 0)]
        if db.dialect.name == "sqlite":
            assert await db.fetchall("PRAGMA foreign_keys") == [(1,)]
        # The same person may now answer round 1 too, but not round 0 twice.
        async with db.atomic() as tx:
            await tx.execute(
                "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code,"
                " status, started_at, updated_at, round_id) VALUES (7, 'mini', 1, 'R-2',"
                " 'in_progress', 'x', 'x', 1)"
            )
        with pytest.raises(db.driver_errors):
            async with db.atomic() as tx:
                await tx.execute(
                    "INSERT INTO responses (user_id, survey_id, survey_version,"
                    " respondent_code, status, started_at, updated_at) VALUES (7, 'mini', 1,"
                    " 'R-3', 'in_progress', 'x', 'x')"
                )
        # The triggers and the cascades work on the rebuilt table: /delete uncounts and erases.
        async with db.atomic() as tx:
            await tx.execute("DELETE FROM users WHERE user_id = 7")
        for table in ("responses", "answers", "released_comments", "report_cells"):
            assert await db.fetchall(f"SELECT * FROM {table}") == [], table
    finally:
        await db.close()


async def test_a_rebuild_that_leaves_a_dangling_reference_is_rolled_back(db_path: Path, tmp_path):
    """The runner checks the foreign keys before it commits a rebuild, and turns them back on
    whatever happens."""
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "sqlite" / "0001_parent.sql").write_text(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id));\n"
        "INSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1);\n"
    )
    (tmp_path / "sqlite" / "0002_lose_rows.sql").write_text(
        "-- hiwar: rebuilds tables\n"
        "CREATE TABLE new_parent (id INTEGER PRIMARY KEY);\n"
        "DROP TABLE parent;\nALTER TABLE new_parent RENAME TO parent;\n"
    )
    db = await connect(db_path)
    try:
        with pytest.raises(StorageError, match="dangling"):
            await apply_migrations(db, tmp_path)
        assert await db.fetchall("SELECT name FROM schema_migrations") == [("0001_parent",)]
        assert await db.fetchall("SELECT id FROM parent") == [(1,)]
        assert await db.fetchall("PRAGMA foreign_keys") == [(1,)]
    finally:
        await db.close()


# -- the store ---------------------------------------------------------------------------------


async def test_one_open_round_per_survey_and_counts_per_round(storage: Storage):
    at = datetime(2026, 11, 27, tzinfo=UTC)
    first = await storage.rounds.add_round("mini", "Before the Amman workshop", 1, at)
    other = await storage.rounds.add_round("other", "Elsewhere", 1, at)
    with pytest.raises(storage.database.driver_errors):
        await storage.rounds.add_round("mini", "A second open one", 1, at)
    assert await storage.rounds.open_round("mini") == first
    assert await storage.rounds.close_round(first.round_id, at + timedelta(days=1))
    assert not await storage.rounds.close_round(first.round_id, at + timedelta(days=2))
    assert await storage.rounds.open_round("mini") is None
    second = await storage.rounds.add_round("mini", "Six months later", 1, at)
    assert [r.round_id for r in await storage.rounds.rounds("mini")] == [
        first.round_id,
        second.round_id,
    ]
    assert (await storage.rounds.get_round(other.round_id)).title == "Elsewhere"
    for user_id, round_id in ((AMAL, 0), (AMAL, first.round_id), (KARIM, first.round_id)):
        await storage.respondents.save_consent(user_id, at)
        progress = await storage.respondents.start_progress(
            user_id, "mini", 1, "level", at, round_id=round_id
        )
        await storage.respondents.save_answer(progress.response_id, "level", "local", None, at)
        if user_id == AMAL:
            await storage.respondents.complete(progress.response_id, ["level"], at)
    counts = await storage.rounds.round_counts("mini")
    assert [(c.round_id, c.started, c.completed) for c in counts] == [
        (0, 1, 1),
        (first.round_id, 2, 1),
    ]


# -- opening and closing -------------------------------------------------------------------------


async def test_opening_and_closing_rounds_is_for_admins_refused_politely_and_audited(
    rounds: Rounds, storage: Storage
):
    with pytest.raises(NotAnAdmin):
        await rounds.open(Actor(KARIM, "Karim"), "Mine")
    with pytest.raises(RoundTitleMissing):
        await rounds.open(ADMIN, "   ")
    with pytest.raises(NoOpenRound):
        await rounds.close(ADMIN)
    first = await rounds.open(ADMIN, "Before  the Amman workshop ")
    assert first.title == "Before the Amman workshop"
    assert await rounds.open(ADMIN, "Six months later") == StillOpen(first)
    assert (await rounds.overview(ADMIN)).open == first
    with pytest.raises(NoOpenRound):  # a stale Close button of another round
        await rounds.close(ADMIN, first.round_id + 1)
    assert (await rounds.close(ADMIN, first.round_id)).round_id == first.round_id
    second = await rounds.open(ADMIN, "Six months later")
    await rounds.close(ADMIN)
    audit = await storage.database.fetchall(
        "SELECT action, detail FROM audit_log ORDER BY entry_id"
    )
    assert audit == [
        ("round_opened", f"mini round {first.round_id}: Before the Amman workshop"),
        ("round_closed", f"mini round {first.round_id}: Before the Amman workshop"),
        ("round_opened", f"mini round {second.round_id}: Six months later"),
        ("round_closed", f"mini round {second.round_id}: Six months later"),
    ]


# -- respondents across rounds -------------------------------------------------------------------


async def test_a_respondent_starts_round_two_from_previous_answers_keeps_some_changes_one(
    service: SurveyService, rounds: Rounds, storage: Storage
):
    await _complete_first_time(service, AMAL)  # before any round: round 0
    assert isinstance(await service.begin(AMAL, "en"), AlreadyCompleted)
    first = await rounds.open(ADMIN, "Before the Amman workshop")
    offer = await service.begin(AMAL, "en")
    assert offer == OfferRound(first)
    # An old consent card: "No, thank you" must not claim that nothing is stored.
    assert isinstance(await service.consent(AMAL, agreed=False), StillTakingPart)
    assert await service.consent(AMAL, agreed=True) == offer

    asked = await service.join_round(AMAL, reuse_previous=True, round_id=first.round_id)
    assert isinstance(asked, AskQuestion)
    assert (asked.question.id, asked.previous, asked.can_keep) == ("level", "local", True)
    kept = await service.keep_answer(AMAL, "level", None)
    assert kept.then.question.id == "no_trust" and kept.then.previous == 4
    changed = await service.answer_button(AMAL, "no_trust", "2", None)
    # No trust 2: the channel question is no longer on the path.
    assert changed.then.question.id == "priorities"
    assert changed.then.draft == ("inclusion",)  # ticked as before: Done keeps it
    assert not changed.then.can_keep
    await service.finish_choices(AMAL, "priorities", None)
    await service.keep_answer(AMAL, "years", None)  # skipped before, skipped again
    await service.keep_answer(AMAL, "step", None)
    done = await service.keep_answer(AMAL, "invite", None)
    assert isinstance(done.then, Completed)

    assert await _responses(storage, AMAL) == [(0, "completed"), (first.round_id, "completed")]
    earlier = await storage.respondents.get_progress(AMAL, "mini", 0)
    latest = await storage.respondents.get_progress(AMAL, "mini", first.round_id)
    assert earlier.answers["no_trust"] == 4 and earlier.answers["channel"] is None
    assert latest.answers == {
        "level": "local",
        "no_trust": 2,
        "priorities": ["inclusion"],
        "years": None,
        "step": None,
        "invite": "no",
    }
    assert isinstance(await service.begin(AMAL, "en"), AlreadyCompleted)
    overview = await rounds.overview(ADMIN)
    assert [(line.started, line.completed) for line in overview.rounds] == [(1, 1)]
    assert (overview.outside.started, overview.outside.completed) == (1, 1)

    data = await service.my_data(AMAL)
    assert [(r.round.title if r.round else None, len(r.answers)) for r in data.responses] == [
        (None, 7),
        ("Before the Amman workshop", 6),  # no channel question this time
    ]
    assert await service.delete_everything(AMAL)
    assert await _responses(storage, AMAL) == []


async def test_a_fresh_start_and_a_round_closing_mid_survey(
    service: SurveyService, rounds: Rounds, storage: Storage
):
    await _complete_first_time(service, AMAL)
    first = await rounds.open(ADMIN, "Before the Amman workshop")
    asked = await service.join_round(AMAL, reuse_previous=False)
    assert not asked.answered_before and not asked.can_keep
    # Karim starts in round 1; the round closes while he answers; he finishes in it.
    await service.choose_language(KARIM, "en")
    await service.consent(KARIM, agreed=True)
    await service.answer_button(KARIM, "level", "national", None)
    await rounds.close(ADMIN)
    with pytest.raises(RoundClosed):
        await service.join_round(AMAL, reuse_previous=True, round_id=first.round_id)
    await service.answer_button(KARIM, "no_trust", "1", None)
    assert await _responses(storage, KARIM) == [(first.round_id, "in_progress")]
    with pytest.raises(RoundClosed):  # a campaign link to the closed round
        await service.consent(LINA, agreed=True, round_id=first.round_id)
    # Lina starts while no round is open: round 0.
    await service.choose_language(LINA, "en")
    await service.consent(LINA, agreed=True)
    assert await _responses(storage, LINA) == [(0, "in_progress")]
    # Amal finishes her fresh round-1 response after the round closed, like Karim.
    assert isinstance(await service.begin(AMAL, "en"), OfferResume)
    assert await _responses(storage, AMAL) == [(0, "completed"), (first.round_id, "in_progress")]


def test_the_export_says_each_rows_round_and_protects_profiles_within_each_round():
    """Three police officers: shared by three in the whole export, but one of them alone in
    round 0, where the Round column would single them out."""
    survey = mini_survey()
    given = {"level": "police", "no_trust": 2, "priorities": ["inclusion"], "invite": "no"}
    with use_language("en"):
        header = [column.header for column in export.columns(survey)]
        table = export.rows(survey, [("X-1", 0, given), ("X-2", 4, given), ("X-3", 4, given)], 2)
        hidden = _("(hidden)")
    assert header[-1] == "Round"
    assert [(row[-1], row[header.index("Your level?")]) for row in table] == [
        (0, hidden),
        (4, "Police"),
        (4, "Police"),
    ]

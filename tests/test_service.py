"""The respondent use cases over a real database (each backend), without Telegram."""

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime

import pytest

from bot.core.errors import DuplicateUpdate
from bot.survey.errors import (
    AlreadyAnswered,
    NoActiveSurvey,
    NothingToGoBackTo,
    NotOptional,
    StaleQuestion,
    SurveyAlreadyCompleted,
)
from bot.survey.ports import SurveyStore
from bot.survey.service import (
    AlreadyCompleted,
    AskConsent,
    AskQuestion,
    ChooseLanguage,
    Completed,
    Declined,
    OfferResume,
    SurveyService,
)
from bot.survey.state import Status
from storage import Storage
from tests.factories import mini_survey
from tests.memory import MemoryStorage
from tests.wiring import open_test_storage, survey_service

AMAL = 1001  # a youth worker in Amman


async def consented(service: SurveyService, user: int = AMAL) -> AskQuestion:
    await service.choose_language(user, "ar")
    screen = await service.consent(user, agreed=True)
    assert isinstance(screen, AskQuestion)
    return screen


async def test_new_user_is_asked_for_language_then_consent(service):
    assert await service.begin(AMAL, "ar") == ChooseLanguage("ar")
    assert isinstance(await service.choose_language(AMAL, "ar"), AskConsent)
    first = await service.consent(AMAL, agreed=True)
    assert first.question.id == "level"
    assert first.introduction is not None
    assert first.position.number == 1


async def test_declining_stores_no_answers(service, storage):
    await service.choose_language(AMAL, "en")
    assert isinstance(await service.consent(AMAL, agreed=False), Declined)
    assert await storage.respondents.get_progress(AMAL, "mini") is None
    assert (await storage.respondents.get_respondent(AMAL)).consented_at is None


async def test_complete_walk_with_skip_logic_and_summary(service, storage):
    await consented(service)
    step = await service.answer_button(AMAL, "level", "local", update_id=1)
    assert step.then.question.id == "no_trust"
    step = await service.answer_button(AMAL, "no_trust", "5", update_id=2)
    assert step.then.question.id == "channel"
    step = await service.answer_text(AMAL, "radio", update_id=3)
    await service.toggle_choice(AMAL, "priorities", "funding", update_id=4)
    await service.toggle_choice(AMAL, "priorities", "inclusion", update_id=5)
    step = await service.finish_choices(AMAL, "priorities", update_id=6)
    assert step.value == ["inclusion", "funding"]
    await service.skip(AMAL, None, update_id=7)
    await service.answer_text(AMAL, "Monthly meetings", update_id=8)
    final = await service.answer_button(AMAL, "invite", "yes", update_id=9)
    assert isinstance(final.then, Completed)
    assert [(q.id, v) for q, v in final.then.answers] == [
        ("level", "local"),
        ("no_trust", 5),
        ("channel", "radio"),
        ("priorities", ["inclusion", "funding"]),
        ("years", None),
        ("step", "Monthly meetings"),
        ("invite", "yes"),
    ]
    progress = await storage.respondents.get_progress(AMAL, "mini")
    assert progress.status == Status.COMPLETED
    with pytest.raises(SurveyAlreadyCompleted):
        await service.answer_button(AMAL, "invite", "no", update_id=10)
    assert isinstance(await service.begin(AMAL, "ar"), AlreadyCompleted)


async def test_redelivered_update_changes_nothing(service, storage):
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=41)
    await service.answer_button(AMAL, "no_trust", "4", update_id=42)
    with pytest.raises(DuplicateUpdate):
        # The same text update delivered again must not become the answer to the next question.
        await service.answer_text(AMAL, "radio", update_id=42)
    progress = await storage.respondents.get_progress(AMAL, "mini")
    assert progress.answers == {"level": "local", "no_trust": 4}


async def test_stale_and_repeated_buttons(service):
    await consented(service)
    await service.answer_button(AMAL, "level", "national", update_id=1)
    with pytest.raises(AlreadyAnswered):
        await service.answer_button(AMAL, "level", "national", update_id=2)
    with pytest.raises(StaleQuestion):
        await service.answer_button(AMAL, "level", "local", update_id=3)
    with pytest.raises(StaleQuestion):
        await service.toggle_choice(AMAL, "priorities", "funding", update_id=4)


async def test_back_changes_previous_answer_and_returns_to_frontier(service, storage):
    await consented(service)
    with pytest.raises(NothingToGoBackTo):
        await service.back(AMAL)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    await service.answer_button(AMAL, "no_trust", "2", update_id=2)
    again = await service.back(AMAL)
    assert again.question.id == "no_trust"
    assert again.answered_before and again.previous == 2
    step = await service.answer_button(AMAL, "no_trust", "5", update_id=3)
    assert step.then.question.id == "channel"  # newly shown by the changed answer
    assert (await storage.respondents.get_progress(AMAL, "mini")).answers["no_trust"] == 5


async def test_back_to_multiple_choice_keeps_previous_selection(service):
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    await service.answer_button(AMAL, "no_trust", "1", update_id=2)
    await service.toggle_choice(AMAL, "priorities", "analysis", update_id=3)
    await service.finish_choices(AMAL, "priorities", update_id=4)
    again = await service.back(AMAL)
    assert again.draft == ("analysis",)
    emptied = await service.toggle_choice(AMAL, "priorities", "analysis", update_id=5)
    assert emptied.draft == ()


async def test_skip_only_optional(service):
    await consented(service)
    with pytest.raises(NotOptional):
        await service.skip(AMAL, None, update_id=1)


async def test_pause_and_resume_exactly_where_stopped(service):
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    await service.pause(AMAL)
    with pytest.raises(NoActiveSurvey):
        await service.answer_text(AMAL, "hello", update_id=2)
    offer = await service.begin(AMAL, "ar")
    assert offer == OfferResume(answered=1, total=7)
    resumed = await service.resume(AMAL, start_over=False)
    assert resumed.question.id == "no_trust"


async def test_progress_survives_reopening_the_database(database, service, storage):
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    await service.answer_button(AMAL, "no_trust", "1", update_id=2)
    await service.toggle_choice(AMAL, "priorities", "realism", update_id=3)
    await storage.close()
    reopened = await open_test_storage(database)
    try:
        fresh = survey_service(reopened, mini_survey())
        current = await fresh.current(AMAL)
        assert current.question.id == "priorities"
        assert current.draft == ("realism",)
    finally:
        await reopened.close()


async def test_delete_erases_everything(service, storage):
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    assert await service.delete_everything(AMAL)
    assert await storage.respondents.get_respondent(AMAL) is None
    assert await storage.respondents.get_progress(AMAL, "mini") is None
    assert not await service.delete_everything(AMAL)
    assert await service.begin(AMAL, "en") == ChooseLanguage("en")


# -- several writes, one transaction -----------------------------------------------------------


class Crash(Exception):
    """The process dying at that point."""


class CrashBeforeCompleting:
    """The survey store, except that the first `complete` fails (a crash just before it)."""

    def __init__(self, store: SurveyStore) -> None:
        self._store = store
        self.crashed = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        if not self.crashed:
            self.crashed = True
            raise Crash
        await self._store.complete(response_id, keep, at)


async def test_crash_between_the_last_answer_and_completion(storage: Storage):
    """Regression: the last answer was stored and the response left in progress with no
    current question, so that "Continue" and "Start over" both failed until /delete."""
    store = CrashBeforeCompleting(storage.respondents)
    service = SurveyService(store, storage.inbox, storage, mini_survey())
    await consented(service)
    await service.answer_button(AMAL, "level", "local", update_id=1)
    await service.answer_button(AMAL, "no_trust", "2", update_id=2)
    await service.toggle_choice(AMAL, "priorities", "funding", update_id=3)
    await service.finish_choices(AMAL, "priorities", update_id=4)
    await service.skip(AMAL, "years", update_id=5)
    await service.answer_text(AMAL, "Monthly meetings", update_id=6)
    with pytest.raises(Crash):
        await service.answer_button(AMAL, "invite", "yes", update_id=7)

    progress = await storage.respondents.get_progress(AMAL, "mini")
    assert progress.status == Status.IN_PROGRESS and progress.current == "invite"
    assert "invite" not in progress.answers
    assert not await storage.inbox.was_processed(7)
    assert (await service.resume(AMAL, start_over=False)).question.id == "invite"
    # The same tap again (re-delivered by the inbox after the restart) now completes.
    final = await service.answer_button(AMAL, "invite", "yes", update_id=7)
    assert isinstance(final.then, Completed)
    stored = await storage.database.fetchall(
        "SELECT question_id, COUNT(*) FROM answers GROUP BY question_id ORDER BY question_id"
    )
    given = ["invite", "level", "no_trust", "priorities", "step", "years"]
    assert [tuple(row) for row in stored] == [(question, 1) for question in given]
    progress = await storage.respondents.get_progress(AMAL, "mini")
    assert progress.status == Status.COMPLETED and progress.answers["invite"] == "yes"


class FakeTransactions:
    """`atomic()` in memory: how many blocks were opened, and how deep the current one is."""

    def __init__(self) -> None:
        self.opened = 0
        self.depth = 0

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        self.opened += 1
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1


class Noted:
    """A store noting each call made through it, with how deep in atomic blocks it was."""

    def __init__(self, store: object, transactions: FakeTransactions, calls: list) -> None:
        self._store, self._transactions, self._calls = store, transactions, calls

    def __getattr__(self, name: str) -> Callable[..., Awaitable[object]]:
        method = getattr(self._store, name)

        async def noted(*args: object, **named: object) -> object:
            self._calls.append((name, self._transactions.depth))
            return await method(*args, **named)

        return noted


async def test_each_use_case_writing_twice_does_it_in_one_atomic_block(storage: Storage):
    transactions, calls = FakeTransactions(), []
    service = SurveyService(
        Noted(storage.respondents, transactions, calls),
        Noted(storage.inbox, transactions, calls),
        transactions,
        mini_survey(),
    )

    async def writes(action: Awaitable[object]) -> list[tuple[str, int]]:
        calls.clear()
        transactions.opened = 0
        await action
        assert transactions.opened == 1
        return [(name, depth) for name, depth in calls if not name.startswith(("get_", "was_"))]

    await service.choose_language(AMAL, "ar")
    assert await writes(service.consent(AMAL, agreed=True)) == [
        ("save_consent", 1),
        ("start_progress", 1),
    ]
    assert await writes(service.resume(AMAL, start_over=True)) == [("start_progress", 1)]
    for question_id, value in (("level", "national"), ("no_trust", "1")):
        await service.answer_button(AMAL, question_id, value, update_id=None)
    await service.toggle_choice(AMAL, "priorities", "realism", update_id=None)
    await service.finish_choices(AMAL, "priorities", update_id=None)
    await service.skip(AMAL, None, update_id=None)
    await service.skip(AMAL, None, update_id=None)
    assert await writes(service.answer_button(AMAL, "invite", "no", update_id=9)) == [
        ("claim_update", 1),
        ("save_answer", 1),
        ("complete", 1),
    ]
    assert await writes(service.delete_everything(AMAL)) == [
        ("delete_respondent", 1),
        ("purge_erased", 0),  # after the transaction: the write-ahead log is truncated
    ]


# -- a crash at every write ----------------------------------------------------------------

WRITES = frozenset(
    {
        "save_language", "save_consent", "start_progress", "save_answer", "save_draft",
        "move_to", "set_status", "complete", "replace_answer", "note_paste", "claim_update",
    }
)  # fmt: skip
"""The store methods that write (the survey store's and the processed-update ids')."""


class CrashAtWrite:
    """A store whose `n`th write, counted across every store wrapped with the same
    counter, fails as if the process died there."""

    def __init__(self, store: object, counter: list[int], n: int) -> None:
        self._store, self._counter, self._n = store, counter, n

    def __getattr__(self, name: str) -> object:
        method = getattr(self._store, name)
        if name not in WRITES:
            return method

        async def write(*args: object, **named: object) -> object:
            self._counter[0] += 1
            if self._counter[0] == self._n:
                raise Crash
            return await method(*args, **named)

        return write


def journey(user: int) -> list[Callable[[SurveyService], Awaitable[object]]]:
    """A complete survey, one step per update (the update ids are what Telegram would give
    again after a crash)."""
    base = user * 100
    return [
        lambda s: s.choose_language(user, "en"),
        lambda s: s.consent(user, agreed=True),
        lambda s: s.answer_button(user, "level", "local", base + 1),
        lambda s: s.answer_button(user, "no_trust", "2", base + 2),
        lambda s: s.toggle_choice(user, "priorities", "funding", base + 3),
        lambda s: s.toggle_choice(user, "priorities", "realism", base + 4),
        lambda s: s.finish_choices(user, "priorities", base + 5),
        lambda s: s.answer_text(user, "12", base + 6),
        lambda s: s.answer_text(user, "Monthly meetings", base + 7),
        lambda s: s.answer_button(user, "invite", "yes", base + 8),
    ]


EXPECTED = {
    "level": "local",
    "no_trust": 2,
    "priorities": ["realism", "funding"],
    "years": 12,
    "step": "Monthly meetings",
    "invite": "yes",
}


async def crash_at_every_write(storage: Storage | MemoryStorage) -> list[int]:
    """Run a whole survey once per write, failing at that write, then carry on after a
    restart (the update delivered again); returns the users, one a run."""
    survey, n, users = mini_survey(), 1, []
    while True:
        user, counter = 5000 + n, [0]
        crashing = SurveyService(
            CrashAtWrite(storage.respondents, counter, n),
            CrashAtWrite(storage.inbox, counter, n),
            storage,
            survey,
        )
        steps, crashed_at = journey(user), None
        for index, step in enumerate(steps):
            try:
                await step(crashing)
            except Crash:
                crashed_at = index
                break
        if crashed_at is None:
            return users  # the journey has fewer writes than n: every one was tried
        restarted = SurveyService(storage.respondents, storage.inbox, storage, survey)
        for step in steps[crashed_at:]:
            await step(restarted)
        progress = await storage.respondents.get_progress(user, survey.id)
        assert progress is not None and progress.status == Status.COMPLETED, n
        assert progress.answers == EXPECTED, n
        users.append(user)
        n += 1


async def test_a_crash_at_any_write_of_a_whole_survey_loses_and_doubles_nothing(
    storage: Storage,
):
    """Every state change of a respondent is one transaction: whichever write the process
    dies at, after a restart (the update delivered again) the person finishes with every
    answer stored exactly once."""
    users = await crash_at_every_write(storage)
    assert len(users) > 12  # the journey's writes were all tried
    for user in users:
        rows = await storage.database.fetchall(
            "SELECT COUNT(*) FROM answers a JOIN responses r ON r.response_id = a.response_id"
            f" WHERE r.user_id = {user}"
        )
        assert rows[0][0] == len(EXPECTED), user

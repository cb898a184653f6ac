"""In-memory fakes of the survey's storage ports, for domain tests that need no database.

`MemoryStorage` has the shape of `storage.Storage` that the survey service uses: a store of
respondents and progress, the processed-update ids, and `atomic()`, which undoes every write
of a block that raises (a snapshot taken when the outermost block opens).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.core.sent import SentMessage
from bot.survey.state import AnswerValue, Campaign, Progress, Respondent, Status


@dataclass
class _State:
    respondents: dict[int, Respondent] = field(default_factory=dict)
    progress: dict[tuple[int, str, int], Progress] = field(default_factory=dict)
    message_of: dict[tuple[int, str], int] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    """The link each person came through (storage/reports.py notes it when they open it)."""
    processed: set[int] = field(default_factory=set)


class MemoryRespondents:
    """bot.survey.ports.SurveyStore in memory."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self._ids = itertools.count(1)

    async def get_respondent(self, user_id: int) -> Respondent | None:
        return self.state.respondents.get(user_id)

    async def save_language(self, user_id: int, language: str, at: datetime) -> None:
        known = self.state.respondents.get(user_id, Respondent(user_id, None, None))
        self.state.respondents[user_id] = replace(known, language=language)

    async def save_consent(self, user_id: int, at: datetime) -> None:
        known = self.state.respondents.get(user_id, Respondent(user_id, None, None))
        self.state.respondents[user_id] = replace(known, consented_at=at)

    async def delete_respondent(self, user_id: int) -> bool:
        self.state.progress = {k: v for k, v in self.state.progress.items() if k[0] != user_id}
        self.state.campaigns.pop(user_id, None)
        return self.state.respondents.pop(user_id, None) is not None

    async def purge_erased(self) -> None:
        """Nothing is kept beyond the rows themselves."""

    async def get_progress(
        self, user_id: int, survey_id: str, round_id: int | None = None
    ) -> Progress | None:
        found = [
            progress
            for (owner, survey, round_), progress in sorted(self.state.progress.items())
            if (owner, survey) == (user_id, survey_id) and round_id in (None, round_)
        ]
        return copy.deepcopy(found[-1]) if found else None

    async def get_last_completed(self, user_id: int, survey_id: str) -> Progress | None:
        found = [
            progress
            for progress in await self.get_responses(user_id)
            if progress.survey_id == survey_id and progress.status == Status.COMPLETED
        ]
        return found[-1] if found else None

    async def get_responses(self, user_id: int) -> list[Progress]:
        found = [p for (owner, *_key), p in self.state.progress.items() if owner == user_id]
        return copy.deepcopy(sorted(found, key=lambda progress: progress.response_id))

    async def get_open_progress(self, user_id: int) -> Progress | None:
        found = [
            progress
            for (owner, *_key), progress in self.state.progress.items()
            if owner == user_id and progress.status != Status.COMPLETED
        ]
        return copy.deepcopy(found[-1]) if found else None

    async def start_progress(
        self,
        user_id: int,
        survey_id: str,
        survey_version: int,
        first_question: str,
        at: datetime,
        round_id: int = 0,
        answers_from: int | None = None,
        source: str | None = None,
    ) -> Progress:
        earlier = dict(self._by_id(answers_from).answers) if answers_from is not None else {}
        progress = Progress(
            next(self._ids), user_id, survey_id, survey_version, f"R-{user_id}",
            Status.IN_PROGRESS, first_question, started_at=at, round_id=round_id,
            earlier=earlier, source=source,
        )  # fmt: skip
        self.state.progress[(user_id, survey_id, round_id)] = progress
        return copy.deepcopy(progress)

    async def get_campaign(self, user_id: int, survey_id: str) -> Campaign | None:
        return self.state.campaigns.get(user_id)

    def _by_id(self, response_id: int) -> Progress:
        return next(p for p in self.state.progress.values() if p.response_id == response_id)

    async def save_answer(
        self,
        response_id: int,
        question_id: str,
        value: AnswerValue,
        next_question: str | None,
        at: datetime,
        message_id: int | None = None,
    ) -> None:
        progress = self._by_id(response_id)
        progress.answers[question_id] = copy.deepcopy(value)
        progress.current, progress.draft, progress.status = next_question, None, Status.IN_PROGRESS
        if message_id is not None:
            self.state.message_of[(response_id, question_id)] = message_id

    async def replace_answer(
        self, response_id: int, question_id: str, value: AnswerValue, at: datetime
    ) -> None:
        self._by_id(response_id).answers[question_id] = copy.deepcopy(value)

    async def question_of_message(self, response_id: int, message_id: int) -> str | None:
        return next(
            (
                q
                for (r, q), m in self.state.message_of.items()
                if (r, m) == (response_id, message_id)
            ),
            None,
        )

    async def note_paste(self, response_id: int, paste: SentMessage) -> None:
        self._by_id(response_id).paste = paste

    async def save_draft(self, response_id: int, draft: tuple[str, ...], at: datetime) -> None:
        self._by_id(response_id).draft = draft

    async def move_to(self, response_id: int, question_id: str, at: datetime) -> None:
        progress = self._by_id(response_id)
        progress.current, progress.draft, progress.status = question_id, None, Status.IN_PROGRESS

    async def set_status(self, response_id: int, status: Status, at: datetime) -> None:
        self._by_id(response_id).status = status

    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        progress = self._by_id(response_id)
        progress.answers = {k: v for k, v in progress.answers.items() if k in keep}
        progress.status, progress.current, progress.draft = Status.COMPLETED, None, None
        progress.completed_at = at


class MemoryUpdates:
    """bot.core.ports.ProcessedUpdates in memory."""

    def __init__(self, state: _State) -> None:
        self.state = state

    async def was_processed(self, update_id: int) -> bool:
        return update_id in self.state.processed

    async def claim_update(self, update_id: int, at: datetime) -> bool:
        if update_id in self.state.processed:
            return False
        self.state.processed.add(update_id)
        return True


class MemoryStorage:
    def __init__(self) -> None:
        self._state = _State()
        self.respondents = MemoryRespondents(self._state)
        self.inbox = MemoryUpdates(self._state)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """All or nothing: a block that raises leaves the state as it found it."""
        saved = copy.deepcopy(self._state.__dict__)
        try:
            yield
        except BaseException:
            self._state.__dict__.update(saved)
            raise

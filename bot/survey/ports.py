"""What the survey domain needs from storage, as small protocols (storage/ implements them)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.sent import SentMessage
from bot.survey.state import AnswerValue, Campaign, Progress, Respondent, Status


class RespondentStore(Protocol):
    async def get_respondent(self, user_id: int) -> Respondent | None: ...
    async def save_language(self, user_id: int, language: str, at: datetime) -> None: ...
    async def save_consent(self, user_id: int, at: datetime) -> None: ...
    async def delete_respondent(self, user_id: int) -> bool:
        """Erase everything stored about the user; False when nothing was stored."""
        ...

    async def purge_erased(self) -> None:
        """Remove the database's own leftover copies of what was just erased (outside any
        atomic block)."""
        ...


class ProgressStore(Protocol):
    async def get_progress(
        self, user_id: int, survey_id: str, round_id: int | None = None
    ) -> Progress | None:
        """The user's response to this survey in this round (None: in the latest round they
        answered)."""
        ...

    async def get_last_completed(self, user_id: int, survey_id: str) -> Progress | None:
        """The user's latest completed response to this survey, in whichever round."""
        ...

    async def get_responses(self, user_id: int) -> list[Progress]:
        """Every response of the user, to every survey and round, the oldest first."""
        ...

    async def get_open_progress(self, user_id: int) -> Progress | None:
        """The user's response not completed yet, to whichever survey (the latest)."""
        ...

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
        """Create (or reset to empty) the user's response to this survey in this round;
        `answers_from`: a response whose answers the new one starts with; `source`: the
        campaign link it starts through."""
        ...

    async def get_campaign(self, user_id: int, survey_id: str) -> Campaign | None:
        """The link the person last came through (storage/reports.py `arrive`), if it was
        for this survey (or any); None if they came through none."""
        ...

    async def save_answer(
        self,
        response_id: int,
        question_id: str,
        value: AnswerValue,
        next_question: str | None,
        at: datetime,
        message_id: int | None = None,
    ) -> None:
        """Store one answer, move on (None: past the last question) and clear the draft;
        `message_id`: the message a typed answer came in."""
        ...

    async def replace_answer(
        self, response_id: int, question_id: str, value: AnswerValue, at: datetime
    ) -> None:
        """Change a stored answer, nothing else (an edited message)."""
        ...

    async def question_of_message(self, response_id: int, message_id: int) -> str | None:
        """The question a typed message answered, if it did."""
        ...

    async def note_paste(self, response_id: int, paste: SentMessage) -> None: ...

    async def save_draft(self, response_id: int, draft: tuple[str, ...], at: datetime) -> None: ...
    async def move_to(self, response_id: int, question_id: str, at: datetime) -> None: ...
    async def set_status(self, response_id: int, status: Status, at: datetime) -> None: ...
    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        """Mark completed, dropping answers to questions no longer on the respondent's path."""
        ...


@dataclass(frozen=True, slots=True)
class Round:
    """A round of a survey: responses started while it is open belong to it."""

    round_id: int
    survey_id: str
    title: str
    opened_by: int
    opened_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoundCount:
    round_id: int
    """0: responses started while no round was open."""
    started: int
    """Responses begun in the round (completed ones included)."""
    completed: int


class RoundStore(Protocol):
    """The rounds of each survey (storage/rounds.py)."""

    async def open_round(self, survey_id: str) -> Round | None:
        """The round of the survey open now, if one is."""
        ...

    async def get_round(self, round_id: int) -> Round | None: ...

    async def rounds(self, survey_id: str) -> list[Round]:
        """Every round of the survey, the first opened first."""
        ...

    async def round_counts(self, survey_id: str) -> list[RoundCount]:
        """Responses started and completed per round (round 0 included, when it has any)."""
        ...

    async def add_round(self, survey_id: str, title: str, by: int, at: datetime) -> Round:
        """Open a new round (the survey must have none open)."""
        ...

    async def close_round(self, round_id: int, at: datetime) -> bool:
        """False when it was closed already."""
        ...


class SurveyStore(RespondentStore, ProgressStore, Protocol):
    """Everything the respondent-facing survey service needs."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A survey file an admin sent, checked, waiting to be published or cancelled."""

    upload_id: int
    document: dict[str, Any]
    """The survey file's mapping (bot/survey/document.py)."""
    file_name: str
    uploaded_by: int


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    survey_id: str
    version: int
    file_name: str
    published_at: datetime
    started: int
    """Responses begun on this version (completed ones included)."""
    completed: int


class SurveyCatalog(Protocol):
    """The surveys published, as survey files' mappings (storage/surveys.py)."""

    async def active_document(self) -> dict[str, Any] | None:
        """The survey published last: the one new respondents get."""
        ...

    async def document(self, survey_id: str, version: int) -> dict[str, Any] | None: ...

    async def publish_directly(
        self, document: dict[str, Any], file_name: str, at: datetime
    ) -> bool:
        """Publish the survey the bot was started with, unless its id and version already
        are; True when it was published now."""
        ...

    async def add_upload(
        self, document: dict[str, Any], file_name: str, by: int, at: datetime
    ) -> int: ...

    async def pending_upload(self, upload_id: int) -> Upload | None: ...

    async def publish(self, upload_id: int, at: datetime) -> None: ...

    async def cancel(self, upload_id: int) -> None: ...

    async def versions(self) -> list[PublishedVersion]:
        """Every version published, the latest first, with its responses."""
        ...

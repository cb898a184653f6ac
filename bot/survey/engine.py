"""Pure survey navigation and answer validation: no storage, no Telegram."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.survey.errors import (
    AnswerOutOfRange,
    ButtonExpected,
    EmptyAnswer,
    NotANumber,
    NothingChosen,
    StaleQuestion,
    TextTooLong,
    TooManyChoices,
)
from bot.survey.model import Condition, Question, QuestionType, Survey
from bot.survey.state import AnswerValue

SCALE_VALUES: tuple[int, ...] = (1, 2, 3, 4, 5)
DONT_KNOW = 0
"""The stored answer "don't know / not applicable" of a scale question that offers it."""


def condition_holds(condition: Condition, answers: Mapping[str, AnswerValue]) -> bool | None:
    """True or False once the referenced question is answered; None while it is not."""
    if condition.question not in answers:
        return None
    given = answers[condition.question]
    if given is None:
        return False
    chosen = {str(v) for v in given} if isinstance(given, list) else {str(given)}
    return bool(chosen & set(condition.any_of))


def path(survey: Survey, answers: Mapping[str, AnswerValue]) -> list[Question]:
    """The questions on this respondent's path.

    A condition on an answered question decides; a condition on a question not answered yet
    counts as shown, so the total shown in progress can only shrink as answers come in.
    """
    return [
        q
        for q in survey.questions
        if q.show_if is None or condition_holds(q.show_if, answers) is not False
    ]


def first_question(survey: Survey) -> Question:
    return path(survey, {})[0]


def next_question(
    survey: Survey, answers: Mapping[str, AnswerValue], after: str
) -> Question | None:
    """The first unanswered question on the path after `after` (None: the survey is done).

    After `/back` and a changed answer this returns to where the respondent had got to,
    asking again only questions that the change newly put on their path.
    """
    on_path = path(survey, answers)
    ids = [q.id for q in on_path]
    start = ids.index(after) + 1 if after in ids else 0
    return next((q for q in on_path[start:] if q.id not in answers), None)


def previous_question(
    survey: Survey, answers: Mapping[str, AnswerValue], current: str
) -> Question | None:
    on_path = path(survey, answers)
    ids = [q.id for q in on_path]
    index = ids.index(current) if current in ids else len(ids)
    return on_path[index - 1] if index > 0 else None


@dataclass(frozen=True, slots=True)
class Position:
    number: int
    total: int


def position(survey: Survey, answers: Mapping[str, AnswerValue], current: str) -> Position:
    ids = [q.id for q in path(survey, answers)]
    return Position(ids.index(current) + 1 if current in ids else len(ids), len(ids))


def answers_on_path(survey: Survey, answers: Mapping[str, AnswerValue]) -> dict[str, AnswerValue]:
    """Only the answers to questions still on the path (a changed answer can hide others)."""
    ids = {q.id for q in path(survey, answers)}
    return {k: v for k, v in answers.items() if k in ids}


# -- validation ------------------------------------------------------------------------


def parse_option(question: Question, option_id: str) -> str:
    if question.option(option_id) is None:
        raise StaleQuestion
    return option_id


def parse_scale(raw: str, dont_know: bool = False) -> int:
    """A scale button's value: 1..5, or 0 where the question offers "don't know"."""
    try:
        value = int(raw)
    except ValueError:
        raise StaleQuestion from None
    if value not in SCALE_VALUES and not (dont_know and value == DONT_KNOW):
        raise StaleQuestion
    return value


def toggle(question: Question, draft: tuple[str, ...], option_id: str) -> tuple[str, ...]:
    """Add or remove an option from a multiple-choice selection, keeping definition order."""
    parse_option(question, option_id)
    chosen = set(draft) ^ {option_id}
    if question.max_choices is not None and len(chosen) > question.max_choices:
        raise TooManyChoices(question.max_choices)
    return tuple(o.id for o in question.options if o.id in chosen)


def finish_selection(draft: tuple[str, ...]) -> list[str]:
    if not draft:
        raise NothingChosen
    return list(draft)


_MENTION = re.compile(r"(?<!\w)@\w{4,32}")


def says_something(text: str) -> bool:
    """Whether text has a letter or a digit once invisible characters (zero-width spaces and
    joiners, direction marks and overrides, controls) and @mentions are left out."""
    visible = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cn"))
    return any(c.isalnum() for c in _MENTION.sub("", visible))


def parse_text_answer(question: Question, text: str) -> str | int | float:
    """Validate typed text for a free-text or number question."""
    if question.type == QuestionType.FREE_TEXT:
        cleaned = text.strip()
        if not says_something(cleaned):
            raise EmptyAnswer
        limit = question.max_length or 4000
        if len(cleaned) > limit:
            raise TextTooLong(limit, len(cleaned))
        return cleaned
    if question.type == QuestionType.NUMBER:
        return parse_number(question, text)
    raise ButtonExpected


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫−", "01234567890123456789.-")
_INTEGER = re.compile(r"[+-]?[0-9]{1,15}")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,6})?")


def parse_number(question: Question, text: str) -> int | float:
    """Strictly: ASCII, Arabic-Indic or Persian digits, an optional sign and, where the
    question allows decimals, one decimal separator (`.` or `٫`). "2,5", "1 5", "1_0" and
    "1e1" are refused rather than guessed at (Python's int() and float() take the last two)."""
    cleaned = text.strip().translate(_DIGITS)
    if not cleaned:
        raise EmptyAnswer
    if not (_INTEGER if question.integer else _DECIMAL).fullmatch(cleaned):
        raise NotANumber(question.integer)
    value: int | float = int(cleaned) if question.integer else float(cleaned)
    if (question.min_value is not None and value < question.min_value) or (
        question.max_value is not None and value > question.max_value
    ):
        raise AnswerOutOfRange(question.min_value, question.max_value)
    return value

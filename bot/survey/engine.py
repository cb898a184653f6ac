"""Pure survey navigation and answer validation: no storage, no Telegram."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.survey import expressions
from bot.survey.errors import (
    AnswerOutOfRange,
    ButtonExpected,
    ConstraintViolated,
    EmptyAnswer,
    NotADate,
    NotANumber,
    NothingChosen,
    StaleQuestion,
    TextTooLong,
    TooManyChoices,
)
from bot.survey.expressions import Context, ExpressionError
from bot.survey.model import Condition, Option, Question, QuestionType, Survey
from bot.survey.state import AnswerValue

log = logging.getLogger(__name__)

SCALE_VALUES: tuple[int, ...] = (1, 2, 3, 4, 5)
DONT_KNOW = 0
"""The stored answer "don't know / not applicable" of a scale question that offers it."""
ACKNOWLEDGED = "OK"
"""The answer to an acknowledge question, as ODK stores it."""
TYPED = frozenset({QuestionType.FREE_TEXT, QuestionType.NUMBER, QuestionType.DATE})
"""Questions answered by typing."""
OPTIONS_PER_PAGE = 10
"""Options shown at once when a question has more than `MAX_OPTIONS_ON_ONE_PAGE`."""
MAX_OPTIONS_ON_ONE_PAGE = 12


def page_count(options: int) -> int:
    """How many pages `options` options take (one, up to `MAX_OPTIONS_ON_ONE_PAGE`)."""
    if options <= MAX_OPTIONS_ON_ONE_PAGE:
        return 1
    return -(-options // OPTIONS_PER_PAGE)


def page_of(index: int, options: int) -> int:
    """The page that the option at `index` of `options` options is on."""
    return 0 if page_count(options) == 1 else index // OPTIONS_PER_PAGE


def on_page(options: tuple[Option, ...], page: int) -> tuple[Option, ...]:
    if page_count(len(options)) == 1:
        return options
    return options[page * OPTIONS_PER_PAGE : (page + 1) * OPTIONS_PER_PAGE]


def condition_holds(condition: Condition, answers: Mapping[str, AnswerValue]) -> bool | None:
    """True or False once the referenced question is answered; None while it is not."""
    if condition.question not in answers:
        return None
    given = answers[condition.question]
    if given is None:
        return False
    chosen = {str(v) for v in given} if isinstance(given, list) else {str(given)}
    return bool(chosen & set(condition.any_of))


def today() -> date:
    return datetime.now(UTC).date()


def odk_value(answer: AnswerValue) -> expressions.Value:
    """An answer as XLSForm expressions see it: ids of a multiple choice joined by spaces,
    numbers as numbers, and an unanswered or skipped question as the empty string."""
    if answer is None:
        return ""
    if isinstance(answer, list):
        return " ".join(answer)
    if isinstance(answer, int | float):
        return float(answer)
    return answer


@dataclass(frozen=True, slots=True)
class _Walk:
    """The questions on the path, and the values expressions see (answers and calculations)."""

    shown: list[Question]
    values: dict[str, expressions.Value]


def _walk(survey: Survey, answers: Mapping[str, AnswerValue]) -> _Walk:
    """Go through the survey in order, as ODK does: a question hidden by its condition has
    no value (an empty string) for the questions after it; one that is on the path but not
    answered yet is pending, and a condition that reads a pending answer counts as holding."""
    shown: list[Question] = []
    values: dict[str, expressions.Value] = {}
    pending: set[str] = set()
    day = today()
    for question in survey.questions:
        if _relevant(question, answers, values, pending, day) is False:
            continue
        if question.type == QuestionType.CALCULATE:
            calculated = _calculate(question, values, pending, day)
            if calculated is None:
                pending.add(question.id)
            else:
                values[question.id] = calculated
            continue
        shown.append(question)
        if question.id in answers:
            values[question.id] = odk_value(answers[question.id])
        else:
            pending.add(question.id)
    return _Walk(shown, values)


def _relevant(
    question: Question,
    answers: Mapping[str, AnswerValue],
    values: Mapping[str, expressions.Value],
    pending: set[str],
    day: date,
) -> bool | None:
    if question.show_if is not None and condition_holds(question.show_if, answers) is False:
        return False
    if question.relevant is None:
        return True
    parsed = expressions.parse(question.relevant)
    if parsed.references & pending:
        return None
    return _holds(parsed, Context(values, day), question, "relevant", default=True)


def _calculate(
    question: Question, values: Mapping[str, expressions.Value], pending: set[str], day: date
) -> expressions.Value | None:
    parsed = expressions.parse(question.calculation or "''")
    if parsed.references & pending:
        return None
    try:  # stored as text, as ODK stores a calculation ("true", not a boolean)
        return expressions.to_string(expressions.evaluate(parsed, Context(values, day)))
    except ExpressionError as error:
        log.warning("expression_failed", extra={"question": question.id, "error": str(error)})
        return ""


def _holds(
    parsed: expressions.Expression, context: Context, question: Question, what: str, default: bool
) -> bool:
    """An expression's verdict; one that fails at run time (an invalid regex built from an
    answer, say) is logged and counts as `default` rather than blocking the respondent."""
    try:
        return expressions.holds(parsed, context)
    except ExpressionError as error:
        log.warning("expression_failed", extra={"question": question.id, what: str(error)})
        return default


def path(survey: Survey, answers: Mapping[str, AnswerValue]) -> list[Question]:
    """The questions on this respondent's path.

    A condition on an answered question decides; a condition on a question not answered yet
    counts as shown, so the total shown in progress can only shrink as answers come in.
    """
    return _walk(survey, answers).shown


def options_shown(
    survey: Survey, answers: Mapping[str, AnswerValue], question: Question
) -> tuple[Option, ...]:
    """The options of a choice question that its `choice_filter` lets through."""
    if question.choice_filter is None:
        return question.options
    parsed = expressions.parse(question.choice_filter)
    values = _walk(survey, answers).values
    day = today()
    return tuple(
        option
        for option in question.options
        if _holds(
            parsed,
            Context(values, day, item={"name": option.id, **dict(option.filters)}),
            question,
            "choice_filter",
            default=True,
        )
    )


def check_constraint(
    survey: Survey, answers: Mapping[str, AnswerValue], question: Question, value: AnswerValue
) -> None:
    """Raise `ConstraintViolated` when the question's constraint refuses `value`."""
    if question.constraint is None or value is None:
        return
    others = {k: v for k, v in answers.items() if k != question.id}
    context = Context(_walk(survey, others).values, today(), current=odk_value(value))
    parsed = expressions.parse(question.constraint)
    if not _holds(parsed, context, question, "constraint", default=True):
        raise ConstraintViolated(question.constraint_message)


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


def parse_option(
    question: Question, option_id: str, shown: tuple[Option, ...] | None = None
) -> str:
    """An option id from a button; `shown`: the options offered (all, when not given)."""
    offered = question.options if shown is None else shown
    if all(option.id != option_id for option in offered):
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


def toggle(
    question: Question,
    draft: tuple[str, ...],
    option_id: str,
    shown: tuple[Option, ...] | None = None,
) -> tuple[str, ...]:
    """Add or remove an option from a multiple-choice selection, keeping definition order."""
    parse_option(question, option_id, shown)
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
    """Validate typed text for a free-text, number or date question."""
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
    if question.type == QuestionType.DATE:
        return parse_date(text)
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


_ISO_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")


def parse_date(text: str) -> str:
    """A date typed as 2025-03-31 or 31/03/2025 (day first, as in Arabic-speaking countries
    and most of the world), in any digits; returned as ISO 8601, as ODK stores dates."""
    cleaned = text.strip().translate(_DIGITS)
    if not cleaned:
        raise EmptyAnswer
    if match := _ISO_DATE.fullmatch(cleaned):
        year, month, day = match.groups()
    elif match := _DAY_FIRST.fullmatch(cleaned):
        day, month, year = match.groups()
    else:
        raise NotADate
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise NotADate from None

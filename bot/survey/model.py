"""Typed, immutable model of a survey definition loaded from a YAML data file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

LANGUAGES: tuple[str, ...] = ("ar", "en")


@dataclass(frozen=True, slots=True)
class Text:
    """A human-readable text given in every supported language."""

    ar: str
    en: str

    def get(self, language: str) -> str:
        return self.ar if language == "ar" else self.en


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    AGREEMENT_SCALE = "agreement_scale"
    FREE_TEXT = "free_text"
    NUMBER = "number"
    DATE = "date"
    NOTE = "note"
    """Shown, not answered: the respondent reads it and continues."""
    ACKNOWLEDGE = "acknowledge"
    """One button to confirm (a consent-like step); its answer is "OK"."""
    CALCULATE = "calculate"
    """Never shown: a value computed from earlier answers, for `relevant` and `constraint`."""


ANSWERED_TYPES = frozenset(QuestionType) - {QuestionType.NOTE, QuestionType.CALCULATE}
"""The types of question whose answers are stored and summarised."""


class ScaleLabels(StrEnum):
    """The words on an agreement_scale question's five buttons (the values are 1..5 either way)."""

    AGREEMENT = "agreement"
    """Strongly disagree … strongly agree."""
    QUALITY = "quality"
    """Very poorly … very well: how well something is done today."""


class ReportRole(StrEnum):
    """What a question means to coordinator reports (aggregation is driven by these tags)."""

    SECTOR = "sector"
    LEVEL = "level"
    COUNTRY = "country"
    BARRIER = "barrier"
    PRIORITY = "priority"
    FORMATS = "formats"
    INVITATIONS = "invitations"
    COMMENT = "comment"
    PROFILE = "profile"
    """Background (gender, age band): exported, hidden where its combination with the other
    profile answers is rare, never a filter or a tally."""


class Side(StrEnum):
    """Which side of the national–local gap an option of the level question stands for."""

    LOCAL = "local"
    NATIONAL = "national"


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: Text
    side: Side | None = None
    """Only on options of the `level` question: local or national respondents."""
    opt_in: bool = False
    """Only on options of the `invitations` question: choosing it asks for invitations."""
    filters: tuple[tuple[str, str], ...] = ()
    """Columns a question's `choice_filter` reads (`country` in `country = ${country}`)."""


@dataclass(frozen=True, slots=True)
class Condition:
    """Show a question only when an earlier answer includes one of `any_of`.

    For choice questions `any_of` holds option ids; for an agreement scale it holds the
    scale values 1..5 as strings.
    """

    question: str
    any_of: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    text: Text
    options: tuple[Option, ...] = ()
    optional: bool = False
    show_if: Condition | None = None
    max_choices: int | None = None
    """multiple_choice only: how many options may be chosen at most."""
    max_length: int | None = None
    """free_text only."""
    min_value: float | None = None
    """number only."""
    max_value: float | None = None
    """number only."""
    integer: bool = True
    """number only: whether decimals are refused."""
    short_label: Text | None = None
    """A short name for reports and charts (e.g. a barrier's headline)."""
    report: ReportRole | None = None
    dont_know: bool = False
    """agreement_scale only: offers "Don't know / not applicable", stored as 0 and left out
    of every share and mean (bot/reports/scoring.py)."""
    reversed: bool = False
    """agreement_scale only: worded the other way round (agreeing means the barrier is
    absent); every report scores it 6 − the answer."""
    scale: ScaleLabels = ScaleLabels.AGREEMENT
    """agreement_scale only: the words on its buttons."""
    hint: Text | None = None
    """Shown under the question."""
    relevant: str | None = None
    """An XLSForm expression (bot/survey/expressions.py): asked only when it holds."""
    constraint: str | None = None
    """An expression an answer (`.`) must satisfy."""
    constraint_message: Text | None = None
    required_message: Text | None = None
    """Said when someone tries to skip this required question."""
    default: str | None = None
    """A suggested answer: an option id (ids separated by spaces), a number, a text or a date."""
    choice_filter: str | None = None
    """An expression choosing the options shown, reading each option's `filters`."""
    calculation: str | None = None
    """calculate only: the expression whose value the question holds."""

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    version: int
    title: Text
    introduction: Text
    questions: tuple[Question, ...]
    minutes: int | None = None
    """How long taking part takes at a human pace, as promised on the consent screen."""
    languages: tuple[str, ...] = LANGUAGES
    """The languages the survey is written in; with one, nobody is asked to choose."""
    _by_id: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def index_of(self, question_id: str) -> int:
        return self.questions.index(self._by_id[question_id])

    def with_role(self, role: ReportRole) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.report == role)

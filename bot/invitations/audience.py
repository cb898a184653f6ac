"""Who an audience is: only respondents who asked for invitations, narrowed by their answers.

The survey's report roles say which question is the sector, level and country question and
which options of the invitations question mean "yes, invite me"; nothing here knows the
shipped survey's ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.invitations.model import Audience, Dimension
from bot.survey.model import LANGUAGES, ReportRole, Survey, Text

ROLES: dict[Dimension, ReportRole] = {
    Dimension.SECTOR: ReportRole.SECTOR,
    Dimension.LEVEL: ReportRole.LEVEL,
    Dimension.COUNTRY: ReportRole.COUNTRY,
}
LANGUAGE_CHOICES: dict[str, Text] = {
    "ar": Text(ar="العربية", en="Arabic"),
    "en": Text(ar="الإنجليزية", en="English"),
}


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: Text


@dataclass(frozen=True, slots=True)
class AnswerCondition:
    """The respondent's answer to `question_id` is one of `option_ids`."""

    question_id: str
    option_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """An audience in the terms storage queries: every condition holds for each recipient."""

    survey_id: str
    conditions: tuple[AnswerCondition, ...]
    languages: tuple[str, ...] | None = None
    """None: any language."""


def dimensions(survey: Survey) -> tuple[Dimension, ...]:
    """The filters this survey supports (a dimension needs its question)."""
    return tuple(d for d in Dimension if choices(survey, d))


def choices(survey: Survey, dimension: Dimension) -> tuple[Choice, ...]:
    if dimension == Dimension.LANGUAGE:
        return tuple(Choice(lang, LANGUAGE_CHOICES[lang]) for lang in LANGUAGES)
    questions = survey.with_role(ROLES[dimension])
    return tuple(Choice(o.id, o.label) for o in questions[0].options) if questions else ()


def opt_in(survey: Survey) -> AnswerCondition:
    """Asked for invitations: chose an `opt_in` option of the invitations question.

    A survey without that question invites nobody (no option ids).
    """
    questions = survey.with_role(ReportRole.INVITATIONS)
    if not questions:
        return AnswerCondition("", ())
    question = questions[0]
    return AnswerCondition(question.id, tuple(o.id for o in question.options if o.opt_in))


def selection(survey: Survey, audience: Audience) -> Selection:
    conditions = [opt_in(survey)]
    languages: tuple[str, ...] | None = None
    for dimension, values in audience.filters.items():
        if dimension == Dimension.LANGUAGE:
            languages = tuple(sorted(values))
            continue
        question = survey.with_role(ROLES[dimension])[0]
        conditions.append(AnswerCondition(question.id, tuple(sorted(values))))
    return Selection(survey.id, tuple(conditions), languages)

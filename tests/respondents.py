"""Completed responses to the shipped survey, written through the real survey service."""

from __future__ import annotations

from collections.abc import Mapping

from bot.survey.model import QuestionType, Survey
from bot.survey.service import AskQuestion, SurveyService
from bot.survey.state import AnswerValue

BARRIERS = (
    "barrier_consensus",
    "barrier_prevention",
    "barrier_security",
    "barrier_knowledge",
    "barrier_excluded",
    "barrier_isolation",
    "barrier_vocabulary",
    "barrier_goals",
    "barrier_monitoring",
    "barrier_trust",
    "barrier_channels",
    "barrier_information",
    "barrier_sensitive",
    "barrier_duplication",
    "barrier_capacity",
    "barrier_families",
    "barrier_leaders",
    "barrier_youth",
    "barrier_tension",
    "barrier_progress",
)
"""The barrier statements, in survey order (some reversed: see the survey file)."""
RATINGS = (
    "done_inclusion",
    "done_realism",
    "done_analysis",
    "done_funding",
    "done_coordination",
)
"""How well each recommendation area is done today (1 very poorly … 5 very well, 0 don't know)."""


def answers(
    sector: str = "civil_society",
    level: str = "local",
    country: str | None = "jordan",
    scale: int | Mapping[str, int] = 4,
    priorities: tuple[str, ...] = ("inclusion", "coordination"),
    invitations: str = "yes",
    **more: AnswerValue,
) -> dict[str, AnswerValue]:
    """One respondent's answers; `scale` is every barrier's answer (as given, before any
    reverse coding), or an answer per barrier (3 for those not named)."""
    scores = {b: scale if isinstance(scale, int) else scale.get(b, 3) for b in BARRIERS}
    return {
        "sector": sector,
        "level": level,
        "country": country,
        "strategy": "national",
        "contact": "monthly",
        **scores,
        **dict.fromkeys(RATINGS, 3),
        "priorities": list(priorities),
        "invitations": invitations,
        **more,
    }


async def complete(
    service: SurveyService, user_id: int, given: Mapping[str, AnswerValue], language: str = "en"
) -> None:
    """Answer every question the survey asks this respondent; unlisted optional ones skipped."""
    await service.choose_language(user_id, language)
    screen = await service.consent(user_id, agreed=True)
    while isinstance(screen, AskQuestion):
        question = screen.question
        value = given.get(question.id)
        if value is None:
            recorded = await service.skip(user_id, question.id, None)
        elif question.type == QuestionType.MULTIPLE_CHOICE:
            assert isinstance(value, list)
            for option_id in value:
                await service.toggle_choice(user_id, question.id, option_id, None)
            recorded = await service.finish_choices(user_id, question.id, None)
        elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.AGREEMENT_SCALE):
            recorded = await service.answer_button(user_id, question.id, str(value), None)
        else:
            recorded = await service.answer_text(user_id, str(value), None)
        screen = recorded.then


def column_name(survey: Survey, question_id: str, language: str, option_id: str = "") -> str:
    """An export column's header: the question's short label or text, then the option."""
    question = survey.question(question_id)
    name = (question.short_label or question.text).get(language)
    option = question.option(option_id)
    return f"{name}: {option.label.get(language)}" if option else name

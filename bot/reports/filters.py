"""Reading a coordinator's filter ("country=jordan", "jordan", "الأردن") against the survey."""

from __future__ import annotations

from bot.core.i18n import N_, _, current_language
from bot.reports.errors import UnknownFilter
from bot.reports.model import DIMENSIONS, Filter
from bot.survey.model import LANGUAGES, Option, Question, ReportRole, Survey

DIMENSION_NAMES: dict[ReportRole, str] = {
    ReportRole.COUNTRY: N_("Country"),
    ReportRole.SECTOR: N_("Sector"),
    ReportRole.LEVEL: N_("Level"),
}


def dimension_question(survey: Survey, dimension: ReportRole) -> Question | None:
    found = survey.with_role(dimension)
    return found[0] if found else None


def all_filters(survey: Survey) -> list[Filter]:
    """Every filter the survey allows, in dimension order then option order."""
    return [
        Filter(dimension, option.id)
        for dimension in DIMENSIONS
        if (question := dimension_question(survey, dimension)) is not None
        for option in question.options
    ]


def filter_option(survey: Survey, only: Filter) -> Option:
    question = dimension_question(survey, only.dimension)
    option = question.option(only.option_id) if question else None
    if option is None:
        raise UnknownFilter(str(only))
    return option


def parse_filter(survey: Survey, text: str) -> Filter | None:
    """None for no text; otherwise the one filter the text names, by option id or label.

    `dimension=value` picks the dimension; a bare value must name one option only.
    """
    wanted = text.strip()
    if not wanted:
        return None
    dimension_name, separator, value = wanted.partition("=")
    if not separator:
        dimension_name, value = "", wanted
    key = value.strip().casefold()
    matches = [
        candidate
        for candidate in all_filters(survey)
        if dimension_name.strip().casefold() in ("", candidate.dimension.value)
        and key in _names(filter_option(survey, candidate))
    ]
    if len(matches) != 1:
        raise UnknownFilter(wanted)
    return matches[0]


def _names(option: Option) -> set[str]:
    return {option.id.casefold(), *(option.label.get(lang).casefold() for lang in LANGUAGES)}


def option_label(survey: Survey, only: Filter) -> str:
    return filter_option(survey, only).label.get(current_language())


def group_name(survey: Survey, only: Filter | None) -> str:
    if only is None:
        return _("all respondents")
    return f"{_(DIMENSION_NAMES[only.dimension])}: {option_label(survey, only)}"

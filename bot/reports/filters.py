"""Reading a coordinator's filter ("country=jordan", "jordan", "الأردن") against the survey."""

from __future__ import annotations

import re
from collections.abc import Sequence

from babel.lists import format_list

from bot.core.i18n import N_, _, current_language
from bot.reports.errors import UnknownFilter
from bot.reports.model import DIMENSIONS, EVERYWHERE, Filter, Scope
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


def parse_scope(survey: Survey, words: Sequence[str]) -> Scope:
    """A coordinator's scope from filters as `parse_filter` reads them, written one after
    the other (`country=jordan العراق sector=Local government`): any of one dimension's
    options, and all of the dimensions named. A label of several words is read whole (the
    longest that names an option)."""
    found: list[Filter] = []
    start = 0
    while start < len(words):
        for end in range(len(words), start, -1):
            try:
                only = parse_filter(survey, " ".join(words[start:end]))
            except UnknownFilter:
                if end == start + 1:
                    raise
                continue
            found += [only] if only else []
            start = end
            break
    return Scope(frozenset(found))


def scope_name(survey: Survey, scope: Scope) -> str:
    """The scope in words: "Country: Jordan or Iraq; Sector: Education"."""
    if scope.everyone:
        return _("all respondents")
    return "; ".join(
        f"{_(DIMENSION_NAMES[dimension])}: "
        + format_list(
            [
                option_label(survey, f)
                for f in all_filters(survey)
                if f.dimension == dimension and f.option_id in ids
            ],
            style="or",
            locale=current_language(),
        )
        for dimension, ids in scope.options().items()
    )


def group_name(survey: Survey, only: Filter | None, scope: Scope = EVERYWHERE) -> str:
    """A view's group in words; a scoped coordinator's views name their scope first."""
    name = _("all respondents") if only is None else (
        f"{_(DIMENSION_NAMES[only.dimension])}: {option_label(survey, only)}"
    )
    if scope.everyone:
        return name
    within = scope_name(survey, scope)
    return within if only is None else _("{group}, within {scope}", group=name, scope=within)


ROUND_WORD = re.compile(r"round=(\d+)", re.IGNORECASE)


def split_rounds(words: Sequence[str]) -> tuple[list[int], list[str]]:
    """The rounds named among a coordinator's words (`round=2`), and the other words."""
    rounds = [int(found.group(1)) for word in words if (found := ROUND_WORD.fullmatch(word))]
    return rounds, [word for word in words if not ROUND_WORD.fullmatch(word)]

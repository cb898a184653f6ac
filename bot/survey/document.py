"""A `Survey` written back as the document of a survey file (bot/survey/schema.py reads it).

Driven by the model's fields: every field of a question or an option that differs from its
default is written under the key the file uses for it, so a field added to the model needs
no change here unless the file names it differently (`KEYS`).
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from enum import Enum
from typing import Any, Final

import yaml

from bot.survey.model import LANGUAGES, Condition, Option, Question, QuestionType, Survey, Text

KEYS: Final = {"min_value": "min", "max_value": "max"}
"""Model fields that the file names differently."""


def document(survey: Survey) -> dict[str, Any]:
    """The survey as a mapping of plain values, in the file's format."""
    written: dict[str, Any] = {"id": survey.id, "version": survey.version}
    if survey.minutes is not None:
        written["minutes"] = survey.minutes
    written |= {
        "title": _plain(survey.title),
        "introduction": _plain(survey.introduction),
    }
    if survey.languages != LANGUAGES:
        written["languages"] = list(survey.languages)
    written["questions"] = [question_document(q) for q in survey.questions]
    return written


def question_document(question: Question) -> dict[str, Any]:
    written = _non_default(question)
    if question.type == QuestionType.MULTIPLE_CHOICE and (
        question.max_choices == len(question.options)
    ):
        written.pop("max_choices", None)
    return written


def dump_yaml(survey: Survey) -> str:
    """The survey as a YAML survey file."""
    return yaml.safe_dump(document(survey), allow_unicode=True, sort_keys=False, width=100)


def _non_default(item: Question | Option) -> dict[str, Any]:
    written: dict[str, Any] = {}
    for field in fields(item):
        value = getattr(item, field.name)
        default = field.default if field.default is not MISSING else None
        if value != default and value is not None and value != ():
            written[KEYS.get(field.name, field.name)] = _plain(value)
    return written


def _plain(value: object) -> Any:
    """A model value as YAML writes it: texts and conditions as mappings, enums as values."""
    match value:
        case Text():
            return {language: value.get(language) for language in LANGUAGES}
        case Condition(question=question, any_of=any_of):
            return {"question": question, "any_of": list(any_of)}
        case Option():
            return _non_default(value)
        case Enum():
            return value.value
        case tuple() if all(isinstance(pair, tuple) and len(pair) == 2 for pair in value):
            return {key: item for key, item in value} if value else {}
        case tuple():
            return [_plain(item) for item in value]
    return value

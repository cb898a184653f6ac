"""Any Hiwar survey written as an XLSForm workbook that ODK, KoBoToolbox and Hiwar can read.

Questions become survey rows and their options choice rows; Hiwar's limits that XLSForm has
no column for are also written as a constraint (so Collect enforces them), and every key of
the survey file without an XLSForm column goes in a `hiwar::` column (columns.py), so that
importing the workbook gives back the same survey.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, Final

from openpyxl import Workbook

from bot.survey.document import document
from bot.survey.engine import SCALE_VALUES
from bot.survey.model import QuestionType, ScaleLabels, Survey
from bot.survey.views import SCALE_LABELS
from bot.survey.xlsform.columns import (
    LANGUAGE_COLUMNS,
    NATIVE_OPTION_KEYS,
    NATIVE_QUESTION_KEYS,
    NATIVE_SURVEY_KEYS,
    condition_expression,
    extra_columns,
    limits_constraint,
)
from bot.survey.xlsform.importer import generated

AGREEMENT_LIST: Final = "hiwar_agreement"
_TYPES: Final = {
    QuestionType.FREE_TEXT: "text",
    QuestionType.DATE: "date",
    QuestionType.NOTE: "note",
    QuestionType.ACKNOWLEDGE: "acknowledge",
    QuestionType.CALCULATE: "calculate",
}
_TEXT_KEYS: Final = ("text", "hint", "constraint_message", "required_message")
_TEXT_COLUMNS: Final = {
    "text": "label",
    "hint": "hint",
    "constraint_message": "constraint_message",
    "required_message": "required_message",
}


def export_xlsform(survey: Survey) -> bytes:
    """The survey as an .xlsx XLSForm."""
    written = document(survey)
    survey_rows: list[dict[str, Any]] = []
    choice_rows: list[dict[str, Any]] = []
    for question in written["questions"]:
        survey_rows.append(_question_row(question, survey.languages))
        kind = question["type"]
        if kind == QuestionType.AGREEMENT_SCALE and not any(
            row["list_name"] == _scale_list(question) for row in choice_rows
        ):
            choice_rows += _scale_rows(question, survey.languages)
        for option in question.get("options", ()):
            row = {"list_name": question["id"], "name": option["id"]}
            row |= _texts({"label": option["label"]}, survey.languages, {"label": "label"})
            row |= option.get("filters", {})
            row |= extra_columns(option, NATIVE_OPTION_KEYS)
            choice_rows.append(row)
    settings = {
        "form_title": survey.title.get(survey.languages[-1]),
        "form_id": survey.id,
        "version": str(survey.version),
        "default_language": LANGUAGE_COLUMNS[survey.languages[-1]],
    }
    settings |= extra_columns(written, NATIVE_SURVEY_KEYS)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    for title, rows in (
        ("survey", survey_rows),
        ("choices", choice_rows),
        ("settings", [settings]),
    ):
        target = sheet if title == "survey" else workbook.create_sheet(title)
        headers = list(dict.fromkeys(key for row in rows for key in row))
        target.append(headers)
        for row in rows:
            target.append([row.get(header) for header in headers])
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def _question_row(question: dict[str, Any], languages: tuple[str, ...]) -> dict[str, Any]:
    kind = QuestionType(question["type"])
    row: dict[str, Any] = {"type": _type(question), "name": question["id"]}
    row |= _texts(question, languages, _TEXT_COLUMNS)
    if kind not in (QuestionType.NOTE, QuestionType.CALCULATE):
        row["required"] = "no" if question.get("optional") else "yes"
    if kind == QuestionType.AGREEMENT_SCALE:
        row["appearance"] = "likert"
    extras = dict(question)
    relevant = question.get("relevant")
    if "show_if" in question and relevant is None:
        relevant = condition_expression(extras.pop("show_if"))
    for key in ("relevant", "constraint", "default", "choice_filter", "calculation"):
        value = relevant if key == "relevant" else question.get(key)
        if key == "constraint" and value is None:
            value = limits_constraint(question)
        if value is not None:
            row[key] = value
    row |= extra_columns(extras, NATIVE_QUESTION_KEYS | set(_TEXT_KEYS))
    return row


def _type(question: dict[str, Any]) -> str:
    kind = QuestionType(question["type"])
    if kind == QuestionType.SINGLE_CHOICE:
        return f"select_one {question['id']}"
    if kind == QuestionType.MULTIPLE_CHOICE:
        return f"select_multiple {question['id']}"
    if kind == QuestionType.AGREEMENT_SCALE:
        return f"select_one {_scale_list(question)}"
    if kind == QuestionType.NUMBER:
        return "integer" if question.get("integer", True) else "decimal"
    return _TYPES[kind]


def _texts(
    item: dict[str, Any], languages: tuple[str, ...], columns: dict[str, str]
) -> dict[str, str]:
    return {
        f"{column}::{LANGUAGE_COLUMNS[language]}": item[key][language]
        for key, column in columns.items()
        if key in item
        for language in languages
    }


def _scale_list(question: dict[str, Any]) -> str:
    """The choice list of a scale question's buttons: one per kind of scale words, with or
    without "don't know" (0)."""
    scale = ScaleLabels(question.get("scale", ScaleLabels.AGREEMENT))
    name = AGREEMENT_LIST if scale == ScaleLabels.AGREEMENT else f"hiwar_{scale}"
    return f"{name}_dk" if question.get("dont_know") else name


def _scale_rows(question: dict[str, Any], languages: tuple[str, ...]) -> list[dict[str, Any]]:
    scale = ScaleLabels(question.get("scale", ScaleLabels.AGREEMENT))
    return [
        {"list_name": _scale_list(question), "name": str(value)}
        | {
            f"label::{LANGUAGE_COLUMNS[language]}": generated(language, label)
            for language in languages
        }
        for value, label in SCALE_LABELS[scale].items()
        if value in SCALE_VALUES or question.get("dont_know")
    ]

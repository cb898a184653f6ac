"""A survey from either kind of file: a YAML survey file, or an XLSForm workbook (.xlsx)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.i18n import Message
from bot.survey.document import document
from bot.survey.loader import SurveyFileError, load_survey, load_survey_bytes
from bot.survey.model import Survey
from bot.survey.xlsform import Imported, Problem, XlsFormError, import_xlsform
from bot.survey.xlsform.workbook import WorkbookRefused, read_workbook

XLSFORM_SUFFIXES = (".xlsx", ".xlsm")
YAML_SUFFIXES = (".yaml", ".yml")


def is_xlsform(path: str | Path) -> bool:
    return Path(path).suffix.lower() in XLSFORM_SUFFIXES


def import_file(path: str | Path) -> Imported:
    """Import an XLSForm file; raise `XlsFormError` when it cannot run as a survey."""
    try:
        data = read_workbook(Path(path))
    except WorkbookRefused as refusal:
        raise XlsFormError(str(path), [Problem(None, None, refusal.reason, True)]) from None
    return import_xlsform(data, str(path))


def read_survey(path: str | Path) -> Survey:
    """The survey a file describes; raise `SurveyFileError` listing every problem (for an
    XLSForm, what Hiwar cannot run without; what it leaves out is not an error)."""
    if not is_xlsform(path):
        return load_survey(path)
    try:
        return import_file(path).survey
    except XlsFormError as error:
        raise SurveyFileError(path, _fatal(error)) from None


def _fatal(error: XlsFormError) -> list[Message]:
    return [problem.located for problem in error.problems if problem.fatal]


@dataclass(frozen=True, slots=True)
class Checked:
    """A survey file that can be published: the survey, its file mapping, what was left out."""

    survey: Survey
    document: dict[str, Any]
    left_out: tuple[Message, ...]


def check_upload(file_name: str, data: bytes) -> Checked:
    """Check the bytes of a survey file sent to the bot; raise `SurveyFileError` listing
    every problem (a row or a line each)."""
    suffix = Path(file_name).suffix.lower()
    if suffix in YAML_SUFFIXES:
        survey = load_survey_bytes(data, file_name)
        return Checked(survey, document(survey), ())
    if suffix not in XLSFORM_SUFFIXES:
        problem = Message("not a survey file: send a survey file (.yaml) or an XLSForm (.xlsx)")
        raise SurveyFileError(file_name, [problem])
    try:
        imported = import_xlsform(data, file_name)
    except XlsFormError as error:
        raise SurveyFileError(file_name, _fatal(error)) from None
    left_out = tuple(problem.located for problem in imported.problems)
    return Checked(imported.survey, document(imported.survey), left_out)

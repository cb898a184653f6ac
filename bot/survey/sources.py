"""A survey from either kind of file: a YAML survey file, or an XLSForm workbook (.xlsx)."""

from __future__ import annotations

from pathlib import Path

from bot.survey.loader import SurveyFileError, load_survey
from bot.survey.model import Survey
from bot.survey.xlsform import Imported, Problem, XlsFormError, import_xlsform
from bot.survey.xlsform.workbook import WorkbookRefused, read_workbook

XLSFORM_SUFFIXES = (".xlsx", ".xlsm")


def is_xlsform(path: str | Path) -> bool:
    return Path(path).suffix.lower() in XLSFORM_SUFFIXES


def import_file(path: str | Path) -> Imported:
    """Import an XLSForm file; raise `XlsFormError` when it cannot run as a survey."""
    try:
        data = read_workbook(Path(path))
    except WorkbookRefused as refusal:
        raise XlsFormError(str(path), [Problem(None, None, str(refusal), True)]) from None
    return import_xlsform(data, str(path))


def read_survey(path: str | Path) -> Survey:
    """The survey a file describes; raise `SurveyFileError` listing every problem (for an
    XLSForm, what Hiwar cannot run without; what it leaves out is not an error)."""
    if not is_xlsform(path):
        return load_survey(path)
    try:
        return import_file(path).survey
    except XlsFormError as error:
        fatal = [str(problem) for problem in error.problems if problem.fatal]
        raise SurveyFileError(path, fatal) from None

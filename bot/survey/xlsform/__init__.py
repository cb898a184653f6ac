"""XLSForm, the humanitarian standard for questionnaires, in and out of Hiwar."""

from bot.survey.xlsform.exporter import export_xlsform
from bot.survey.xlsform.importer import Imported, Problem, XlsFormError, import_xlsform

__all__ = ["Imported", "Problem", "XlsFormError", "export_xlsform", "import_xlsform"]

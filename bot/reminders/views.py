"""What a reminder says: where the person stopped, a button to continue, and how to stop."""

from __future__ import annotations

from bot.core.i18n import _, _n
from bot.core.views import Button, View
from bot.reminders.model import Reminder
from bot.survey.views import Resume


def reminder(row: Reminder) -> View:
    """The reminder; Continue is the survey's own (it asks the current question again)."""
    where = _n(
        "A reminder: you have answered {count} of {total} questions of the survey. Your "
        "answers are kept, and you can continue where you stopped.",
        "A reminder: you have answered {count} of {total} questions of the survey. Your "
        "answers are kept, and you can continue where you stopped.",
        row.answered,
        total=row.total,
    )
    stop = _("To receive no more reminders, send STOP.")
    return View.of(f"{where}\n\n{stop}", [[Button(_("Continue the survey"), Resume(False))]])

"""The shared errors explained in the current language (see handlers/base/errors.py)."""

from __future__ import annotations

from bot.core.errors import (
    DuplicateUpdate,
    ErrorTable,
    Explanation,
    NotACoordinator,
    NotAnAdmin,
    StaleButton,
)
from bot.core.i18n import _

ERRORS: ErrorTable = {
    NotAnAdmin: Explanation(lambda _e: _("This command is for administrators.")),
    NotACoordinator: Explanation(
        lambda _e: _(
            "This command is for the coordinators of this consultation. If you coordinate "
            "it, ask an administrator for an invitation link."
        )
    ),
    StaleButton: Explanation(
        lambda _e: _("That button is out of date, so nothing was changed."), refresh=True
    ),
    # Telegram re-delivers updates that a crashed instance applied but had not confirmed;
    # the reply may never have gone out, so show where the person is now, quietly.
    DuplicateUpdate: Explanation(lambda _e: None, refresh=True),
}

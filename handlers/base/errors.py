"""Domain errors explained in one place, and the handler of everything else.

Each feature contributes a table from its errors to an `Explanation` (bot/*/messages.py);
`explain` looks an error up by its class (and then its bases), shows the text, as an alert
over the chat for a tap and as a message otherwise, and refreshes the screen when the table
says so. `on_error` handles bugs: it logs (never message contents), then apologises in the
person's private chat, and never fails itself.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.errors import ErrorTable, Explanation, HiwarError
from bot.core.i18n import _
from bot.core.messages import ERRORS as CORE_ERRORS
from bot.core.views import View
from handlers.base.feature import Feature
from handlers.base.present import Ui

log = logging.getLogger(__name__)

Refresh = Callable[[Ui], Awaitable[None]]


def error_table(features: Iterable[Feature]) -> dict[type[HiwarError], Explanation]:
    table: dict[type[HiwarError], Explanation] = dict(CORE_ERRORS)
    for feature in features:
        for kind, explanation in feature.errors.items():
            if kind in table:
                raise ValueError(f"{kind.__name__} is explained twice ({feature.name})")
            table[kind] = explanation
    return table


def _apology() -> str:
    return _(
        "Sorry, something went wrong on our side. Your earlier answers are safe; "
        "please try again in a moment."
    )


def explanation_for(table: ErrorTable, error: HiwarError) -> Explanation:
    for kind in type(error).__mro__:
        if kind in table:
            return table[kind]
    return Explanation(lambda _error: _apology())


async def explain(ui: Ui, table: ErrorTable, error: HiwarError, refresh: Refresh | None) -> None:
    """Tell the person why their input was not taken; never changes anything stored."""
    explanation = explanation_for(table, error)
    text = explanation.text(error)
    if ui.is_tap:
        if explanation.refresh and refresh is not None:
            await refresh(ui)
        if text:
            ui.toast(text, alert=explanation.alert)
        return
    if text:
        await ui.show(View(text, html=False))
    if explanation.refresh and refresh is not None:
        await refresh(ui)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first, then apologise in private. The log has the update id, the error's type and
    where it happened, never its message: messages can quote what a person typed."""
    error = context.error
    log.error(
        "update_failed",
        extra={
            "update_id": update.update_id if isinstance(update, Update) else None,
            "error": type(error).__name__,
            "where": "".join(traceback.format_tb(error.__traceback__)) if error else "",
        },
    )
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await context.bot.send_message(chat.id, _apology())
    except TelegramError as error:
        log.info("apology_not_sent", extra={"reason": error.message})

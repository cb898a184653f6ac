"""What runs before any feature sees an update: the language, and the private-chat guard."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.core.i18n import _, pick_language, set_language
from handlers.base.context import services
from handlers.base.present import Context

log = logging.getLogger(__name__)

LOCALE_GROUP, GUARD_GROUP = -20, -10
"""Handler groups: the locale first, then the guard; features use -5 (flows that must see
typed text before the survey does) and 0."""


async def choose_locale(update: Update, context: Context) -> None:
    """The language for this update, chosen once: the person's stored choice wins over
    Telegram's client language. It lives in a ContextVar of this update's own task (PTB
    runs each update in a task of its own), so it ends with the update."""
    user = update.effective_user
    stored = await services(context).survey.language_of(user.id) if user is not None else None
    set_language(pick_language(stored, user.language_code if user is not None else None))


async def private_only(update: Update, context: Context) -> None:
    """Outside a private chat nothing about anyone is ever sent: a command gets at most the
    pointer to the private chat, and the update stops here even if that reply fails."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return
    try:
        message = update.message
        if chat is not None and message is not None and (message.text or "").startswith("/"):
            await context.bot.send_message(
                chat.id,
                _(
                    "To keep your answers private, please talk to me in a private chat: {link}",
                    link=f"https://t.me/{context.bot.username}",
                ),
            )
        elif update.callback_query is not None:
            await update.callback_query.answer()
    except TelegramError as error:
        log.info("group_pointer_not_sent", extra={"reason": error.message})
    finally:
        raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, choose_locale), group=LOCALE_GROUP)
    application.add_handler(TypeHandler(Update, private_only), group=GUARD_GROUP)

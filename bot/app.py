"""Application wiring: open resources once, register handlers and menus, run, close once."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder

from bot.config import Settings
from bot.i18n import LANGUAGES, _, use_language
from bot.survey.model import Survey
from bot.survey.service import SurveyService
from handlers import survey as survey_handlers
from handlers.context import SERVICES_KEY, Services
from handlers.errors import on_error
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

HANDLER_MODULES = (survey_handlers,)
"""Each feature's handlers module exposes `register(application)`. Handler groups:
-20 picks the locale, -10 keeps group chats out, -5 is for feature flows that must see typed
text before the survey does (they raise ApplicationHandlerStop when they took the update),
0 holds commands and buttons. The respondents' module stays last: its catch-all command and
text handlers in group 0 would otherwise shadow the other features' commands."""


def build_application(settings: Settings, token: str, services: Services) -> Application:
    application = ApplicationBuilder().token(token).base_url(settings.api_base_url).build()
    application.bot_data[SERVICES_KEY] = services
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(on_error)
    return application


async def register_command_menus(application: Application) -> None:
    """One command menu per language, plus the English one as the default."""
    for language in (None, *LANGUAGES):
        with use_language(language or "en"):
            commands = [
                BotCommand(name, _(description))
                for name, description in survey_handlers.COMMANDS.items()
            ]
        await application.bot.set_my_commands(commands, language_code=language)


@asynccontextmanager
async def running_bot(
    settings: Settings, survey: Survey, token: str, *, poll_timeout: int = 10
) -> AsyncIterator[Application]:
    """The bot, polling for updates, until the block exits; then a clean shutdown."""
    store = await SqliteStore.open(settings.db_path)
    try:
        services = Services(settings=settings, store=store, survey=SurveyService(store, survey))
        application = build_application(settings, token, services)
        async with application:
            await register_command_menus(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
            )
            log.info("bot_started username=%s", application.bot.username)
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        await store.close()
        log.info("bot_stopped")


async def serve_until_signalled(settings: Settings, survey: Survey, token: str) -> None:
    """`hiwar run`: poll until SIGTERM or Ctrl-C, then finish in-flight work and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_bot(settings, survey, token):
        await stop.wait()

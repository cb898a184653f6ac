"""Application wiring: open resources once, register handlers and menus, run, close once."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder

from bot.config import Settings
from bot.http import AiohttpRequest
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, use_language
from bot.inbox import DurableUpdateQueue
from bot.invitations.service import InvitationService
from bot.invitations.telegram import start_delivery
from bot.ordering import PerUserOrderedProcessor
from bot.reports.service import ReportService
from bot.survey.model import Survey
from bot.survey.service import SurveyService
from handlers import coordinator as coordinator_handlers
from handlers import invitations as invitation_handlers
from handlers import survey as survey_handlers
from handlers.context import SERVICES_KEY, Services
from handlers.errors import on_error
from storage import open_storage

log = logging.getLogger(__name__)

HANDLER_MODULES = (coordinator_handlers, invitation_handlers, survey_handlers)
"""Each feature's handlers module exposes `register(application)`. Handler groups:
-20 picks the locale, -10 keeps group chats out, -5 is for feature flows that must see typed
text before the survey does (they raise ApplicationHandlerStop when they took the update),
0 holds commands and buttons. The respondents' module stays last: its catch-all command and
text handlers in group 0 would otherwise shadow the other features' commands."""


def build_application(
    settings: Settings, token: str, services: Services, updates: DurableUpdateQueue
) -> Application:
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.api_base_url)
        .request(AiohttpRequest(connection_pool_size=settings.concurrent_updates))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .update_queue(updates)
        .concurrent_updates(
            PerUserOrderedProcessor(
                settings.concurrent_updates,
                on_done=updates.mark_done,
                # Shared database: one user's updates are ordered across all instances.
                turns=updates.take_turn if services.storage.shared else None,
            )
        )
        .build()
    )
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
                for name, description in {
                    **survey_handlers.COMMANDS,
                    **invitation_handlers.COMMANDS,
                }.items()
            ]
        await application.bot.set_my_commands(commands, language_code=language)


async def start_receiving(application: Application, settings: Settings, poll_timeout: int) -> None:
    """Long polling, or a webhook (whose secret PTB checks on every request) when configured."""
    updater = application.updater
    assert updater is not None
    if settings.webhook_url:
        await updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        await updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
    log.info(
        "bot_started",
        extra={
            "mode": "webhook" if settings.webhook_url else "polling",
            "username": application.bot.username,
        },
    )


@asynccontextmanager
async def running_bot(
    settings: Settings, survey: Survey, token: str, *, poll_timeout: int = 10
) -> AsyncIterator[Application]:
    """The bot, polling for updates, until the block exits; then a clean shutdown."""
    storage = await open_storage(settings.database, default_language=DEFAULT_LANGUAGE)
    try:
        services = Services(
            settings=settings,
            storage=storage,
            survey=SurveyService(storage.respondents, storage.inbox, storage, survey),
            invitations=InvitationService(
                storage.invitations,
                survey,
                settings.admin_ids,
                timedelta(hours=settings.reminder_hours),
            ),
            reports=await ReportService.start(
                storage.reports, survey, settings.admin_ids, settings.min_cell_size
            ),
        )
        updates = DurableUpdateQueue(storage.inbox)
        application = build_application(settings, token, services, updates)
        async with application:
            await register_command_menus(application)
            await application.start()
            await updates.replay_pending(application.bot)
            await start_receiving(application, settings, poll_timeout)
            broadcaster = await start_delivery(
                application, storage.invitations, settings.broadcast_rate
            )
            if storage.shared:  # other instances may die: take over what they leave behind
                updates.start_adopting(application.bot)
            try:
                yield application
            finally:
                assert application.updater is not None
                await application.updater.stop()
                await updates.stop_adopting()
                await broadcaster.stop()
                await application.stop()
    finally:
        await storage.close()
        log.info("bot_stopped")


async def serve_until_signalled(settings: Settings, survey: Survey, token: str) -> int:
    """`hiwar run`: poll until SIGTERM or Ctrl-C, then finish in-flight work and stop.

    Returns the exit status: 1 when this instance lost its place among the instances sharing
    the database (its connection dropped; the others may be taking over its work), so that a
    supervisor starts a fresh one; 0 otherwise.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_bot(settings, survey, token) as application:
        lost = application.bot_data[SERVICES_KEY].storage.instances.lost
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        log.info("shutdown_requested", extra={"instance_lost": lost.is_set()})
    return 1 if lost.is_set() else 0

"""Application wiring: open resources once, register handlers and menus, run, close once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import health
from bot.config import Settings
from bot.core.access import Access, Role
from bot.core.clock import utc_now
from bot.core.i18n import DEFAULT_LANGUAGE
from bot.faults import EXIT_CODE, Faults
from bot.http import AiohttpRequest, PollingRequest
from bot.inbox import PRUNE_EVERY, DurableUpdateQueue
from bot.invitations.service import InvitationService
from bot.ordering import PerUserOrderedProcessor
from bot.reminders.schedule import QuietHours, Schedule
from bot.reminders.service import ReminderService
from bot.reports.service import ReportService
from bot.survey.document import document
from bot.survey.model import Survey
from bot.survey.publishing import Publishing
from bot.survey.rounds import Rounds
from bot.survey.service import SurveyService
from handlers import invitations, publishing, reports, rounds, survey
from handlers.base import middleware
from handlers.base.context import SERVICES_KEY, Services
from handlers.base.errors import error_table, on_error
from handlers.base.feature import Feature
from handlers.base.menus import set_menus, set_role_menu, unknown_commands
from handlers.outbox import start_delivery
from storage import Storage, open_storage

log = logging.getLogger(__name__)

REQUESTS = "requests"
"""bot_data key of the bot's HTTP clients (closed by hand if Telegram cannot be reached)."""
SURVEY_REFRESH_SECONDS = 10
HANDLED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
"""The only kinds of update Telegram sends us: nothing else is asked for, nor stored."""
FAULTS = "faults"
INSTANCE_LOST = "instance_lost"
"""bot_data key of the event set when this instance lost its place (see serve_until_signalled)."""

FEATURES: tuple[Feature, ...] = (
    reports.FEATURE,
    invitations.FEATURE,
    publishing.FEATURE,
    rounds.FEATURE,
    survey.FEATURE,
)
"""Every feature: its commands, its error table and its handlers. Handler groups: -20 picks
the locale, -10 keeps group chats out (handlers/base/middleware.py), -6 takes STOP before any
flow could read it as an answer (handlers/invitations.py), -5 is for flows that
must see typed text before the survey does (they stop the update when they took it), 0
holds commands, buttons (each kind its own pattern) and messages."""


def build_application(
    settings: Settings,
    token: str,
    services: Services,
    updates: DurableUpdateQueue,
    shared: bool,
) -> Application:
    """`shared`: other instances use the same database (one user's updates are then ordered
    across all of them)."""
    requests = (AiohttpRequest(settings.concurrent_updates), PollingRequest(updates.quarantine))
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .request(requests[0])
        .get_updates_request(requests[1])
        .update_queue(updates)
        .concurrent_updates(
            PerUserOrderedProcessor(
                settings.concurrent_updates,
                on_done=updates.mark_done,
                # Shared database: one user's updates are ordered across all instances.
                turns=updates.take_turn if shared else None,
            )
        )
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[REQUESTS] = requests
    middleware.register(application)
    for feature in services.features:
        feature.register(application)
    application.add_handler(unknown_commands(services.features))
    application.add_error_handler(on_error)
    return application


async def register_command_menus(application: Application, services: Services) -> None:
    """Everyone's menu, one per language; the admins' and coordinators' in their chats."""
    await set_menus(application.bot, services.features)
    for admin in sorted(services.access.admins):
        await set_role_menu(application.bot, services.features, admin, Role.ADMIN)
    for coordinator in await services.reports.coordinator_ids():
        await set_role_menu(application.bot, services.features, coordinator, Role.COORDINATOR)


class StartupError(Exception):
    """Telegram cannot be used: a refused token, an unreachable Bot API (one line to print)."""


async def reach_telegram(application: Application, settings: Settings) -> None:
    """Initialise PTB (it asks Telegram who the bot is); a refusal becomes one clear line.

    PTB's shutdown does nothing for a bot whose initialisation failed, so the HTTP
    connections it opened are closed here."""
    try:
        await application.initialize()
    except (InvalidToken, NetworkError) as error:
        for request in application.bot_data.pop(REQUESTS):
            await request.shutdown()
        raise _startup_error(error, settings) from None


def _startup_error(error: TelegramError, settings: Settings) -> StartupError:
    match error:
        case InvalidToken():
            return StartupError(
                "Telegram refused the bot token; check HIWAR_BOT_TOKEN (it is not printed here)"
            )
    return StartupError(
        f"cannot reach the Telegram Bot API at {settings.api_base_url}: {error.message}"
    )


async def stop_each(*steps: Callable[[], Awaitable[object]]) -> None:
    """Run every step of a shutdown, even after one failed (with a broken database, a step
    that writes fails; PTB must still be stopped, or the process cannot end)."""
    for step in steps:
        try:
            await step()
        except Exception as error:
            log.error(
                "shutdown_step_failed",
                extra={"step": getattr(step, "__qualname__", ""), "error": type(error).__name__},
            )


def keep_beating(
    application: Application, storage: Storage, faults: Faults, polling: PollingRequest | None
) -> None:
    """Every few seconds: a heartbeat, with when Telegram last answered a poll (bot/health.py)."""

    async def beat(_context: object) -> None:
        heard = polling.heard_at if polling is not None else None
        with contextlib.suppress(Exception):  # a failure is the fault policy's to act on
            await faults.retrying("heartbeat", lambda: storage.instances.beat(utc_now(), heard))

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        beat, interval=health.BEAT_EVERY, first=0.1, name="heartbeat"
    )


def keep_survey_current(application: Application, respondents: SurveyService) -> None:
    """Every few seconds: take up a survey another instance published."""

    async def refresh(_context: object) -> None:
        with contextlib.suppress(Exception):  # a failure is the fault policy's to act on
            await respondents.refresh()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        refresh, interval=SURVEY_REFRESH_SECONDS, first=SURVEY_REFRESH_SECONDS, name="survey"
    )


def keep_pruning(application: Application, updates: DurableUpdateQueue) -> None:
    """Hourly: the ids of updates Telegram can no longer deliver again are forgotten."""

    async def prune(_context: object) -> None:
        await updates.prune()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        prune, interval=PRUNE_EVERY, first=PRUNE_EVERY, name="inbox-pruning"
    )


PUBLISH_CHECK_EVERY = timedelta(minutes=1)
"""How often each instance checks whether a report snapshot is due (a cheap count)."""


def keep_publishing(application: Application, reports: ReportService) -> None:
    """Snapshots come out when due even if no coordinator asks (views also check first)."""

    async def publish(_context: object) -> None:
        await reports.publish_if_due()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        publish, interval=PUBLISH_CHECK_EVERY, first=PUBLISH_CHECK_EVERY, name="snapshots"
    )


def reminder_schedule(settings: Settings) -> Schedule:
    """When people who did not finish are reminded (HIWAR_REMINDERS, HIWAR_QUIET_HOURS)."""
    quiet = QuietHours(*settings.quiet_hours) if settings.quiet_hours else None
    return Schedule(settings.survey_reminders, ZoneInfo(settings.time_zone), quiet)


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
            allowed_updates=HANDLED_UPDATES,
        )
    else:
        await updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=HANDLED_UPDATES
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
        access = Access(storage.reports, storage.reports, settings.admin_ids)
        # The survey file the bot starts with counts as published, once; new respondents
        # get the survey published last (from the chat, maybe, before a restart).
        await storage.surveys.publish_directly(
            document(survey), settings.survey_path.name, utc_now()
        )
        respondents = SurveyService(
            storage.respondents,
            storage.inbox,
            storage,
            survey,
            catalog=storage.surveys,
            require_link=settings.require_link,
            rounds=storage.rounds,
        )
        await respondents.refresh()
        services = Services(
            settings=settings,
            access=access,
            survey=respondents,
            publishing=Publishing(storage.surveys, access, respondents, storage),
            rounds=Rounds(storage.rounds, access, respondents, storage),
            invitations=InvitationService(
                storage.invitations, survey, access, timedelta(hours=settings.reminder_hours)
            ),
            reports=await ReportService.start(
                storage.reports,
                respondents.survey,
                access,
                settings.min_cell_size,
                snapshot_interval=timedelta(hours=settings.snapshot_hours),
                invited_only=settings.invited_only,
            ),
            cards=storage.cards,
            features=FEATURES,
            errors=error_table(FEATURES),
        )
        respondents.follow(services.reports.follow)  # reports follow the survey asked
        faults = Faults(storage.database.failure)
        updates = DurableUpdateQueue(storage.inbox, faults)
        application = build_application(settings, token, services, updates, storage.shared)
        application.bot_data[INSTANCE_LOST] = storage.instances.lost
        application.bot_data[FAULTS] = faults

        async def observe(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            faults.observe(context.error)

        application.add_error_handler(observe)
        await reach_telegram(application, settings)
        try:
            await register_command_menus(application, services)
            await application.start()
            await updates.replay_pending(application.bot)
            keep_pruning(application, updates)
            keep_publishing(application, services.reports)
            polling = None if settings.webhook_url else application.bot_data[REQUESTS][1]
            keep_beating(application, storage, faults, polling)
            keep_survey_current(application, respondents)
            health_server = (
                await health.serve(storage.instances, utc_now, settings.health_port)
                if settings.health_port
                else None
            )
            await start_receiving(application, settings, poll_timeout)
            broadcaster = await start_delivery(
                application,
                storage.invitations,
                settings.broadcast_rate,
                faults.observe,
                ReminderService(storage.reminders, respondents, reminder_schedule(settings)),
            )
            if storage.shared:  # other instances may die: take over what they leave behind
                updates.start_adopting(application.bot)
            try:
                yield application
            finally:
                assert application.updater is not None
                await stop_each(
                    application.updater.stop,
                    updates.stop_adopting,
                    broadcaster.stop,
                    application.stop,
                    *([health_server.cleanup] if health_server else []),
                )
        finally:
            await application.shutdown()
            log.info("bot_stopped")
    finally:
        await storage.close()


async def serve_until_signalled(settings: Settings, survey: Survey, token: str) -> int:
    """`hiwar run`: poll until SIGTERM or Ctrl-C, then finish in-flight work and stop.

    Returns the exit status: 3 when the database became unusable (bot/faults.py), 1 when
    this instance lost its place among the instances sharing the database (its connection
    dropped; the others may be taking over its work), so that a supervisor starts a fresh
    one; 0 otherwise.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_bot(settings, survey, token) as application:
        lost = application.bot_data[INSTANCE_LOST]
        fatal = application.bot_data[FAULTS].fatal
        waits = [asyncio.create_task(event.wait()) for event in (stop, lost, fatal)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        log.info(
            "shutdown_requested",
            extra={"instance_lost": lost.is_set(), "database_unusable": fatal.is_set()},
        )
    if fatal.is_set():
        return EXIT_CODE
    return 1 if lost.is_set() else 0

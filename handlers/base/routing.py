"""Registering feature handlers: each gets a `Ui` and the services, domain errors are
explained through the one table, and taps are answered last, whatever happened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.callbacks import CallbackData
from bot.core.errors import HiwarError
from handlers.base.context import Services, services
from handlers.base.errors import explain
from handlers.base.present import Context, Ui

Handler = Callable[[Ui, Services], Awaitable[None]]
Refresher = Callable[[Ui, Services], Awaitable[None]]
PtbCallback = Callable[[Update, Context], Awaitable[None]]


def wrap(handler: Handler, refresh: Refresher | None = None, *, stop: bool = False) -> PtbCallback:
    """`handler` as a PTB callback. `refresh` brings the person's screen up to date when an
    error's explanation asks for it; `stop` ends the update's handling here, whatever the
    outcome (for flows that take an update before the survey would)."""

    async def callback(update: Update, context: Context) -> None:
        found = services(context)
        ui = Ui(update, context, found.cards)

        async def refreshing(ui: Ui) -> None:
            if refresh is not None:
                await refresh(ui, found)

        try:
            await handler(ui, found)
        except HiwarError as error:
            await explain(ui, found.errors, error, refreshing if refresh else None)
        finally:
            await ui.finish()
        if stop:
            raise ApplicationHandlerStop

    callback.__doc__ = handler.__doc__
    callback.__name__ = handler.__name__
    return callback


def command(
    name: str, handler: Handler, on: filters.BaseFilter | None = None, *, stop: bool = False
) -> CommandHandler:
    """/name (groups are turned away earlier, see handlers/base/middleware.py)."""
    return CommandHandler(name, wrap(handler, stop=stop), on)


def button(kind: type[CallbackData], handler: Handler, refresh: Refresher | None = None) -> CallbackQueryHandler:
    """Taps on buttons of one kind only (its own pattern; no catch-all)."""
    return CallbackQueryHandler(wrap(handler, refresh), pattern=kind.pattern())


def message(on: filters.BaseFilter, handler: Handler, refresh: Refresher | None = None, *, stop: bool = False) -> MessageHandler:
    return MessageHandler(on, wrap(handler, refresh, stop=stop))

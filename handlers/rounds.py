"""Admins opening and closing rounds of the survey: parse, call Rounds (bot/survey/rounds.py),
present (bot/survey/rounds_views.py)."""

from __future__ import annotations

from telegram.ext import Application

from bot.survey import rounds_views as views
from bot.survey.commands import ROUNDS_COMMANDS
from bot.survey.messages import ROUNDS_ERRORS
from handlers.base.context import Services
from handlers.base.feature import Feature
from handlers.base.present import Ui
from handlers.base.routing import button, command


async def rounds(ui: Ui, services: Services) -> None:
    """/rounds (the list), /rounds open <title>, /rounds close."""
    verb, title = (ui.args[0].lower(), " ".join(ui.args[1:])) if ui.args else ("", "")
    if verb == "open":
        await ui.show(views.opened(await services.rounds.open(ui.actor, title)))
    elif verb == "close":
        await ui.show(views.closed(await services.rounds.close(ui.actor)))
    else:
        await ui.show(views.overview(await services.rounds.overview(ui.actor)))


async def close_button(ui: Ui, services: Services) -> None:
    """Close under the /rounds list: that round, if it is still the open one."""
    closed = await services.rounds.close(ui.actor, ui.data(views.CloseRound).round)
    await ui.show(views.closed(closed), edit=True)


def register(application: Application) -> None:
    application.add_handler(command("rounds", rounds))
    application.add_handler(button(views.CloseRound, close_button))


FEATURE = Feature("rounds", ROUNDS_COMMANDS, ROUNDS_ERRORS, register)

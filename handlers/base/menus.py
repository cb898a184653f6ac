"""Command menus per language and per role, and /help, all from the features' command lists.

Everyone gets the respondents' menu (one per language, English as the default). Admins, and
coordinators when they get the role, get a menu of their own in their private chat (chat
scope), which is removed when the role is revoked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import MessageHandler, filters

from bot.core.access import Role
from bot.core.commands import Command, command_line, visible
from bot.core.i18n import LANGUAGES, _, use_language
from bot.core.views import View
from handlers.base.context import Services
from handlers.base.feature import Feature, all_commands
from handlers.base.present import Ui
from handlers.base.routing import wrap


def _menu(commands: Iterable[Command]) -> list[BotCommand]:
    return [BotCommand(command.name, _(command.help)) for command in commands]


async def set_menus(
    bot: Bot, features: Iterable[Feature], chat_id: int | None = None, role: Role | None = None
) -> None:
    """The menu for everyone (`chat_id` None), or for one chat's role (None removes it)."""
    commands = visible(all_commands(features), role)
    scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
    for language in (None, *LANGUAGES):
        if chat_id is not None and role is None:
            await bot.delete_my_commands(scope=scope, language_code=language)
            continue
        with use_language(language or "en"):
            await bot.set_my_commands(_menu(commands), scope=scope, language_code=language)


async def set_role_menu(
    bot: Bot, features: Iterable[Feature], chat_id: int, role: Role | None
) -> None:
    """Best effort: a menu that cannot be set is not worth failing the action for."""
    try:
        await set_menus(bot, features, chat_id, role)
    except TelegramError:
        return


def help_lines(features: Iterable[Feature], role: Role | None) -> list[str]:
    lines = [
        _(
            "Hiwar asks people working on preventing violent extremism how national and local "
            "actors can cooperate better. Your answers are only ever shown as totals."
        ),
        "",
    ]
    lines += [command_line(command) for command in visible(all_commands(features), role)]
    return lines


async def help_command(ui: Ui, services: Services) -> None:
    """/help: what the bot is for, and the commands this person may use."""
    role = await services.access.role_of(ui.user_id)
    await ui.show(View("\n".join(help_lines(services.features, role)), html=False))


async def unknown_command(ui: Ui, services: Services) -> None:
    """A command no feature has."""
    await ui.show(
        View(_("I do not know that command. Send /help to see what I can do."), html=False)
    )


def unknown_commands(features: Iterable[Feature]) -> MessageHandler:
    """The handler of commands that no feature has (so no feature depends on the order in
    which handlers are registered)."""
    names = "|".join(re.escape(command.name) for command in all_commands(features))
    known = filters.Regex(rf"^/({names})(@\w+)?(\s|$)")
    return MessageHandler(filters.COMMAND & ~known, wrap(unknown_command))

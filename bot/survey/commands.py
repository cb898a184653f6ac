"""The respondents' commands, with their help text (menus and /help are built from these)."""

from __future__ import annotations

from bot.core.access import Role
from bot.core.commands import Command
from bot.core.i18n import N_

COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Start or continue the survey")),
    Command("language", N_("Change the language")),
    Command("back", N_("Change your previous answer")),
    Command("skip", N_("Skip an optional question")),
    Command("cancel", N_("Pause; your answers are kept")),
    Command("mydata", N_("See what is stored about you")),
    Command("delete", N_("Erase all your data")),
    Command("help", N_("What this bot does and its commands")),
)

PUBLISHING_COMMANDS: tuple[Command, ...] = (
    Command(
        "surveys",
        N_("The survey versions and their responses; send a survey file to publish one"),
        Role.ADMIN,
    ),
)

ROUNDS_COMMANDS: tuple[Command, ...] = (
    Command(
        "rounds",
        N_("Rounds of the survey: list them, open one (/rounds open and a title), close it"),
        Role.ADMIN,
    ),
)
